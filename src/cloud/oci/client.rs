//! The OCI Identity API (20160918): auth tokens and customer secret keys, on reqwest, every
//! request signed with [`OciSigner`].
//!
//! The client owns its retries (every call is idempotent: creates carry `opc-retry-token`) and
//! its not-found mapping. Credentials come from [`super::config::resolve`].

use super::config::{self, endpoint_of};
use super::home_region::{Endpoints, HomeRegion, REGION_PLACEHOLDER, RegionSubscription, subscriptions_path};
use super::instance_principal::InstanceSource;
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
    /// The settings, for the endpoint of a principal first loaded on the first call.
    settings: Arc<OciSettings>,
    /// The endpoint and home region: known at once, or when an instance principal's first
    /// federation says the region.
    setup: Arc<tokio::sync::OnceCell<Setup>>,
    auth: Arc<Auth>,
    write_endpoint: Arc<tokio::sync::OnceCell<String>>,
    retry: RetryPolicy,
}

/// Where requests go.
#[derive(Clone, Debug)]
struct Setup {
    endpoint: String,
    /// When set, writes go to the tenancy's home region, found on the first write.
    home: Option<HomeRegion>,
}

/// The signer in use and, for a session-token principal, how to get a new one.
struct Auth {
    current: std::sync::RwLock<Option<Arc<OciSigner>>>,
    reload: Option<principal::Reload>,
    /// One reload at a time: concurrent refusals of the same token refresh it once.
    reloading: tokio::sync::Mutex<()>,
}

impl Auth {
    fn fixed(signer: OciSigner) -> Self {
        Auth {
            current: std::sync::RwLock::new(Some(Arc::new(signer))),
            reload: None,
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<Arc<OciSigner>> {
        self.current.read().expect("signer lock").clone()
    }

    fn source(&self) -> String {
        self.reload
            .as_ref()
            .map_or_else(|| "OCI API key".to_string(), principal::Reload::describe)
    }

    /// Loads the principal again unless another call already replaced `stale` (`None`: the
    /// first load); returns what it says about the tenancy and region.
    async fn reload(
        &self,
        http: &reqwest::Client,
        stale: Option<&Arc<OciSigner>>,
    ) -> Result<(Option<String>, Option<String>, String), CloudError> {
        let Some(reload) = &self.reload else {
            return Err(self.failure("it cannot be refreshed".into()));
        };
        let _one = self.reloading.lock().await;
        let now = self.current();
        if let (Some(now), Some(stale)) = (&now, stale)
            && !Arc::ptr_eq(now, stale)
        {
            return Ok((None, None, reload.describe()));
        }
        if stale.is_none() && now.is_some() {
            return Ok((None, None, reload.describe()));
        }
        let p = reload.load(http).await.map_err(|reason| CloudError::Credentials {
            cloud: "oci",
            source_name: reload.describe(),
            reason,
        })?;
        *self.current.write().expect("signer lock") = Some(Arc::new(p.signer));
        Ok((p.tenancy, p.region, p.source))
    }

    fn failure(&self, reason: String) -> CloudError {
        CloudError::Credentials {
            cloud: "oci",
            source_name: self.source(),
            reason,
        }
    }
}

impl std::fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityClient")
            .field("setup", &self.setup.get())
            .field("signer", &self.auth.current())
            .field("source", &self.auth.source())
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

/// The endpoint and home region for a principal that says its tenancy and region.
fn setup_for(s: &OciSettings, tenancy: Option<String>, region: Option<String>, source: &str) -> Result<Setup, String> {
    let region = s.region.clone().or(region);
    let endpoint =
        endpoint_of(s, region.as_deref()).ok_or_else(|| format!("{source}: no OCI region or endpoint is set"))?;
    let tenancy = s.tenancy.clone().or(tenancy);
    Ok(Setup {
        endpoint,
        home: home_region(s, tenancy, region),
    })
}

/// A session-token principal when the settings or the environment ask for one, else `None`
/// (the API-key path).
fn principal_of(
    s: &OciSettings,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Option<principal::Reload>, String> {
    let auth = s.auth.clone().or_else(|| env("OCI_CLI_AUTH").filter(|v| !v.is_empty()));
    let from_profile = || {
        let src = config::ConfigSource {
            path: s.config_file.as_deref().map(Path::new),
            profile: s.profile.as_deref(),
            home,
            env,
        };
        config::load(&src).map_err(|e| format!("OCI session token profile: {e}"))
    };
    let session_token = |config| principal::Reload::SessionToken {
        config,
        home: home.map(Path::to_path_buf),
    };
    let resource_set = || env("OCI_RESOURCE_PRINCIPAL_VERSION").is_some_and(|v| !v.is_empty());
    match auth.as_deref() {
        Some(AUTH_RESOURCE_PRINCIPAL) if resource_set() => Ok(Some(principal::Reload::resource(env))),
        Some(AUTH_RESOURCE_PRINCIPAL) => {
            Err("OCI auth resource_principal: OCI_RESOURCE_PRINCIPAL_VERSION is not set".into())
        }
        Some(AUTH_SECURITY_TOKEN) => Ok(Some(session_token(from_profile()?))),
        Some(AUTH_INSTANCE_PRINCIPAL) => Ok(Some(principal::Reload::Instance(InstanceSource::from_env(env)))),
        Some(AUTH_API_KEY) => Ok(None),
        Some(other) => Err(format!(
            "OCI auth {other:?} is not one of api_key, security_token, resource_principal, instance_principal"
        )),
        None if config::settings_complete(s) => Ok(None),
        None if resource_set() => Ok(Some(principal::Reload::resource(env))),
        None => {
            // A profile written by `oci session authenticate` has a security_token_file.
            match from_profile() {
                Ok(c) if c.security_token_file.is_some() && s.user.is_none() => Ok(Some(session_token(c))),
                _ => Ok(None),
            }
        }
    }
}

impl IdentityClient {
    /// A client for `endpoint` (no trailing slash) signing with `signer`.
    pub fn new(http: reqwest::Client, endpoint: impl Into<String>, signer: OciSigner, retry: RetryPolicy) -> Self {
        let setup = Setup {
            endpoint: endpoint.into(),
            home: None,
        };
        IdentityClient {
            http,
            settings: Arc::default(),
            setup: Arc::new(tokio::sync::OnceCell::new_with(Some(setup))),
            auth: Arc::new(Auth::fixed(signer)),
            write_endpoint: Arc::default(),
            retry,
        }
    }

    /// The client for `settings`: a session-token principal when one is configured (see
    /// [`principal_of`]), else the API key from the settings, the OCI config file and the
    /// environment. Writes go to the tenancy's home region when the endpoint follows the region.
    /// An instance principal is federated on the first call (that needs the network).
    pub fn configured(
        settings: Option<&OciSettings>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Self, CloudError> {
        let settings = settings.cloned().unwrap_or_default();
        let env = |name: &str| std::env::var(name).ok();
        let home = dirs::home_dir();
        let Some(reload) = principal_of(&settings, &env, home.as_deref()).map_err(CloudError::Configuration)? else {
            let resolved = config::resolve(&settings, &env, home.as_deref()).map_err(CloudError::Configuration)?;
            let signer = resolved.signer().map_err(CloudError::Configuration)?;
            let home_region = home_region(&settings, Some(resolved.tenancy.clone()), resolved.region.clone());
            return Ok(IdentityClient::new(http, resolved.endpoint, signer, retry).with_home_region(home_region));
        };
        let setup = tokio::sync::OnceCell::new();
        let current = match reload.load_now() {
            Some(loaded) => {
                let p = loaded.map_err(CloudError::Configuration)?;
                let ready = setup_for(&settings, p.tenancy, p.region, &p.source).map_err(CloudError::Configuration)?;
                setup.set(ready).expect("a new cell is empty");
                Some(Arc::new(p.signer))
            }
            None => None,
        };
        Ok(IdentityClient {
            http,
            settings: Arc::new(settings),
            setup: Arc::new(setup),
            auth: Arc::new(Auth {
                current: std::sync::RwLock::new(current),
                reload: Some(reload),
                reloading: tokio::sync::Mutex::new(()),
            }),
            write_endpoint: Arc::default(),
            retry,
        })
    }

    /// Sends writes to the tenancy's home region (see [`super::home_region`]).
    pub fn with_home_region(mut self, home: Option<HomeRegion>) -> Self {
        if let Some(setup) = self.setup.get() {
            let setup = Setup { home, ..setup.clone() };
            self.setup = Arc::new(tokio::sync::OnceCell::new_with(Some(setup)));
        }
        self
    }

    /// The endpoint and home region, loading the principal first if it is not loaded yet.
    async fn setup(&self) -> Result<&Setup, CloudError> {
        self.setup
            .get_or_try_init(|| async {
                let (tenancy, region, source) = self.auth.reload(&self.http, None).await?;
                setup_for(&self.settings, tenancy, region, &source).map_err(CloudError::Configuration)
            })
            .await
    }

    /// Where writes go: the home region's endpoint, looked up on the first write.
    async fn write_base(&self) -> Result<String, CloudError> {
        let setup = self.setup().await?;
        let Some(home) = &setup.home else {
            return Ok(setup.endpoint.clone());
        };
        self.write_endpoint
            .get_or_try_init(|| async {
                let path = subscriptions_path(&seg(&home.tenancy));
                let subs: Vec<RegionSubscription> = self
                    .call_at(&setup.endpoint, Method::GET, &path, None, None)
                    .await?
                    .unwrap_or_default();
                let found = home.write_endpoint(&subs);
                if let Some(e) = &found {
                    tracing::info!(home = %e, "OCI Identity writes go to the tenancy's home region");
                }
                Ok::<_, CloudError>(found.unwrap_or_else(|| setup.endpoint.clone()))
            })
            .await
            .cloned()
    }

    /// The endpoint in use; empty until an instance principal's first call finds its region.
    pub fn endpoint(&self) -> &str {
        self.setup.get().map_or("", |s| s.endpoint.as_str())
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
            self.setup().await?.endpoint.clone()
        } else {
            self.write_base().await?
        };
        self.call_at(&base, method, path, body, retry_token).await
    }

    /// One signed call to the endpoint `base`. A session token the service refuses is loaded
    /// again once; refused again, that is reported as a credentials failure naming the source.
    async fn call_at<T: DeserializeOwned>(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<Option<T>, CloudError> {
        let signer = match self.auth.current() {
            Some(signer) => signer,
            None => {
                self.setup().await?;
                self.auth
                    .current()
                    .ok_or_else(|| self.auth.failure("no signer was loaded".into()))?
            }
        };
        let first = self.send(&signer, base, method.clone(), path, body, retry_token).await;
        match first {
            Err(CloudError::Api { status: 401, .. }) if self.auth.reload.is_some() => {
                self.auth.reload(&self.http, Some(&signer)).await?;
                let fresh = self
                    .auth
                    .current()
                    .ok_or_else(|| self.auth.failure("no signer was loaded".into()))?;
                match self.send(&fresh, base, method, path, body, retry_token).await {
                    Err(CloudError::Api {
                        status: 401,
                        code,
                        message,
                        ..
                    }) => Err(self.auth.failure(format!(
                        "Identity still refused it after one refresh ({code}: {message})"
                    ))),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// One request signed by `signer`.
    async fn send<T: DeserializeOwned>(
        &self,
        signer: &OciSigner,
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
        let signed = signer
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
