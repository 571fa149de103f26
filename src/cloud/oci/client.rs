//! The OCI Identity API (20160918): auth tokens and customer secret keys, on reqwest, every
//! request signed with [`OciSigner`].
//!
//! The client owns its retries (every call is idempotent: creates carry `opc-retry-token`) and
//! its not-found mapping. Credentials come from [`super::config::resolve`].

use super::config;
use super::settings::OciSettings;
use super::sign::{OciSigner, SignableRequest};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::http;
use crate::cloud::retry::{Idempotency, RetryPolicy, with_retries};
use ::http::{Method, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::SystemTime;

/// The service name in errors.
pub const SERVICE: &str = "Identity";
/// The API version path prefix.
pub const API_PREFIX: &str = "/20160918";

/// An auth token or a customer secret key as the API returns it. The two differ on the wire
/// only in the names of the label and of the secret, which the aliases map onto one field each.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// The OCID; of a customer secret key, also the S3-compatible access key id.
    pub id: String,
    /// `token` or `key`: the secret, only in the answer to a create.
    #[serde(default, alias = "token", alias = "key")]
    pub secret: Option<String>,
    /// The user OCID.
    pub user_id: String,
    /// `description` or `displayName`.
    #[serde(default, alias = "description", alias = "displayName")]
    pub label: Option<String>,
    /// RFC 3339 creation time.
    #[serde(default)]
    pub time_created: Option<String>,
    /// RFC 3339 expiry time.
    #[serde(default)]
    pub time_expires: Option<String>,
    /// CREATING, ACTIVE, INACTIVE, DELETING, DELETED.
    #[serde(default)]
    pub lifecycle_state: Option<String>,
    /// The detailed status of INACTIVE.
    #[serde(default)]
    pub inactive_status: Option<i64>,
}

/// The two credential kinds, by their path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// `authTokens`.
    AuthToken,
    /// `customerSecretKeys`.
    CustomerSecretKey,
}

impl CredentialKind {
    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            CredentialKind::AuthToken => "authTokens",
            CredentialKind::CustomerSecretKey => "customerSecretKeys",
        }
    }

    /// The body field holding the label.
    pub fn label_field(self) -> &'static str {
        match self {
            CredentialKind::AuthToken => "description",
            CredentialKind::CustomerSecretKey => "displayName",
        }
    }
}

/// A signed client of the Identity API.
#[derive(Clone)]
pub struct IdentityClient {
    http: reqwest::Client,
    endpoint: String,
    signer: Arc<OciSigner>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityClient")
            .field("endpoint", &self.endpoint)
            .field("signer", &self.signer)
            .finish()
    }
}

impl IdentityClient {
    /// A client for `endpoint` (no trailing slash) signing with `signer`.
    pub fn new(http: reqwest::Client, endpoint: impl Into<String>, signer: OciSigner, retry: RetryPolicy) -> Self {
        IdentityClient {
            http,
            endpoint: endpoint.into(),
            signer: Arc::new(signer),
            retry,
        }
    }

    /// The client for `settings`, filled in from the OCI config file and environment.
    pub fn configured(
        settings: Option<&OciSettings>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Self, CloudError> {
        let settings = settings.cloned().unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok();
        let resolved =
            config::resolve(&settings, &env, dirs::home_dir().as_deref()).map_err(CloudError::Configuration)?;
        let signer = resolved.signer().map_err(CloudError::Configuration)?;
        Ok(IdentityClient::new(http, resolved.endpoint, signer, retry))
    }

    /// The endpoint in use.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// One signed call. `retry_token` adds `opc-retry-token`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<Option<T>, CloudError> {
        let url = format!("{}{API_PREFIX}{path}", self.endpoint);
        let uri: Uri = url.parse().map_err(|e| CloudError::Signing {
            service: SERVICE,
            detail: format!("bad URL {url}: {e}"),
        })?;
        let body_bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| CloudError::Decode {
                service: SERVICE,
                detail: e.to_string(),
            })?,
            None => Vec::new(),
        };
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signed = self
            .signer
            .sign(&SignableRequest {
                method: &method,
                uri: &uri,
                date: &date,
                content_type: None,
                body: &body_bytes,
            })
            .map_err(|e| CloudError::Signing {
                service: SERVICE,
                detail: e.to_string(),
            })?;
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("accept", "application/json");
        for (name, value) in signed {
            req = req.header(name, value);
        }
        if let Some(token) = retry_token {
            req = req.header("opc-retry-token", token);
        }
        if body.is_some() {
            req = req.body(body_bytes);
        }
        let what = format!("{method} {path}");
        let reply = http::send(SERVICE, &what, req).await?;
        let status = reply.status;
        let bytes = &reply.body;
        if status.is_success() {
            if status == reqwest::StatusCode::NO_CONTENT || bytes.is_empty() {
                return Ok(None);
            }
            return serde_json::from_slice(bytes).map(Some).map_err(|e| CloudError::Decode {
                service: SERVICE,
                detail: format!("{what}: {e}"),
            });
        }
        let request_id = reply.header("opc-request-id").map(str::to_owned);
        let retry_after = reply.retry_after;
        let doc: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
        let code = doc
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or(status.canonical_reason().unwrap_or("Unknown"))
            .to_string();
        let message = doc.get("message").and_then(Value::as_str).unwrap_or("").to_string();
        let status = status.as_u16();
        Err(CloudError::Api {
            service: SERVICE,
            code,
            message,
            request_id,
            status,
            retryable: status == 429 || status >= 500,
            retry_after,
        })
    }

    /// One call with retries that must answer with a body.
    async fn call_some<T: DeserializeOwned>(
        &self,
        budget: &Call,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<T, CloudError> {
        let what = format!("{method} {path}");
        with_retries(budget, self.retry, Idempotency::Idempotent, || {
            self.call(method.clone(), path, body, retry_token)
        })
        .await?
        .ok_or_else(|| CloudError::Decode {
            service: SERVICE,
            detail: format!("{what}: empty answer"),
        })
    }

    /// CreateAuthToken or CreateCustomerSecretKey: `POST /users/{userId}/{kind}/` with
    /// `opc-retry-token`, so retrying after a lost answer returns the same credential.
    pub async fn create_credential(
        &self,
        budget: &Call,
        kind: CredentialKind,
        user_id: &str,
        label: &str,
        retry_token: &str,
    ) -> Result<Credential, CloudError> {
        let body = json!({ kind.label_field(): label });
        self.call_some(
            budget,
            Method::POST,
            &format!("/users/{}/{}/", seg(user_id), kind.segment()),
            Some(&body),
            Some(retry_token),
        )
        .await
    }

    /// ListAuthTokens or ListCustomerSecretKeys.
    pub async fn list_credentials(
        &self,
        budget: &Call,
        kind: CredentialKind,
        user_id: &str,
    ) -> Result<Vec<Credential>, CloudError> {
        self.call_some(
            budget,
            Method::GET,
            &format!("/users/{}/{}/", seg(user_id), kind.segment()),
            None,
            None,
        )
        .await
    }

    /// Like [`Self::list_credentials`], but `None` when the user is not found.
    pub async fn list_credentials_of_existing_user(
        &self,
        budget: &Call,
        kind: CredentialKind,
        user_id: &str,
    ) -> Result<Option<Vec<Credential>>, CloudError> {
        match self.list_credentials(budget, kind, user_id).await {
            Ok(items) => Ok(Some(items)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// UpdateAuthToken or UpdateCustomerSecretKey: sets the label.
    pub async fn update_credential(
        &self,
        budget: &Call,
        kind: CredentialKind,
        user_id: &str,
        id: &str,
        label: &str,
    ) -> Result<Credential, CloudError> {
        let body = json!({ kind.label_field(): label });
        self.call_some(
            budget,
            Method::PUT,
            &format!("/users/{}/{}/{}", seg(user_id), kind.segment(), seg(id)),
            Some(&body),
            None,
        )
        .await
    }

    /// DeleteAuthToken or DeleteCustomerSecretKey; not found is success (already gone).
    pub async fn delete_credential(
        &self,
        budget: &Call,
        kind: CredentialKind,
        user_id: &str,
        id: &str,
    ) -> Result<(), CloudError> {
        let path = format!("/users/{}/{}/{}", seg(user_id), kind.segment(), seg(id));
        let deleted = with_retries(budget, self.retry, Idempotency::Idempotent, || {
            self.call::<Value>(Method::DELETE, &path, None, None)
        })
        .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Percent-encodes one path segment (OCIDs are safe already; this guards odd input).
fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2E", ".")
        .replace("%2D", "-")
        .replace("%5F", "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_decode_into_one_credential() {
        let token: Credential =
            serde_json::from_value(json!({"id": "t", "userId": "u", "description": "d", "token": "s"})).unwrap();
        let key: Credential =
            serde_json::from_value(json!({"id": "k", "userId": "u", "displayName": "d", "key": "s"})).unwrap();
        assert_eq!(
            (token.label.as_deref(), token.secret.as_deref()),
            (Some("d"), Some("s"))
        );
        assert_eq!((key.label.as_deref(), key.secret.as_deref()), (Some("d"), Some("s")));
    }

    #[test]
    fn path_segments_keep_ocids_readable() {
        assert_eq!(seg("ocid1.user.oc1..aaaa_b-c"), "ocid1.user.oc1..aaaa_b-c");
        assert_eq!(seg("a/b"), "a%2Fb");
    }
}
