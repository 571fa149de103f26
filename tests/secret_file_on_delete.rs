//! Issue 10 item 11: deleting an `alicloud_ram_access_key` removes its `secret_file`; a
//! `secret_file` that is a symlink is refused before any key is minted.

use credplane::provider::Provider;
use credplane::sandbox::SandboxOptions;
use serde_json::{Value, json};

const RAM: &str = "alicloud_ram_access_key";

async fn provider() -> (credplane::sandbox::SandboxHandle, Provider) {
    let sandbox = credplane::sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    (sandbox, Provider::new(settings))
}

#[tokio::test]
async fn delete_removes_the_secret_file() {
    let (_sandbox, provider) = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.json");
    let inputs = json!({"user_name": "alice", "secret_file": file.to_str().unwrap()});
    let created = provider
        .create(serde_json::from_value(json!({"type": RAM, "inputs": inputs})).unwrap())
        .await
        .unwrap();
    assert!(file.exists());
    let delete = json!({"type": RAM, "id": created.id, "outputs": created.outputs});
    provider
        .delete(serde_json::from_value(delete.clone()).unwrap())
        .await
        .unwrap();
    assert!(!file.exists(), "the file holding the deleted key's secret is removed");
    // Deleting again (already gone, file gone) still succeeds.
    provider.delete(serde_json::from_value(delete).unwrap()).await.unwrap();
}

#[tokio::test]
async fn a_symlinked_secret_file_is_refused_before_minting() {
    let (_sandbox, provider) = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, b"").unwrap();
    let link = dir.path().join("alice.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let inputs = json!({"user_name": "alice", "secret_file": link.to_str().unwrap()});
    let err = provider
        .create(serde_json::from_value(json!({"type": RAM, "inputs": inputs})).unwrap())
        .await
        .expect_err("a symlink is refused");
    let (code, data) = err.to_wire();
    // An invalid-params error: raised by the checks that run before the cloud is called.
    assert_eq!(code.code(), -32602, "{}", data.message);
    assert!(data.message.contains("symbolic link"), "{}", data.message);
}
