//! `aws_iam_access_key` end to end against the in-process IAM sandbox.

mod aws_common;
mod gpg;

use aws_common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use credplane::sandbox::{SandboxHandle, SandboxOptions, start};
use gpg::GpgHome;
use serde_json::{Value, json};

async fn sandbox() -> (SandboxHandle, Admin) {
    let handle = start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .expect("sandbox starts");
    let fixtures: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/fixtures", handle.url))
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = &fixtures["aws-iam"]["admin"];
    let admin = Admin {
        endpoint: format!("{}/", handle.url),
        access_key_id: admin["access_key_id"].as_str().expect("fixture admin key").to_string(),
        secret: admin["secret_access_key"]
            .as_str()
            .expect("fixture admin secret")
            .to_string(),
    };
    // The provider settings the sandbox hands out are the fixture admin's.
    let settings = Value::Object(handle.provider_settings());
    assert_eq!(settings["aws"]["access_key_id"], admin.access_key_id.as_str());
    (handle, admin)
}

async fn put_faults(sandbox: &SandboxHandle, faults: Value) {
    let resp = reqwest::Client::new()
        .put(format!("{}/_sandbox/faults", sandbox.url))
        .bearer_auth(sandbox.admin_token())
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

/// The access key ids of `user` in the sandbox state.
async fn state_keys(sandbox: &SandboxHandle, user: &str) -> Vec<String> {
    let state: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/state", sandbox.url))
        .bearer_auth(sandbox.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["aws-iam"]["users"][user]["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no user {user} in {state}"))
        .iter()
        .map(|k| k["access_key_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lifecycle_third_key_and_missing_user() {
    let (_handle, admin) = sandbox().await;
    lifecycle_scenario(&admin, "bob").await;
}

#[tokio::test]
async fn wrong_secret_gets_signature_does_not_match() {
    let (handle, admin) = sandbox().await;
    wrong_secret_scenario(&admin, "alice").await;
    // Unknown key id: InvalidClientTokenId, as IAM answers.
    let (status, body) = iam_call(&admin.endpoint, "AKIAAAAAAAAAAAAAAAAA", "x", "ListUsers", &[]).await;
    assert_eq!(
        (status, xml_text(&body, "Code").as_deref()),
        (403, Some("InvalidClientTokenId")),
        "{body}"
    );
    assert!(state_keys(&handle, "alice").await.is_empty());
}

#[tokio::test]
async fn throttling_is_retried_to_success() {
    let (handle, admin) = sandbox().await;
    put_faults(&handle, json!({"next_throttles": 2, "actions": ["CreateAccessKey"]})).await;
    let p = provider(admin.settings());
    let created = create(&p, json!({"user": "alice"}), None)
        .await
        .expect("create succeeds after two throttles");
    let faults: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/faults", handle.url))
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["next_throttles"], 0, "both throttles were consumed");
    assert_eq!(state_keys(&handle, "alice").await, vec![created.id]);
}

#[tokio::test]
async fn server_errors_on_a_raw_call_have_the_iam_shape() {
    let (handle, admin) = sandbox().await;
    put_faults(
        &handle,
        json!({"next_errors": 1, "next_throttles": 1, "actions": ["ListUsers"]}),
    )
    .await;
    let (status, body) = admin.call("ListUsers", &[]).await;
    assert_eq!(
        (status, xml_text(&body, "Code").as_deref()),
        (400, Some("Throttling")),
        "{body}"
    );
    let (status, body) = admin.call("ListUsers", &[]).await;
    assert_eq!(
        (status, xml_text(&body, "Code").as_deref()),
        (500, Some("ServiceFailure")),
        "{body}"
    );
    let (status, body) = admin.call("ListUsers", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<UserName>alice</UserName>"));
}

async fn faults(sandbox: &SandboxHandle) -> Value {
    reqwest::Client::new()
        .get(format!("{}/_sandbox/faults", sandbox.url))
        .bearer_auth(sandbox.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_create_is_one_cloud_call() {
    let (handle, admin) = sandbox().await;
    // A ListAccessKeys would fail (one attempt per call) and consume the fault.
    put_faults(&handle, json!({"next_errors": 1, "actions": ["ListAccessKeys"]})).await;
    let mut settings = admin.settings();
    settings["common"] = json!({"max_attempts": 1});
    let p = provider(settings);
    let created = create(&p, json!({"user": "alice"}), None).await.expect("created");
    assert_eq!(faults(&handle).await["next_errors"], 1, "no ListAccessKeys was sent");
    assert_eq!(state_keys(&handle, "alice").await, vec![created.id]);
}

#[tokio::test]
async fn a_lost_reply_adopts_the_one_key_it_made() {
    let (handle, admin) = sandbox().await;
    put_faults(&handle, json!({"next_drops": 2, "actions": ["CreateAccessKey"]})).await;
    let p = provider(admin.settings());
    let err = create(&p, json!({"user": "alice"}), None)
        .await
        .expect_err("the reply was lost");
    let (code, data) = err.to_wire();
    assert_eq!(code, credplane::protocol::ErrorCode::PartiallyCreated, "{err}");
    // Exactly one key exists, and it is the one reported: nothing orphaned, nothing deleted.
    let keys = state_keys(&handle, "alice").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(data.id.as_deref(), Some(keys[0].as_str()));
    let outputs = data.outputs.expect("outputs");
    assert_eq!(outputs["secrets_available"], false);
    assert!(outputs.get("secret").is_none(), "its secret was lost with the reply");
    assert!(data.message.contains("lost"), "{}", data.message);
    assert_eq!(
        faults(&handle).await["next_drops"],
        1,
        "no second CreateAccessKey was sent"
    );
}

#[tokio::test]
async fn a_lost_reply_never_deletes_a_key_another_client_created_meanwhile() {
    let (handle, admin) = sandbox().await;
    // Both creates are in flight together; the provider's arrives first and loses its reply.
    // Its ListAccessKeys is slow too, so that it sees the other client's key.
    put_faults(
        &handle,
        json!({"next_drops": 1, "latency_ms": 400, "actions": ["CreateAccessKey", "ListAccessKeys"]}),
    )
    .await;
    let p = provider(admin.settings());
    let ours = tokio::spawn(async move { create(&p, json!({"user": "alice"}), None).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (status, body) = admin.call("CreateAccessKey", &[("UserName", "alice")]).await;
    assert_eq!(status, 200, "{body}");
    let theirs = xml_text(&body, "AccessKeyId").expect("the other client's key");
    let err = ours.await.unwrap().expect_err("the reply was lost");
    let (code, data) = err.to_wire();
    assert_eq!(code, credplane::protocol::ErrorCode::PartiallyCreated, "{err}");
    assert!(data.id.is_none(), "neither key can be proven ours: {data:?}");
    assert!(data.may_exist);
    let mut keys = state_keys(&handle, "alice").await;
    assert_eq!(keys.len(), 2, "nothing was deleted: {keys:?}");
    assert!(keys.contains(&theirs), "the other client's key survives");
    let mut candidates = data.candidates.clone();
    candidates.sort();
    keys.sort();
    assert_eq!(candidates, keys, "both are reported by id");
}

#[tokio::test]
async fn inactive_at_create() {
    let (handle, admin) = sandbox().await;
    let p = provider(admin.settings());
    let created = create(&p, json!({"user": "alice", "status": "Inactive"}), None)
        .await
        .expect("create");
    assert_eq!(created.outputs["status"], "Inactive");
    let state: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/state", handle.url))
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["aws-iam"]["users"]["alice"]["keys"][0]["status"], "Inactive");
}

#[tokio::test]
async fn bad_pgp_key_fails_before_a_key_is_minted() {
    let (handle, admin) = sandbox().await;
    let p = provider(admin.settings());
    let err = create(&p, json!({"user": "alice", "pgp_key": "bm90IGEga2V5"}), None)
        .await
        .expect_err("bad key");
    assert!(
        matches!(err, credplane::provider::error::ProviderError::InvalidParams(_)),
        "{err:?}"
    );
    assert!(state_keys(&handle, "alice").await.is_empty());
}

// ---- pgp_key with a gpg-generated Curve25519 key ----

#[tokio::test]
async fn pgp_key_encrypts_a_working_secret() {
    // future-default: Ed25519 primary + Cv25519 encryption subkey.
    let gpg = GpgHome::generate("future-default", None);
    let public = gpg.export_base64();
    let (handle, admin) = sandbox().await;
    let p = provider(admin.settings());
    let created = create(&p, json!({"user": "alice", "pgp_key": public}), None)
        .await
        .expect("create with pgp_key");
    let outputs = &created.outputs;
    for absent in ["secret", "ses_smtp_password_v4"] {
        assert!(outputs.get(absent).is_none(), "no plaintext {absent} with pgp_key");
    }
    assert_eq!(outputs["key_fingerprint"], gpg.fingerprint.as_str());
    let encrypted = secret_value(&outputs["encrypted_secret"]);
    let secret = String::from_utf8(gpg.decrypt(&STANDARD.decode(encrypted).unwrap())).unwrap();
    assert_eq!(secret.len(), 40);
    let ses = String::from_utf8(
        gpg.decrypt(
            &STANDARD
                .decode(secret_value(&outputs["encrypted_ses_smtp_password_v4"]))
                .unwrap(),
        ),
    )
    .unwrap();
    assert_eq!(ses, credplane::secrets::ses::ses_smtp_password_v4(&secret, "us-east-1"));
    // The decrypted secret signs requests the sandbox accepts, as alice.
    let (status, body) = iam_call(&admin.endpoint, &created.id, &secret, "GetUser", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(xml_text(&body, "UserName").as_deref(), Some("alice"));
    assert_eq!(state_keys(&handle, "alice").await, vec![created.id]);
}

#[tokio::test]
async fn failed_deactivation_is_partially_created() {
    let (handle, admin) = sandbox().await;
    let mut settings = admin.settings();
    settings["common"] = json!({"max_attempts": 1});
    let p = provider(settings);
    put_faults(&handle, json!({"next_errors": 1, "actions": ["UpdateAccessKey"]})).await;
    let err = create(&p, json!({"user": "alice", "status": "Inactive"}), None)
        .await
        .expect_err("UpdateAccessKey fails");
    let (code, data) = err.to_wire();
    assert_eq!(code, credplane::protocol::ErrorCode::PartiallyCreated, "{err:?}");
    let keys = state_keys(&handle, "alice").await;
    assert_eq!(data.id.as_deref(), Some(keys[0].as_str()));
    let outputs = data.outputs.expect("outputs of the key that exists");
    assert_eq!(
        outputs["status"], "Active",
        "the key is Active: a later update must deactivate it"
    );
    assert_eq!(secret_value(&outputs["secret"]).len(), 40);
    assert!(
        !err.to_string().contains(&secret_value(&outputs["secret"])),
        "no secret in the message"
    );
}

#[tokio::test]
async fn ses_region_derives_the_password_for_that_region() {
    use credplane::secrets::ses::ses_smtp_password_v4;
    let (_handle, admin) = sandbox().await;
    let p = provider(admin.settings());
    let created = create(&p, json!({"user": "alice", "ses_region": "eu-west-1"}), None)
        .await
        .expect("create");
    let outputs = Value::Object(created.outputs);
    let secret = secret_value(&outputs["secret"]);
    let ses = secret_value(&outputs["ses_smtp_password_v4"]);
    assert_eq!(ses, ses_smtp_password_v4(&secret, "eu-west-1"));
    assert_ne!(
        ses,
        ses_smtp_password_v4(&secret, "us-east-1"),
        "not the provider's region"
    );
    assert_eq!(outputs["ses_region"], "eu-west-1");

    // In place: derived again from the held secret; unset, the provider's region.
    let moved = update(
        &p,
        &created.id,
        &outputs,
        json!({"user": "alice", "ses_region": "ap-south-1"}),
    )
    .await
    .unwrap();
    assert_eq!(
        secret_value(&moved["ses_smtp_password_v4"]),
        ses_smtp_password_v4(&secret, "ap-south-1")
    );
    let back = update(&p, &created.id, &moved, json!({"user": "alice"})).await.unwrap();
    assert_eq!(
        secret_value(&back["ses_smtp_password_v4"]),
        ses_smtp_password_v4(&secret, "us-east-1")
    );

    // A bad region is refused in check; with pgp_key a change of region is refused in check.
    let check = |olds: Option<Value>, news: Value| {
        let req = json!({"type": TYPE, "olds": olds, "news": news});
        p.check(serde_json::from_value(req).unwrap()).unwrap().failures
    };
    let failures = check(None, json!({"user": "alice", "ses_region": "Europe"}));
    assert!(failures.iter().any(|f| f.property == "ses_region"), "{failures:?}");
    let pgp = "keybase:someone";
    let failures = check(
        Some(json!({"user": "alice", "pgp_key": pgp, "ses_region": "eu-west-1"})),
        json!({"user": "alice", "pgp_key": pgp, "ses_region": "eu-west-2"}),
    );
    assert!(
        failures
            .iter()
            .any(|f| f.property == "ses_region" && f.reason.contains("pgp_key")),
        "{failures:?}"
    );
}

#[tokio::test]
async fn import_then_diff_against_user_and_status_is_clean() {
    let (_handle, admin) = sandbox().await;
    let p = provider(admin.settings());
    let program = json!({"user": "alice", "status": "Inactive"});
    let created = create(&p, program.clone(), None).await.expect("create");
    let imported = read(&p, &created.id, None, None).await.unwrap().expect("found");
    assert_eq!(imported.inputs["user"], "alice");
    let req = json!({"type": TYPE, "news": program});
    let news = p.check(serde_json::from_value(req).unwrap()).unwrap();
    assert!(news.failures.is_empty(), "{:?}", news.failures);
    let req = json!({"type": TYPE, "id": created.id, "olds": imported.outputs, "news": news.inputs});
    let diff = p.diff(serde_json::from_value(req).unwrap()).await.unwrap();
    assert!(!diff.changes, "import then diff: {:?}", diff.detailed_diff);
}
