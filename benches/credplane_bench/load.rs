//! The load generator: a Rust HTTP client (reqwest, already in the tree) that drives any
//! JSON-RPC server identically: `concurrency` keep-alive connections, each sending the same
//! request back to back for a fixed time. Chosen over an external tool (oha, hey) because it
//! needs no extra install or compile in CI, and both servers see byte-identical requests.

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The KMS secret with tags that `check` validates.
pub fn kms_inputs() -> Value {
    json!({"secret_name": "bench/db", "version_id": "v1", "secret_type": "Generic", "secret_data": "s3cr3t-value",
        "description": "bench secret", "tags": {"env": "prod", "team": "platform", "owner": "bench"}})
}

/// `check` of a KMS secret with tags.
pub fn check_params() -> Value {
    json!({"type": "alicloud_kms_secret", "news": kms_inputs()})
}

/// `diff` of a KMS secret whose data and version changed.
pub fn diff_params() -> Value {
    let mut news = kms_inputs();
    news["secret_data"] = json!("new-value");
    news["version_id"] = json!("v2");
    json!({"type": "alicloud_kms_secret", "id": "bench/db", "olds": kms_inputs(), "news": news})
}

/// One request body for `method`.
pub fn body(method: &str, params: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).expect("json")
}

/// Sends one request and returns the reply; an error if it is not a JSON-RPC success.
pub async fn call_once(client: &reqwest::Client, url: &str, token: &str, body: &[u8]) -> Result<Value, String> {
    let reply = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = reply.status();
    let text = reply.text().await.map_err(|e| format!("{url}: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|_| format!("{url}: HTTP {status}: {text}"))?;
    if value.get("result").is_none() {
        return Err(format!("{url}: not a success: {text}"));
    }
    Ok(value)
}

/// One timed round against one server.
pub struct Round {
    pub requests_per_second: f64,
    /// The server's CPU time per request: steadier than requests/s when other work shares the
    /// machine.
    pub server_cpu_us_per_request: f64,
}

/// Requests per second over `duration`, after a short warm-up, and the CPU time the server
/// (`server_pid`) spent per request meanwhile. Any failed request is an error.
pub async fn round(
    url: &str,
    token: &str,
    body: &[u8],
    concurrency: usize,
    duration: Duration,
    server_pid: u32,
) -> Result<Round, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let body = bytes::Bytes::copy_from_slice(body);
    let (counting, stop, done) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, body) = (client.clone(), url.to_string(), token.to_string(), body.clone());
        let (counting, stop, done) = (counting.clone(), stop.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !reply.status().is_success() {
                    return Err(format!("HTTP {}", reply.status()));
                }
                let text = reply.bytes().await.map_err(|e| e.to_string())?;
                if !text.starts_with(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\"") {
                    return Err(format!("not a success: {}", String::from_utf8_lossy(&text)));
                }
                if counting.load(Ordering::Relaxed) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), String>(())
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    counting.store(true, Ordering::Relaxed);
    let (started, cpu_before) = (Instant::now(), crate::process::cpu_time(server_pid)?);
    tokio::time::sleep(duration).await;
    let (count, elapsed) = (done.load(Ordering::Relaxed), started.elapsed());
    let cpu = crate::process::cpu_time(server_pid)?.saturating_sub(cpu_before);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    Ok(Round {
        requests_per_second: count as f64 / elapsed.as_secs_f64(),
        server_cpu_us_per_request: cpu.as_secs_f64() * 1e6 / count.max(1) as f64,
    })
}
