//! The OCI Identity API (20160918): auth tokens and customer secret keys, on reqwest, every
//! request signed with [`OciSigner`].
//!
//! The client owns its retries (every call is idempotent: creates carry `opc-retry-token`) and
//! its not-found mapping. Credentials come from [`super::config::resolve`].

use super::config::{self, endpoint_of};
use super::home_region::{Endpoints, HomeRegion, REGION_PLACEHOLDER, RegionSubscription, subscriptions_path};
use super::principal::{self, AUTH_API_KEY, AUTH_INSTANCE_PRINCIPAL, AUTH_RESOURCE_PRINCIPAL, AUTH_SECURITY_TOKEN};
use super::settings::OciSettings;
use super::sign::{OciSigner, SignableRequest};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::http;
use crate::cloud::retry::{Idempotency, RetryPolicy, with_retries};
use crate::secrets::Secret;
use ::http::{Method, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::path::Path;
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
    pub secret: Option<Secret<String>>,
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
    /// When set, writes go to the tenancy's home region, found on the first write.
    home: Option<HomeRegion>,
    write_endpoint: Arc<tokio::sync::OnceCell<String>>,
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

/// The home-region redirect, possible when the tenancy and region are known and the endpoint
/// follows the region (no override, or a `{region}` template).
fn home_region(s: &OciSettings, tenancy: Option<String>, region: Option<String>) -> Option<HomeRegion> {
    let endpoints = match &s.endpoint {
        None => Endpoints::Realm,
        Some(e) if e.contains(REGION_PLACEHOLDER) => Endpoints::Template(e.clone()),
        Some(_) => return None,
    };
    Some(HomeRegion {
        tenancy: tenancy?,
        region: region?,
        endpoints,
    })
}

/// A session-token principal when the settings or the environment ask for one, else `None`
/// (the API-key path).
fn principal_of(
    s: &OciSettings,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Option<principal::Principal>, String> {
    let auth = s.auth.clone().or_else(|| env("OCI_CLI_AUTH").filter(|v| !v.is_empty()));
    let fail = |e: String| e;
    let from_profile = || {
        let src = config::ConfigSource {
            path: s.config_file.as_deref().map(Path::new),
            profile: s.profile.as_deref(),
            home,
            env,
        };
        config::load(&src).map_err(|e| fail(format!("OCI session token profile: {e}")))
    };
    match auth.as_deref() {
        Some(AUTH_RESOURCE_PRINCIPAL) => principal::resource_principal(env)
            .map_err(fail)?
            .ok_or_else(|| fail("OCI auth resource_principal: OCI_RESOURCE_PRINCIPAL_VERSION is not set".into()))
            .map(Some),
        Some(AUTH_SECURITY_TOKEN) => principal::session_token(&from_profile()?, home).map(Some).map_err(fail),
        Some(AUTH_INSTANCE_PRINCIPAL) => Err(fail(
            "OCI auth instance_principal is not supported yet; use api_key, security_token or resource_principal"
                .into(),
        )),
        Some(AUTH_API_KEY) => Ok(None),
        Some(other) => Err(fail(format!(
            "OCI auth {other:?} is not one of api_key, security_token, resource_principal"
        ))),
        None if config::settings_complete(s) => Ok(None),
        None => {
            if let Some(p) = principal::resource_principal(env).map_err(fail)? {
                return Ok(Some(p));
            }
            // A profile written by `oci session authenticate` has a security_token_file.
            match from_profile() {
                Ok(c) if c.security_token_file.is_some() && s.user.is_none() => {
                    principal::session_token(&c, home).map(Some).map_err(fail)
                }
                _ => Ok(None),
            }
        }
    }
}

impl IdentityClient {
    /// A client for `endpoint` (no trailing slash) signing with `signer`.
    pub fn new(http: reqwest::Client, endpoint: impl Into<String>, signer: OciSigner, retry: RetryPolicy) -> Self {
        IdentityClient {
            http,
            endpoint: endpoint.into(),
            signer: Arc::new(signer),
            home: None,
            write_endpoint: Arc::default(),
            retry,
        }
    }

    /// The client for `settings`: a session-token principal when one is configured (see
    /// [`principal_of`]), else the API key from the settings, the OCI config file and the
    /// environment. Writes go to the tenancy's home region when the endpoint follows the region.
    pub fn configured(
        settings: Option<&OciSettings>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Self, CloudError> {
        let settings = settings.cloned().unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok();
        let home = dirs::home_dir();
        if let Some(p) = principal_of(&settings, &env, home.as_deref()).map_err(CloudError::Configuration)? {
            let region = settings.region.clone().or(p.region);
            let endpoint = endpoint_of(&settings, region.as_deref())
                .ok_or_else(|| CloudError::Configuration(format!("{}: no OCI region or endpoint is set", p.source)))?;
            let tenancy = settings.tenancy.clone().or(p.tenancy);
            return Ok(IdentityClient::new(http, endpoint, p.signer, retry)
                .with_home_region(home_region(&settings, tenancy, region)));
        }
        let resolved = config::resolve(&settings, &env, home.as_deref()).map_err(CloudError::Configuration)?;
        let signer = resolved.signer().map_err(CloudError::Configuration)?;
        let home_region = home_region(&settings, Some(resolved.tenancy.clone()), resolved.region.clone());
        Ok(IdentityClient::new(http, resolved.endpoint, signer, retry).with_home_region(home_region))
    }

    /// Sends writes to the tenancy's home region (see [`super::home_region`]).
    pub fn with_home_region(mut self, home: Option<HomeRegion>) -> Self {
        self.home = home;
        self
    }

    /// Where writes go: the home region's endpoint, looked up on the first write.
    async fn write_base(&self) -> Result<String, CloudError> {
        let Some(home) = &self.home else {
            return Ok(self.endpoint.clone());
        };
        self.write_endpoint
            .get_or_try_init(|| async {
                let path = subscriptions_path(&seg(&home.tenancy));
                let subs: Vec<RegionSubscription> = self
                    .call_at(&self.endpoint, Method::GET, &path, None, None)
                    .await?
                    .unwrap_or_default();
                let found = home.write_endpoint(&subs);
                if let Some(e) = &found {
                    tracing::info!(home = %e, "OCI Identity writes go to the tenancy's home region");
                }
                Ok::<_, CloudError>(found.unwrap_or_else(|| self.endpoint.clone()))
            })
            .await
            .cloned()
    }

    /// The endpoint in use.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// One signed call; writes go to the home region. `retry_token` adds `opc-retry-token`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<Option<T>, CloudError> {
        let base = if method == Method::GET {
            self.endpoint.clone()
        } else {
            self.write_base().await?
        };
        self.call_at(&base, method, path, body, retry_token).await
    }

    /// One signed call to the endpoint `base`.
    async fn call_at<T: DeserializeOwned>(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<Option<T>, CloudError> {
        let url = format!("{base}{API_PREFIX}{path}");
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
            not_found: status == 404,
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
            (
                token.label.as_deref(),
                token.secret.as_ref().map(|s| s.expose().as_str())
            ),
            (Some("d"), Some("s"))
        );
        assert_eq!(
            (key.label.as_deref(), key.secret.as_ref().map(|s| s.expose().as_str())),
            (Some("d"), Some("s"))
        );
    }

    #[test]
    fn path_segments_keep_ocids_readable() {
        assert_eq!(seg("ocid1.user.oc1..aaaa_b-c"), "ocid1.user.oc1..aaaa_b-c");
        assert_eq!(seg("a/b"), "a%2Fb");
    }
}
