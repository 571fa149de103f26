//! One signed-RPC caller for every Alibaba Cloud API we use: POST, form-encoded, RPC signature V1
//! (HMAC-SHA1, `Format=JSON`), JSON answers; an STS session's token goes as `SecurityToken`.
//! Errors become [`CloudError`]; retries follow the shared policy of [`crate::cloud::retry`]. A
//! session the cloud calls expired is fetched again once, then reported.

use super::credentials::{CredentialChain, SigningKey};
use super::sign::{common_params, sign_rpc};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::http;
use crate::cloud::retry::{Idempotency, RetryPolicy, with_retries};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// An RPC-style API (RAM, KMS) at one endpoint.
#[derive(Clone)]
pub struct RpcClient {
    /// `RAM` or `KMS`, for errors.
    pub service: &'static str,
    /// The API version, such as `2015-05-01`.
    version: &'static str,
    /// Base URL, such as `https://ram.aliyuncs.com`.
    endpoint: String,
    credentials: Arc<CredentialChain>,
    region: String,
    http: reqwest::Client,
    retry: RetryPolicy,
}

/// The parameters of one call, in order; values are plain text (signing encodes them).
pub type Params = Vec<(String, String)>;

impl RpcClient {
    /// A client for `service` at `endpoint`.
    pub fn new(
        service: &'static str,
        version: &'static str,
        endpoint: String,
        credentials: Arc<CredentialChain>,
        region: String,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        RpcClient {
            service,
            version,
            endpoint,
            credentials,
            region,
            http,
            retry,
        }
    }

    /// The region the calls name (`RegionId`).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The base URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls `action` with retries and decodes the JSON answer into `T`. When the cloud says the
    /// session token expired, the credentials are fetched again once and the call repeated (the
    /// rejected call had no effect); a second refusal is reported as a credentials error.
    pub async fn call<T: DeserializeOwned>(
        &self,
        call: &Call,
        idempotency: Idempotency,
        action: &str,
        params: &Params,
    ) -> Result<T, CloudError> {
        let mut refreshed = false;
        let value = loop {
            let key = call.guard(self.credentials.current()).await?;
            match with_retries(call, self.retry, idempotency, || self.call_once(&key, action, params)).await {
                Err(err) if is_expired_token(&err) => {
                    let source = self.credentials.source();
                    if refreshed || !self.credentials.invalidate(&key).await {
                        let again = if refreshed { " again after one refresh" } else { "" };
                        return Err(source.error(format!("{} refused the credentials{again}: {err}", self.service)));
                    }
                    refreshed = true;
                }
                other => break other?,
            }
        };
        serde_json::from_value(value).map_err(|e| CloudError::Decode {
            service: self.service,
            detail: format!("{action}: {e}"),
        })
    }

    /// One signed attempt.
    async fn call_once(&self, key: &SigningKey, action: &str, params: &Params) -> Result<Value, CloudError> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut all = common_params(
            &key.access_key_id,
            action,
            self.version,
            chrono::Utc::now(),
            &nonce,
            Some(&self.region),
        );
        if let Some(token) = &key.security_token {
            all.push(("SecurityToken".into(), token.expose().clone()));
        }
        all.extend(params.iter().cloned());
        let signature = sign_rpc("POST", &all, key.access_key_secret.expose());
        all.push(("Signature".into(), signature));
        let body = serde_urlencoded::to_string(&all).map_err(|e| CloudError::Signing {
            service: self.service,
            detail: e.to_string(),
        })?;
        let url = format!("{}/", self.endpoint.trim_end_matches('/'));
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        let reply = http::send(self.service, action, request).await?;
        let status = reply.status.as_u16();
        if reply.is_success() {
            return serde_json::from_slice(&reply.body).map_err(|e| CloudError::Decode {
                service: self.service,
                detail: format!("{action}: HTTP {status}, body is not JSON: {e}"),
            });
        }
        // An error answer need not be JSON (a gateway's HTML 502): its status classifies it then.
        let value: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        Err(api_error(self.service, status, &value, reply.retry_after))
    }
}
/// The error document `{RequestId, Code, Message}` as a [`CloudError::Api`].
pub fn api_error(
    service: &'static str,
    status: u16,
    body: &Value,
    retry_after: Option<std::time::Duration>,
) -> CloudError {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let code = text("Code").unwrap_or_else(|| format!("HTTP{status}"));
    CloudError::Api {
        service,
        retryable: is_retryable(&code, status),
        // A missing user, key or secret (KMS says Forbidden.ResourceNotFound).
        not_found: code.starts_with("EntityNotExist.") || code == "Forbidden.ResourceNotFound",
        message: text("Message").unwrap_or_default(),
        request_id: text("RequestId"),
        code,
        status,
        retry_after,
    }
}

/// Whether the cloud refused an STS session as expired (or no longer matching its key).
pub fn is_expired_token(err: &CloudError) -> bool {
    err.code()
        .is_some_and(|c| c.starts_with("InvalidSecurityToken.Expired") || c == "SecurityTokenExpired")
}

/// Throttling and server-side failures may succeed later.
pub fn is_retryable(code: &str, status: u16) -> bool {
    code.starts_with("Throttling") || code == "Rejected.Throttling" || code == "ServiceUnavailable" || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_client_decides_what_is_not_found() {
        for code in [
            "EntityNotExist.User",
            "EntityNotExist.User.AccessKey",
            "Forbidden.ResourceNotFound",
        ] {
            assert!(
                api_error("RAM", 404, &json!({"Code": code}), None).is_not_found(),
                "{code}"
            );
        }
        let window = api_error("KMS", 400, &json!({"Code": "Rejected.ResourceInDeleteWindow"}), None);
        assert!(!window.is_not_found(), "a name in its deletion window exists");
    }

    #[test]
    fn error_documents_map_to_api_errors() {
        let body = json!({"RequestId": "r-1", "HostId": "ram.aliyuncs.com", "Code": "EntityNotExist.User", "Message": "The user does not exist."});
        let err = api_error("RAM", 404, &body, None);
        assert_eq!(
            (err.code(), err.request_id(), err.is_retryable()),
            (Some("EntityNotExist.User"), Some("r-1"), false)
        );
        for (code, status) in [
            ("Throttling.User", 400),
            ("Rejected.Throttling", 400),
            ("ServiceUnavailable", 503),
            ("InternalError", 500),
        ] {
            assert!(
                api_error("KMS", status, &json!({"Code": code}), None).is_retryable(),
                "{code}"
            );
        }
        assert!(!api_error("KMS", 400, &json!({"Code": "Rejected.ResourceExist"}), None).is_retryable());
    }
}
