//! The baseline: a bare jsonrpsee server (the same jsonrpsee as credplane, same runtime flavour)
//! whose `check` and `diff` answer a fixed reply of the same shape and size as credplane's. The
//! difference between the two is what credplane's own work costs per request.

use jsonrpsee::RpcModule;
use jsonrpsee::server::Server;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The reply credplane gives to [`crate::load::check_params`]: the inputs back, no failures.
fn check_reply() -> Value {
    json!({"inputs": crate::load::kms_inputs(), "failures": []})
}

/// The reply credplane gives to [`crate::load::diff_params`].
fn diff_reply() -> Value {
    json!({"changes": true, "replaces": [], "stables": ["secret_name"], "deleteBeforeReplace": false,
        "detailedDiff": {"secret_data": {"kind": "update"}, "version_id": {"kind": "update"}}})
}

/// Serves until killed; prints `listening on <addr>` on stdout once bound.
pub async fn run(addr: SocketAddr) -> std::io::Result<()> {
    let mut module = RpcModule::new(());
    let (check, diff) = (check_reply(), diff_reply());
    module
        .register_method("check", move |_, _, _| check.clone())
        .expect("unique method name");
    module
        .register_method("diff", move |_, _, _| diff.clone())
        .expect("unique method name");
    let server = Server::builder().build(addr).await?;
    println!("listening on {}", server.local_addr()?);
    let handle = server.start(module);
    handle.stopped().await;
    Ok(())
}
