//! The engine's import option adopts a resource whose program sets inputs no cloud call reports
//! back (a KMS secret's delete-time settings): the import succeeds, the state records the
//! program's values, and a later destroy honours them.

mod sandbox_env;

use credplane::rpc;
use sandbox_env::{Env, secret};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

async fn call(module: &rpc::Service, method: &str, params: Value) -> Result<Value, Value> {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let text = rpc::stdio::handle_message(module, &request.to_string()).await.unwrap();
    let reply: Value = serde_json::from_str(&text).unwrap();
    match reply.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(reply["result"].clone()),
    }
}

/// One engine run: open, register `resources` one by one, close.
async fn run(module: &rpc::Service, backend: &Path, action: &str, resources: &[Value]) -> Result<Value, Value> {
    let open = json!({"stack": "t", "action": action, "backend": backend, "passphrase": "pw"});
    let deployment = call(module, "engine.open", open).await?["deployment"].clone();
    for resource in resources {
        let mut params = resource.clone();
        params["deployment"] = deployment.clone();
        call(module, "engine.register", params).await?;
    }
    call(module, "engine.close", json!({"deployment": deployment})).await
}

#[tokio::test]
async fn import_takes_the_delete_time_settings_from_the_program() {
    let env = Env::start().await;
    let made = json!({"secret_name": "adopted", "secret_data": secret("d"), "version_id": "v1"});
    env.create("alicloud_kms_secret", made).await.unwrap();

    let module = rpc::module(Arc::new(sandbox_env::provider_for(&env.sandbox, json!({}))));
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let program = json!({"type": "alicloud_kms_secret", "name": "s", "options": {"import": "adopted"}, "inputs": {
        "secret_name": "adopted", "secret_data": secret("d"), "version_id": "v1",
        "recovery_window_in_days": 7, "force_delete_without_recovery": true}});
    let imported = run(&module, &state, "up", std::slice::from_ref(&program))
        .await
        .expect("the import is accepted");
    assert_eq!(imported["steps"][0]["op"], json!("import"), "{imported}");
    let again = run(&module, &state, "up", &[program]).await.unwrap();
    assert_eq!(again["steps"][0]["op"], json!("same"), "{again}");

    // The recorded force_delete_without_recovery is honoured: the secret is gone at once.
    run(&module, &state, "destroy", &[]).await.unwrap();
    let cloud = env.state().await;
    assert!(cloud["alicloud-kms"]["secrets"].get("adopted").is_none(), "{cloud}");
}
