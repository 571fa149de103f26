//! A provider's method table over the in-process sandbox clouds, called with the text a client
//! would send over stdio; and the sandbox's admin view of what the clouds hold.
#![allow(dead_code)] // each test binary uses its own part of it

use credplane::provider::Provider;
use credplane::rpc;
use credplane::sandbox::{self, SandboxHandle, SandboxOptions};
use serde_json::{Value, json};
use std::sync::Arc;

pub struct Env {
    pub module: credplane::rpc::Service,
    pub sandbox: SandboxHandle,
}

/// A sandbox with `options`, and a provider configured for it.
pub async fn env_with(options: SandboxOptions) -> Env {
    let sandbox = sandbox::start(([127, 0, 0, 1], 0).into(), options).await.unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    Env {
        module: rpc::module(Arc::new(Provider::new(settings))),
        sandbox,
    }
}

/// A default sandbox, and a provider configured for it.
pub async fn env() -> Env {
    env_with(SandboxOptions::default()).await
}

impl Env {
    /// One JSON-RPC call: its result or error, and the raw reply text (to search it for secrets).
    pub async fn call_text(&self, method: &str, params: Value) -> (Result<Value, Value>, String) {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let text = rpc::stdio::handle_message(&self.module, &request.to_string())
            .await
            .unwrap();
        let reply: Value = serde_json::from_str(&text).unwrap();
        let result = match reply.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(reply["result"].clone()),
        };
        (result, text)
    }

    /// One admin call to the sandbox (`/_sandbox/<path>`), which must succeed.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/_sandbox/{path}", self.sandbox.url))
            .bearer_auth(self.sandbox.admin_token());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// Everything the sandbox clouds hold.
    pub async fn state(&self) -> Value {
        self.admin(reqwest::Method::GET, "state", None).await
    }
}
