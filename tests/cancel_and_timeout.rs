//! `cancel` stops operations in flight, and `timeoutSeconds` bounds them, retries included. The
//! sandbox's latency knob makes each cloud call slow enough to be caught in flight.

use credplane::provider::Provider;
use credplane::sandbox::faults::Faults;
use credplane::sandbox::{SandboxOptions, start};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn slow_sandbox_provider(latency_ms: u64) -> (credplane::sandbox::SandboxHandle, Arc<Provider>) {
    // Only CreateAccessKey is slow: the provider's other calls (ListAccessKeys) answer at once.
    let faults = Faults {
        latency_ms,
        actions: vec!["CreateAccessKey".into()],
        ..Default::default()
    };
    let sandbox = start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            faults,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    (sandbox, Arc::new(Provider::new(settings)))
}

fn create_request(timeout_seconds: Option<f64>) -> credplane::protocol::CreateRequest {
    serde_json::from_value(json!({
        "type": "aws_iam_access_key", "inputs": {"user": "alice"}, "timeoutSeconds": timeout_seconds
    }))
    .unwrap()
}

#[tokio::test]
async fn cancel_stops_a_create_in_flight() {
    let (sandbox, provider) = slow_sandbox_provider(60_000).await;
    let running = tokio::spawn({
        let provider = provider.clone();
        async move { provider.create(create_request(None)).await }
    });
    // Wait until the sandbox holds the CreateAccessKey call, then cancel.
    let in_flight = format!("{}/_sandbox/in-flight", sandbox.url);
    let mut seen = false;
    for _ in 0..500 {
        let held = reqwest::Client::new()
            .get(&in_flight)
            .bearer_auth(sandbox.admin_token())
            .send();
        let counts: Value = held.await.unwrap().json().await.unwrap();
        if counts["CreateAccessKey"] == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "CreateAccessKey never reached the sandbox");
    let cancelled = provider.cancel().cancelled;
    assert_eq!(cancelled, 1, "one operation was in flight");
    let err = running.await.unwrap().expect_err("the create was cancelled");
    let (code, data) = err.to_wire();
    assert_eq!(code.code(), -32002, "{data:?}");
    // The create was in flight: the error says a key may exist, where, and flags it.
    assert!(data.message.contains("may have created a key"), "{}", data.message);
    assert!(data.message.contains("IAM user \"alice\""), "{}", data.message);
    assert!(data.may_exist, "a cancelled create may have made a key");

    // A later operation starts uncancelled.
    let (_fast_sandbox, fast) = slow_sandbox_provider(0).await;
    fast.cancel();
    assert!(fast.create(create_request(None)).await.is_ok());
}

#[tokio::test]
async fn timeout_bounds_an_operation() {
    let (_sandbox, provider) = slow_sandbox_provider(60_000).await;
    let err = provider.create(create_request(Some(0.5))).await.expect_err("timed out");
    let (code, data) = err.to_wire();
    assert_eq!(code.code(), -32003);
    assert!(data.message.contains("timed out"), "{}", data.message);
    assert!(data.may_exist, "a create that timed out may have made a key");
}
