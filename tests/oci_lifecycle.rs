//! OCI credential lifecycles against the sandbox's lifecycle knobs: delete waits for DELETED
//! (bounded by the delete timeout), and the create-and-wait path reports `state`,
//! `inactive_state` and `time_expires` as the service does.

mod sandbox_env;

use credplane::protocol::ErrorCode;
use credplane::provider::error::ProviderError;
use credplane::sandbox::oci::ALICE;
use sandbox_env::Env;
use serde_json::{Value, json};

const AUTH: &str = "oci_identity_auth_token";
const CSK: &str = "oci_identity_customer_secret_key";

fn state_of(state: &Value, id: &str) -> Value {
    state["oci-identity"]["credentials"][id]["lifecycle_state"].clone()
}

#[tokio::test]
async fn oci_delete_waits_for_deleted() {
    let env = Env::start().await;
    for (ty, inputs) in [
        (AUTH, json!({"user_id": ALICE, "description": "ci"})),
        (CSK, json!({"user_id": ALICE, "display_name": "s3"})),
    ] {
        let created = env.create(ty, inputs).await.unwrap();
        let outputs = Value::Object(created.outputs);
        // The service keeps the credential DELETING through three lists.
        env.faults(json!({"oci_transition_reads": 3})).await;
        env.delete(ty, &created.id, &outputs).await.unwrap();
        assert_eq!(state_of(&env.state().await, &created.id), json!("DELETED"), "{ty}");
        env.faults(json!({})).await;
    }
}

#[tokio::test]
async fn oci_delete_wait_is_bounded_by_the_delete_timeout() {
    let env = Env::start().await;
    let created = env
        .create(AUTH, json!({"user_id": ALICE, "description": "stuck"}))
        .await
        .unwrap();
    env.faults(json!({"oci_transition_reads": 1_000_000})).await;
    let req = json!({"type": AUTH, "id": created.id, "outputs": created.outputs, "timeoutSeconds": 1.0});
    let err = env
        .provider
        .delete(serde_json::from_value(req).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.to_wire().0, ErrorCode::Timeout, "{err}");
    assert_eq!(state_of(&env.state().await, &created.id), json!("DELETING"));
}

#[tokio::test]
async fn oci_create_reports_the_services_expiry_and_inactive_state() {
    let env = Env::start().await;
    // Settles ACTIVE after a few lists, with the expiry the service sets.
    env.faults(json!({"oci_transition_reads": 2, "oci_expires_in_seconds": 86400}))
        .await;
    let created = env
        .create(AUTH, json!({"user_id": ALICE, "description": "expiring"}))
        .await
        .unwrap();
    let cloud = env.state().await["oci-identity"]["credentials"][&created.id].clone();
    assert_eq!(created.outputs["state"], json!("ACTIVE"));
    let expires = created.outputs["time_expires"].as_str().expect("time_expires reported");
    let service = chrono::DateTime::parse_from_rfc3339(cloud["time_expires"].as_str().unwrap()).unwrap();
    assert_eq!(chrono::DateTime::parse_from_rfc3339(expires).unwrap(), service);

    // Settles INACTIVE (blocked): a partial result at once, with the service's inactive_state,
    // not a wait until the create timeout.
    env.faults(json!({"oci_inactive_status": 4})).await;
    let req = json!({"type": CSK, "inputs": {"user_id": ALICE, "display_name": "blocked"}, "timeoutSeconds": 30.0});
    let err = env
        .provider
        .create(serde_json::from_value(req).unwrap())
        .await
        .unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::PartiallyCreated, "{err}");
    assert!(matches!(err, ProviderError::PartiallyCreated { .. }));
    let outputs = data.outputs.unwrap();
    assert_eq!(outputs["state"], json!("INACTIVE"));
    assert_eq!(outputs["inactive_state"], json!("4"));
    assert_eq!(
        outputs["key"]["$credplane"],
        json!("secret"),
        "the secret, shown only now, is kept"
    );
    assert!(err.to_string().contains("INACTIVE"), "{err}");
}
