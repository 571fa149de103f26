//! Import round trips for all five types: `read` with only the type and id (an import), then
//! `diff` against the same program's inputs, as `check` normalizes them, shows no change, and
//! `check` with the imported inputs as olds refuses nothing. Every argument is set.

mod gpg;
mod sandbox_env;

use credplane::sandbox::oci::ALICE;
use gpg::GpgHome;
use sandbox_env::{Env, secret};
use serde_json::{Value, json};

/// Creates `program`, imports it by `import_id` (the created id when `None`), and checks that the
/// import diffs clean against the program.
async fn round_trip(env: &Env, ty: &str, program: Value, import_id: impl FnOnce(&str) -> String) {
    let checked = env.check(ty, None, program.clone());
    assert!(checked.failures.is_empty(), "{ty}: {:?}", checked.failures);
    let created = env.create(ty, Value::Object(checked.inputs.clone())).await.unwrap();
    let id = import_id(&created.id);
    let imported = env.read(ty, &id, None, None).await.expect("the import finds it");
    assert_eq!(imported.id, created.id, "{ty}");
    let news = env.check(ty, Some(&Value::Object(imported.inputs.clone())), program);
    assert!(
        news.failures.is_empty(),
        "{ty}: check after import: {:?}",
        news.failures
    );
    let diff = env
        .diff(
            ty,
            &imported.id,
            &Value::Object(imported.outputs),
            &Value::Object(news.inputs),
        )
        .await;
    assert!(!diff.changes, "{ty}: import then diff: {:?}", diff.detailed_diff);
}

fn same(id: &str) -> String {
    id.to_string()
}

#[tokio::test]
async fn kms_secret_with_every_argument() {
    let env = Env::start().await;
    let program = json!({
        "secret_name": "every",
        "secret_data": secret(r#"{"UserName":"root","Password":"pw-1"}"#),
        "version_id": "v1",
        "secret_type": "ECS",
        "secret_data_type": "text",
        "description": "all of it",
        "encryption_key_id": "key-hzz661646aeygbqrfqg5j",
        "dkms_instance_id": "kst-hzz61dbabacquz826y29f",
        // Not in the order KMS answers it: compared as JSON.
        "extended_config": r#"{"SecretSubType": "Password", "InstanceId": "i-bp1fr0a100hd0yf6ksq3", "RegionId": "cn-hangzhou"}"#,
        "extended_config_custom_data": {"team": "db"},
        "enable_automatic_rotation": true,
        "rotation_interval": "604800s",
        "policy": r#"{"Version":"1","Statement":[{"Sid":"alice reads","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:user/alice"]},"Action":["kms:GetSecretValue"],"Resource":["*"]}]}"#,
        "policy_name": "default",
        "recovery_window_in_days": 7,
        "force_delete_without_recovery": true,
        "version_stages": ["ACSCurrent", "release"],
        "move_to_version": "v1",
        "remove_from_version": "v1",
        "tags": {"env": "test", "owner": "alice"},
    });
    round_trip(&env, "alicloud_kms_secret", program, same).await;

    // A Generic secret: binary data, the default policy spelled out, no rotation.
    let program = json!({
        "secret_name": "generic",
        "secret_data": secret("Ynl0ZXM="),
        "version_id": "v1",
        "secret_data_type": "binary",
        "dkms_instance_id": "kst-hzz61dbabacquz826y29f",
        "policy": r#"{"Version":"1","Statement":[{"Action":["kms:*"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:*"]},"Sid":"kms default secret policy"}]}"#,
        "recovery_window_in_days": 30,
        "force_delete_without_recovery": false,
    });
    round_trip(&env, "alicloud_kms_secret", program, same).await;
}

#[tokio::test]
async fn ram_access_key_with_every_argument() {
    let env = Env::start().await;
    let gpg = GpgHome::generate("future-default", None);
    let dir = tempfile::tempdir().unwrap();
    let program = json!({
        "user_name": "alice",
        "status": "Inactive",
        "secret_file": dir.path().join("key.json").to_str().unwrap(),
        "pgp_key": gpg.export_base64(),
    });
    round_trip(&env, "alicloud_ram_access_key", program, |id| format!("alice:{id}")).await;
}

#[tokio::test]
async fn aws_access_key_with_every_argument() {
    let env = Env::start().await;
    let gpg = GpgHome::generate("future-default", None);
    let program = json!({
        "user": "alice",
        "status": "Inactive",
        "pgp_key": gpg.export_base64(),
        "ses_region": "eu-west-1",
    });
    round_trip(&env, "aws_iam_access_key", program, same).await;
}

#[tokio::test]
async fn oci_credentials_with_every_argument() {
    let env = Env::start().await;
    let import = |segment: &'static str| move |id: &str| format!("users/{ALICE}/{segment}/{id}");
    let program = json!({"user_id": ALICE, "description": "ci token"});
    round_trip(&env, "oci_identity_auth_token", program, import("authTokens")).await;
    let program = json!({"user_id": ALICE, "display_name": "s3 key"});
    round_trip(
        &env,
        "oci_identity_customer_secret_key",
        program,
        import("customerSecretKeys"),
    )
    .await;
}
