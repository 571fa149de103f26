//! `cancel` stops operations in flight, and `timeoutSeconds` bounds them, retries included. The
//! sandbox's latency knob makes each cloud call slow enough to be caught in flight.

use credplane::provider::Provider;
use credplane::sandbox::faults::Faults;
use credplane::sandbox::{SandboxOptions, start};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn slow_sandbox_provider(latency_ms: u64) -> (credplane::sandbox::SandboxHandle, Arc<Provider>) {
    let faults = Faults {
        latency_ms,
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
    let (_sandbox, provider) = slow_sandbox_provider(60_000).await;
    let running = tokio::spawn({
        let provider = provider.clone();
        async move { provider.create(create_request(None)).await }
    });
    // Wait until the create is in flight, then cancel it.
    let mut cancelled = 0;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if running.is_finished() {
            break;
        }
        cancelled = provider.cancel().cancelled;
        if cancelled > 0 {
            break;
        }
    }
    assert_eq!(cancelled, 1, "one operation was in flight");
    let err = running.await.unwrap().expect_err("the create was cancelled");
    let (code, data) = err.to_wire();
    assert_eq!(code.code(), -32002, "{data:?}");

    // A later operation starts uncancelled.
    let (_fast_sandbox, fast) = slow_sandbox_provider(0).await;
    fast.cancel();
    assert!(fast.create(create_request(None)).await.is_ok());
}

#[tokio::test]
async fn timeout_bounds_an_operation() {
    let (_sandbox, provider) = slow_sandbox_provider(60_000).await;
    let err = provider.create(create_request(Some(0.5))).await.expect_err("timed out");
    assert_eq!(err.to_wire().0.code(), -32003);
}
