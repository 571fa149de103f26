//! A provider against the in-process sandbox, driven with wire JSON: the harness of the test
//! files that need only the provider's methods and the sandbox's admin API.

#![allow(dead_code)] // each test file uses part of it

use credplane::cloud::alicloud::sign::{common_params, sign_rpc};
use credplane::protocol::{CheckResponse, CreateResponse, DiffResponse, ReadResponse};
use credplane::provider::Provider;
use credplane::provider::error::ProviderError;
use credplane::sandbox::alicloud::{ADMIN_KEY_ID, ADMIN_KEY_SECRET, REGION};
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use serde_json::{Map, Value, json};

/// A sandbox and a provider configured for it.
pub struct Env {
    pub sandbox: SandboxHandle,
    pub provider: Provider,
    http: reqwest::Client,
}

/// A secret input value, as an SDK sends it.
pub fn secret(value: &str) -> Value {
    json!({"$credplane": "secret", "value": value})
}

impl Env {
    /// A new sandbox, and a provider with its settings.
    pub async fn start() -> Env {
        Self::start_with(json!({})).await
    }

    /// As [`Env::start`], with `extra` settings merged into the sandbox's, cloud by cloud
    /// (e.g. `{"common": {"max_attempts": 1}}`).
    pub async fn start_with(extra: Value) -> Env {
        let sandbox = credplane::sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
            .await
            .unwrap();
        let provider = provider_for(&sandbox, extra);
        Env {
            sandbox,
            provider,
            http: reqwest::Client::new(),
        }
    }

    /// Another provider on the same sandbox, with `extra` settings merged in.
    pub fn provider_with(&self, extra: Value) -> Provider {
        provider_for(&self.sandbox, extra)
    }

    pub fn check(&self, type_name: &str, olds: Option<&Value>, news: Value) -> CheckResponse {
        let req = json!({"type": type_name, "olds": olds, "news": news});
        self.provider.check(serde_json::from_value(req).unwrap()).unwrap()
    }

    pub async fn diff(&self, type_name: &str, id: &str, olds: &Value, news: &Value) -> DiffResponse {
        let req = json!({"type": type_name, "id": id, "olds": olds, "news": news});
        self.provider.diff(serde_json::from_value(req).unwrap()).await.unwrap()
    }

    pub async fn create(&self, type_name: &str, inputs: Value) -> Result<CreateResponse, ProviderError> {
        create_with(&self.provider, type_name, inputs).await
    }

    pub async fn read(
        &self,
        type_name: &str,
        id: &str,
        inputs: Option<&Value>,
        outputs: Option<&Value>,
    ) -> Option<ReadResponse> {
        read_with(&self.provider, type_name, id, inputs, outputs).await
    }

    pub async fn update(&self, type_name: &str, id: &str, olds: &Value, news: &Value) -> Result<Value, ProviderError> {
        let req = json!({"type": type_name, "id": id, "olds": olds, "news": news});
        let response = self.provider.update(serde_json::from_value(req).unwrap()).await?;
        Ok(Value::Object(response.outputs))
    }

    pub async fn delete(&self, type_name: &str, id: &str, outputs: &Value) -> Result<(), ProviderError> {
        delete_with(&self.provider, type_name, id, outputs).await
    }

    /// Everything the sandbox holds.
    pub async fn state(&self) -> Value {
        self.admin(self.http.get(self.admin_url("state"))).await
    }

    /// Sets the sandbox's fault knobs.
    pub async fn faults(&self, faults: Value) {
        self.admin(self.http.put(self.admin_url("faults")).json(&faults)).await;
    }

    fn admin_url(&self, what: &str) -> String {
        format!("{}/_sandbox/{what}", self.sandbox.url)
    }

    async fn admin(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.bearer_auth(self.sandbox.admin_token()).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// A KMS call as the sandbox's admin in the seeded region, behind the provider's back.
    pub async fn kms(&self, action: &str, params: &[(&str, &str)]) -> Value {
        self.kms_in(REGION, action, params).await
    }

    /// As [`Env::kms`], in `region`.
    pub async fn kms_in(&self, region: &str, action: &str, params: &[(&str, &str)]) -> Value {
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut all = common_params(
            ADMIN_KEY_ID,
            action,
            "2016-01-20",
            chrono::Utc::now(),
            &nonce,
            Some(region),
        );
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let signature = sign_rpc("POST", &all, ADMIN_KEY_SECRET);
        all.push(("Signature".into(), signature));
        let response = self
            .http
            .post(format!("{}/", self.sandbox.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{action}: {body}");
        body
    }
}

/// A provider with the sandbox's settings, `extra` merged in cloud by cloud.
pub fn provider_for(sandbox: &SandboxHandle, extra: Value) -> Provider {
    let mut settings: Map<String, Value> = sandbox.provider_settings();
    if let Value::Object(extra) = extra {
        for (cloud, value) in extra {
            match (settings.get_mut(&cloud), value) {
                (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
                (_, value) => {
                    settings.insert(cloud, value);
                }
            }
        }
    }
    Provider::new(serde_json::from_value(Value::Object(settings)).unwrap())
}

pub async fn create_with(provider: &Provider, type_name: &str, inputs: Value) -> Result<CreateResponse, ProviderError> {
    let req = json!({"type": type_name, "inputs": inputs});
    provider.create(serde_json::from_value(req).unwrap()).await
}

pub async fn read_with(
    provider: &Provider,
    type_name: &str,
    id: &str,
    inputs: Option<&Value>,
    outputs: Option<&Value>,
) -> Option<ReadResponse> {
    let req = json!({"type": type_name, "id": id, "inputs": inputs, "outputs": outputs});
    provider.read(serde_json::from_value(req).unwrap()).await.unwrap()
}

pub async fn delete_with(provider: &Provider, type_name: &str, id: &str, outputs: &Value) -> Result<(), ProviderError> {
    let req = json!({"type": type_name, "id": id, "outputs": outputs});
    provider.delete(serde_json::from_value(req).unwrap()).await.map(|_| ())
}
