//! An Alibaba Cloud 5xx whose body is not JSON (a gateway's HTML page) is retried like any other
//! 5xx, instead of failing as an undecodable answer.

use credplane::provider::Provider;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers the first request with an HTML 502, every later one with a RAM ListAccessKeys reply.
async fn flaky_gateway() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let (status, kind, body) = if n == 0 {
                    (
                        "502 Bad Gateway",
                        "text/html",
                        "<html><body>502 Bad Gateway</body></html>".to_string(),
                    )
                } else {
                    let keys = json!({"RequestId": "r-2", "AccessKeys": {"AccessKey": [
                        {"AccessKeyId": "LTAIkey1", "Status": "Active", "CreateDate": "2026-01-01T00:00:00Z"}]}});
                    ("200 OK", "application/json", keys.to_string())
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_non_json_5xx_is_retried() {
    let (url, seen) = flaky_gateway().await;
    let settings = json!({"alicloud": {"access_key_id": "LTAItest", "access_key_secret": "x".repeat(30),
                                       "region": "cn-hangzhou", "ram_endpoint": url}});
    let provider = Provider::new(serde_json::from_value(settings).unwrap());
    let read = json!({"type": "alicloud_ram_access_key", "id": "LTAIkey1",
                      "inputs": {"user_name": "alice", "status": "Active"}});
    let found = provider
        .read(serde_json::from_value(read).unwrap())
        .await
        .expect("the HTML 502 was retried");
    let found: Value = serde_json::to_value(found.expect("the key is listed")).unwrap();
    assert_eq!(found["id"], "LTAIkey1");
    assert!(seen.load(Ordering::SeqCst) >= 2, "a second attempt was made");
}
