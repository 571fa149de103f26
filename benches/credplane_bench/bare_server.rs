//! The baseline: a bare jsonrpsee server (the same jsonrpsee as credplane, same runtime flavour)
//! whose `check` and `diff` answer a fixed reply. The throughput figures give it the very result
//! credplane answered to the same request (`--check-reply`, `--diff-reply`), so both servers
//! read and write the same bytes, and the difference between them is what credplane's own work
//! costs per request.

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

/// Serves until killed, answering `check` and `diff` with the given results (or a reply of the
/// usual shape); prints `listening on <addr>` on stdout once bound.
pub async fn run(addr: SocketAddr, check: Option<Value>, diff: Option<Value>) -> std::io::Result<()> {
    let mut module = RpcModule::new(());
    let (check, diff) = (check.unwrap_or_else(check_reply), diff.unwrap_or_else(diff_reply));
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
