//! alicloud_kms_secret updates against the in-process sandbox: a multi-call update that fails
//! midway answers a partial result with the outputs as they now are; removing `policy` restores
//! the default policy, and `read` reports a policy changed behind the program's back.

mod sandbox_env;

use credplane::protocol::ErrorCode;
use credplane::provider::error::ProviderError;
use sandbox_env::{Env, secret};
use serde_json::{Value, json};

const KMS: &str = "alicloud_kms_secret";

/// KMS's default secret policy for the sandbox's account, as SetSecretPolicy documents it.
const DEFAULT_POLICY: &str = r#"{"Version":"1","Statement":[{"Sid":"kms default secret policy","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:*"]},"Action":["kms:*"],"Resource":["*"]}]}"#;
const ALICE_READS: &str = r#"{"Version":"1","Statement":[{"Action":["kms:GetSecretValue"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:user/alice"]},"Sid":"alice reads"}]}"#;
const BOB_READS: &str = r#"{"Version":"1","Statement":[{"Action":["kms:GetSecretValue"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:user/bob"]},"Sid":"bob reads"}]}"#;

fn parsed(text: &Value) -> Value {
    serde_json::from_str(text.as_str().expect("a JSON text")).unwrap()
}

fn program(name: &str) -> Value {
    json!({
        "secret_name": name,
        "secret_data": secret("value-1"),
        "version_id": "v1",
        "description": "first",
        "dkms_instance_id": "kst-hzz61dbabacquz826y29f",
        "policy": ALICE_READS,
        "tags": {"env": "test", "team": "db"},
    })
}

#[tokio::test]
async fn kms_update_failing_midway_answers_the_outputs_as_they_now_are() {
    // One attempt per call, so that one injected 5xx fails the call.
    let env = Env::start_with(json!({"common": {"max_attempts": 1}})).await;
    let inputs = Value::Object(env.check(KMS, None, program("half")).inputs);
    let outputs = Value::Object(env.create(KMS, inputs.clone()).await.unwrap().outputs);

    // New value, description, policy and tags: PutSecretValue, UpdateSecret, then SetSecretPolicy
    // fails, so the tag calls never run.
    let mut news = inputs.clone();
    news["secret_data"] = secret("value-2");
    news["version_id"] = json!("v2");
    news["description"] = json!("second");
    news["policy"] = json!(BOB_READS);
    news["tags"] = json!({"env": "prod"});
    news["recovery_window_in_days"] = json!(7);
    let news = Value::Object(env.check(KMS, Some(&inputs), news).inputs);
    env.faults(json!({"next_errors": 1, "actions": ["SetSecretPolicy"]}))
        .await;
    let err = env.update(KMS, "half", &outputs, &news).await.unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::PartiallyCreated, "{err}");
    assert_eq!(data.id.as_deref(), Some("half"));
    let now = data.outputs.expect("the outputs as they now are");
    assert_eq!(now["version_id"], json!("v2"));
    assert_eq!(now["secret_data"]["$credplane"], json!("secret"), "still a secret");
    assert_eq!(now["secret_data"]["value"], json!("value-2"));
    assert_eq!(now["description"], json!("second"));
    assert_eq!(
        now["policy"],
        json!(ALICE_READS),
        "SetSecretPolicy failed: the old policy holds"
    );
    assert_eq!(now["tags"], json!({"env": "test", "team": "db"}), "never reached");
    assert_eq!(
        now["recovery_window_in_days"],
        json!(7),
        "a delete-time setting is recorded"
    );
    assert!(err.to_string().contains("updated"), "{err}");

    // The partial outputs are the truth: the cloud agrees, and a retry from them finishes the rest.
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["half"];
    assert_eq!(cloud["description"], json!("second"));
    assert_eq!(parsed(&cloud["policies"]["default"]), parsed(&json!(ALICE_READS)));
    let refreshed = env.read(KMS, "half", Some(&news), Some(&now)).await.unwrap();
    for field in ["version_id", "description", "policy", "tags"] {
        assert_eq!(refreshed.outputs[field], now[field], "{field}");
    }
    let done = env.update(KMS, "half", &now, &news).await.unwrap();
    assert_eq!(done["policy"], json!(BOB_READS));
    assert_eq!(done["tags"], json!({"env": "prod"}));
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["half"];
    assert_eq!(cloud["tags"], json!({"env": "prod"}));
    assert_eq!(cloud["versions"].as_array().unwrap().len(), 2, "v2 stored once");

    // A first call that fails changed nothing: a plain cloud error, not a partial result.
    let mut again = news.clone();
    again["description"] = json!("third");
    env.faults(json!({"next_errors": 1, "actions": ["UpdateSecret"]})).await;
    let err = env.update(KMS, "half", &done, &again).await.unwrap_err();
    assert!(matches!(err, ProviderError::Cloud(_)), "{err:?}");
}

#[tokio::test]
async fn kms_removing_policy_restores_the_default_and_read_reports_policy_drift() {
    let env = Env::start().await;
    let inputs = Value::Object(env.check(KMS, None, program("guarded")).inputs);
    let outputs = Value::Object(env.create(KMS, inputs.clone()).await.unwrap().outputs);
    let policy_in_cloud =
        async || parsed(&env.state().await["alicloud-kms"]["secrets"]["guarded"]["policies"]["default"]);
    assert_eq!(policy_in_cloud().await, parsed(&json!(ALICE_READS)));

    // The program drops `policy`: a change, and the update puts KMS's default policy back.
    let mut news = inputs.clone();
    news.as_object_mut().unwrap().remove("policy");
    let news = Value::Object(env.check(KMS, Some(&inputs), news).inputs);
    let diff = env.diff(KMS, "guarded", &outputs, &news).await;
    assert!(diff.detailed_diff.contains_key("policy"), "{:?}", diff.detailed_diff);
    let updated = env.update(KMS, "guarded", &outputs, &news).await.unwrap();
    assert!(updated.get("policy").is_none(), "{updated}");
    assert_eq!(policy_in_cloud().await, parsed(&json!(DEFAULT_POLICY)));
    let read = env.read(KMS, "guarded", Some(&news), Some(&updated)).await.unwrap();
    assert!(read.outputs.get("policy").is_none(), "the default reads as no policy");
    assert!(
        !env.diff(KMS, "guarded", &Value::Object(read.outputs), &news)
            .await
            .changes
    );

    // A policy set behind the program's back is drift that `read` reports and the diff shows.
    env.kms(
        "SetSecretPolicy",
        &[
            ("SecretName", "guarded"),
            ("Policy", BOB_READS),
            ("PolicyName", "default"),
        ],
    )
    .await;
    let read = env.read(KMS, "guarded", Some(&news), Some(&updated)).await.unwrap();
    assert_eq!(read.outputs["policy"], json!(BOB_READS));
    let drifted = Value::Object(read.outputs);
    let diff = env.diff(KMS, "guarded", &drifted, &news).await;
    assert!(diff.detailed_diff.contains_key("policy"), "{:?}", diff.detailed_diff);
    env.update(KMS, "guarded", &drifted, &news).await.unwrap();
    assert_eq!(policy_in_cloud().await, parsed(&json!(DEFAULT_POLICY)));

    // A managed policy changed behind the program's back shows too.
    let managed = Value::Object(env.check(KMS, None, program("managed")).inputs);
    let managed_out = Value::Object(env.create(KMS, managed.clone()).await.unwrap().outputs);
    env.kms("SetSecretPolicy", &[("SecretName", "managed"), ("Policy", BOB_READS)])
        .await;
    let read = env
        .read(KMS, "managed", Some(&managed), Some(&managed_out))
        .await
        .unwrap();
    assert_eq!(read.outputs["policy"], json!(BOB_READS));
}
