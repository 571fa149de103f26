//! The dispatcher calls the method table's handlers directly (no jsonrpsee round trip) for a
//! plain request: its replies must be exactly what jsonrpsee's registration of the same table
//! answers, for results and for errors, for provider and engine methods, sync and async.

use credplane::provider::Provider;
use credplane::rpc;
use serde_json::{Value, json};
use std::sync::Arc;

fn kms_inputs() -> Value {
    json!({"secret_name": "app/db", "version_id": "v1", "secret_data": "s3cr3t", "tags": {"env": "prod"}})
}

#[tokio::test]
async fn direct_replies_equal_jsonrpsee_replies() {
    let service = rpc::module(Arc::new(Provider::default()));
    let requests = [
        // Sync result, and a result that lists failures.
        json!({"jsonrpc": "2.0", "id": 1, "method": "check", "params": {"type": "alicloud_kms_secret", "news": kms_inputs()}}),
        json!({"jsonrpc": "2.0", "id": "s", "method": "check", "params": {"type": "alicloud_kms_secret", "news": {}}}),
        // Async result, with string and large ids.
        json!({"jsonrpc": "2.0", "id": u64::MAX, "method": "diff",
            "params": {"type": "alicloud_kms_secret", "id": "app/db", "olds": kms_inputs(), "news": kms_inputs()}}),
        // Errors: a bad param (named field), an unknown type, missing params.
        json!({"jsonrpc": "2.0", "id": 2, "method": "diff", "params": {"type": "alicloud_kms_secret", "id": "x", "olds": 7, "news": {}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "check", "params": {"type": "no_such_type", "news": {}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "create"}),
        // Engine methods: an error and a result.
        json!({"jsonrpc": "2.0", "id": 5, "method": "engine.remove", "params": {}}),
        json!({"jsonrpc": "2.0", "id": 6, "method": "getSchema", "params": {}}),
        // Not in the table: jsonrpsee answers either way.
        json!({"jsonrpc": "2.0", "id": 7, "method": "no.such.method", "params": {}}),
    ];
    for request in requests {
        let text = request.to_string();
        let direct = rpc::stdio::handle_message(&service, &text).await.expect("a reply");
        let (through_jsonrpsee, _) = service.raw_json_request(&text, 1).await.expect("readable");
        let direct: Value = serde_json::from_str(&direct).expect("direct reply is JSON");
        let through_jsonrpsee: Value = serde_json::from_str(through_jsonrpsee.get()).expect("JSON");
        assert_eq!(direct, through_jsonrpsee, "for {request}");
        assert_eq!(direct["id"], request["id"], "for {request}");
    }
}
