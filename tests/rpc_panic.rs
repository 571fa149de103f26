//! Issue 10 item 5: a panic in any handler, sync or async, becomes a -32603 reply with the
//! request's id on both transports, never a missing reply, and the server keeps serving.

use credplane::provider::Provider;
use credplane::rpc;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const TOKEN: &str = "panic-test-token-0123456789abcdef0123";

fn module_with_panics() -> rpc::Service {
    let mut module = rpc::module(Arc::new(Provider::default()));
    module
        .register_method("boom", |_, _, _| -> Value { panic!("a sync handler panicked") })
        .unwrap();
    module
        .register_async_method("boomAsync", |_, _, _| async move {
            tokio::task::yield_now().await;
            if true {
                panic!("an async handler panicked");
            }
            Value::Null
        })
        .unwrap();
    module
}

fn assert_internal_error(reply: &Value, id: Value) {
    assert_eq!(reply["jsonrpc"], "2.0", "{reply}");
    assert_eq!(reply["id"], id, "{reply}");
    assert_eq!(reply["error"]["code"], -32603, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_32603_reply_over_stdio() {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server);
    let serving = tokio::spawn(rpc::stdio::serve(
        module_with_panics(),
        BufReader::new(server_read),
        server_write,
    ));
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "boom"}),
        json!({"jsonrpc": "2.0", "id": "two", "method": "boomAsync"}),
        json!([{"jsonrpc": "2.0", "id": 3, "method": "boom"}, {"jsonrpc": "2.0", "id": 4, "method": "cancel", "params": {}}]),
        json!({"jsonrpc": "2.0", "id": 5, "method": "cancel", "params": {}}),
    ];
    let mut text = String::new();
    for r in &requests {
        text.push_str(&format!("{r}\n"));
    }
    client.write_all(text.as_bytes()).await.unwrap();
    let (read, mut write) = tokio::io::split(client);
    let mut lines = BufReader::new(read).lines();
    let mut replies = Vec::new();
    for _ in 0..requests.len() {
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
            .await
            .expect("a reply to every request")
            .unwrap()
            .unwrap();
        replies.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let find = |id: Value| {
        replies
            .iter()
            .find(|r| r["id"] == id || r.as_array().is_some_and(|a| a.iter().any(|x| x["id"] == id)))
            .cloned()
            .unwrap_or_else(|| panic!("no reply for {id}: {replies:?}"))
    };
    assert_internal_error(&find(json!(1)), json!(1));
    assert_internal_error(&find(json!("two")), json!("two"));
    let batch = find(json!(3));
    assert_internal_error(&batch[0], json!(3));
    assert!(batch[1].get("result").is_some(), "{batch}");
    assert!(find(json!(5)).get("result").is_some());
    write.shutdown().await.unwrap();
    drop(write);
    serving.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_32603_reply_over_http() {
    let options = rpc::http::HttpOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        token: rpc::auth::BearerToken::new(TOKEN).unwrap(),
        allow_remote: false,
        tls: None,
        insecure_plain_http: false,
        allowed_hosts: vec![],
        max_connections: 8,
    };
    let (addr, handle) = rpc::http::start(module_with_panics(), options).await.unwrap();
    let client = reqwest::Client::new();
    for (id, method) in [(json!(1), "boom"), (json!("two"), "boomAsync"), (json!(3), "boom")] {
        let reply: Value = client
            .post(format!("http://{addr}"))
            .bearer_auth(TOKEN)
            .json(&json!({"jsonrpc": "2.0", "id": id, "method": method}))
            .send()
            .await
            .expect("the connection survives the panic")
            .json()
            .await
            .unwrap();
        assert_internal_error(&reply, id);
    }
    let _ = handle.stop();
}
