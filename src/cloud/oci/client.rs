//! The OCI Identity API (20160918): auth tokens and customer secret keys, on reqwest, every
//! request signed with [`OciSigner`].
//!
//! Credentials resolve field by field: `configure {oci: ...}` first, then the OCI config file
//! and the OCI CLI environment variables (see [`super::config`]). The file is read only when
//! the settings leave something out.

use super::config::{self, ConfigSource};
use super::home_region::{Endpoints, HomeRegion, REGION_PLACEHOLDER, RegionSubscription, subscriptions_path};
use super::principal::{self, AUTH_API_KEY, AUTH_INSTANCE_PRINCIPAL, AUTH_RESOURCE_PRINCIPAL, AUTH_SECURITY_TOKEN};
use super::settings::OciSettings;
use super::sign::{OciSigner, SignableRequest, load_private_key_pem};
use crate::cloud::error::CloudError;
use crate::cloud::retry::parse_retry_after;
use crate::provider::clouds::Clouds;
use crate::provider::error::ProviderError;
use http::{Method, Uri};
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
    /// When set, writes go to the tenancy's home region, found on the first write.
    home: Option<HomeRegion>,
    write_endpoint: Arc<tokio::sync::OnceCell<String>>,
}

impl std::fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityClient")
            .field("endpoint", &self.endpoint)
            .field("signer", &self.signer)
            .finish()
    }
}

/// The resolved settings, before key loading.
struct Resolved {
    tenancy: String,
    user: String,
    fingerprint: String,
    pem: zeroize::Zeroizing<String>,
    pass_phrase: Option<zeroize::Zeroizing<String>>,
    endpoint: String,
    region: Option<String>,
}

fn settings_complete(s: &OciSettings) -> bool {
    s.tenancy.is_some()
        && s.user.is_some()
        && s.fingerprint.is_some()
        && (s.private_key.is_some() || s.key_file.is_some())
        && (s.region.is_some() || s.endpoint.is_some())
}

fn resolve(
    s: &OciSettings,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Resolved, ProviderError> {
    let file = if settings_complete(s) {
        None
    } else {
        let src = ConfigSource {
            path: s.config_file.as_deref().map(Path::new),
            profile: s.profile.as_deref(),
            home,
            env,
        };
        Some(config::load(&src).map_err(|e| {
            ProviderError::Configuration(format!(
                "OCI credentials are incomplete in the provider settings and the OCI config could not fill them in: {e}"
            ))
        })?)
    };
    let pick = |mine: &Option<String>, theirs: fn(&config::OciConfig) -> &String| -> Option<String> {
        mine.clone().or_else(|| file.as_ref().map(|f| theirs(f).clone()))
    };
    let missing = |what: &str| ProviderError::Configuration(format!("OCI setting `{what}` is not set"));
    let tenancy = pick(&s.tenancy, |f| &f.tenancy).ok_or_else(|| missing("tenancy"))?;
    let user = pick(&s.user, |f| &f.user).ok_or_else(|| missing("user"))?;
    let fingerprint = pick(&s.fingerprint, |f| &f.fingerprint).ok_or_else(|| missing("fingerprint"))?;
    let region = pick(&s.region, |f| &f.region);
    let pem =
        if let Some(key) = &s.private_key {
            zeroize::Zeroizing::new(key.expose().clone())
        } else if let Some(path) = &s.key_file {
            let path = config::expand_tilde(path, home).map_err(|e| ProviderError::Configuration(e.to_string()))?;
            zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                ProviderError::Configuration(format!("cannot read OCI key_file {}: {e}", path.display()))
            })?)
        } else if let Some(f) = &file {
            f.private_key_pem.clone()
        } else {
            return Err(missing("private_key or key_file"));
        };
    let pass_phrase = s
        .pass_phrase
        .as_ref()
        .map(|p| zeroize::Zeroizing::new(p.expose().clone()))
        .or_else(|| file.as_ref().and_then(|f| f.pass_phrase.clone()));
    let endpoint = endpoint_of(s, region.as_deref()).ok_or_else(|| missing("region or endpoint"))?;
    Ok(Resolved {
        tenancy,
        user,
        fingerprint,
        pem,
        pass_phrase,
        endpoint,
        region,
    })
}

/// The endpoint: the setting (a `{region}` template filled in), else the region's realm endpoint.
fn endpoint_of(s: &OciSettings, region: Option<&str>) -> Option<String> {
    match (&s.endpoint, region) {
        (Some(e), Some(r)) if e.contains(REGION_PLACEHOLDER) => Some(Endpoints::Template(e.clone()).for_region(r)),
        (Some(e), _) => Some(e.trim_end_matches('/').to_string()),
        (None, Some(r)) => Some(Endpoints::Realm.for_region(r)),
        (None, None) => None,
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
) -> Result<Option<principal::Principal>, ProviderError> {
    let auth = s.auth.clone().or_else(|| env("OCI_CLI_AUTH").filter(|v| !v.is_empty()));
    let fail = |e: String| ProviderError::Configuration(e);
    let from_profile = || {
        let src = ConfigSource {
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
        None if settings_complete(s) => Ok(None),
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

impl Clouds {
    /// The OCI Identity client for the configured credentials: a session-token principal when
    /// one is configured (see [`principal_of`]), else the API key.
    pub fn oci_identity(&self) -> Result<IdentityClient, ProviderError> {
        let settings = self.settings.oci.clone().unwrap_or_default();
        let home = dirs::home_dir();
        let env = |name: &str| std::env::var(name).ok();
        if let Some(p) = principal_of(&settings, &env, home.as_deref())? {
            let region = settings.region.clone().or(p.region);
            let endpoint = endpoint_of(&settings, region.as_deref()).ok_or_else(|| {
                ProviderError::Configuration(format!("{}: no OCI region or endpoint is set", p.source))
            })?;
            let tenancy = settings.tenancy.clone().or(p.tenancy);
            return Ok(IdentityClient::new(self.http.clone(), endpoint, p.signer)
                .with_home_region(home_region(&settings, tenancy, region)));
        }
        let r = resolve(&settings, &env, home.as_deref())?;
        let key = load_private_key_pem(&r.pem, r.pass_phrase.as_deref().map(String::as_str))
            .map_err(|e| ProviderError::Configuration(format!("OCI API key: {e}")))?;
        let signer = OciSigner::for_user(&r.tenancy, &r.user, &r.fingerprint, key);
        let home_region = home_region(&settings, Some(r.tenancy.clone()), r.region.clone());
        Ok(IdentityClient::new(self.http.clone(), r.endpoint, signer).with_home_region(home_region))
    }
}

impl IdentityClient {
    /// A client for `endpoint` (no trailing slash) signing with `signer`.
    pub fn new(http: reqwest::Client, endpoint: impl Into<String>, signer: OciSigner) -> Self {
        IdentityClient {
            http,
            endpoint: endpoint.into(),
            signer: Arc::new(signer),
            home: None,
            write_endpoint: Arc::default(),
        }
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
        let resp = req.send().await.map_err(|e| CloudError::Transport {
            service: SERVICE,
            detail: transport_detail(&e),
            ambiguous: !e.is_connect(),
        })?;
        let status = resp.status();
        let request_id = resp
            .headers()
            .get("opc-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = parse_retry_after(resp.headers().get("retry-after"));
        let bytes = resp.bytes().await.map_err(|e| CloudError::Transport {
            service: SERVICE,
            detail: format!("the answer broke off: {}", transport_detail(&e)),
            ambiguous: true,
        })?;
        if status.is_success() {
            if status == reqwest::StatusCode::NO_CONTENT || bytes.is_empty() {
                return Ok(None);
            }
            return serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CloudError::Decode {
                    service: SERVICE,
                    detail: format!("{method} {path}: {e}"),
                });
        }
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
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

    async fn call_some<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry_token: Option<&str>,
    ) -> Result<T, CloudError> {
        let what = format!("{method} {path}");
        self.call(method, path, body, retry_token)
            .await?
            .ok_or_else(|| CloudError::Decode {
                service: SERVICE,
                detail: format!("{what}: empty answer"),
            })
    }

    /// CreateAuthToken or CreateCustomerSecretKey: `POST /users/{userId}/{kind}/` with
    /// `opc-retry-token`.
    pub async fn create_credential(
        &self,
        kind: CredentialKind,
        user_id: &str,
        label: &str,
        retry_token: &str,
    ) -> Result<Credential, CloudError> {
        let body = json!({ kind.label_field(): label });
        self.call_some(
            Method::POST,
            &format!("/users/{}/{}/", seg(user_id), kind.segment()),
            Some(&body),
            Some(retry_token),
        )
        .await
    }

    /// ListAuthTokens or ListCustomerSecretKeys.
    pub async fn list_credentials(&self, kind: CredentialKind, user_id: &str) -> Result<Vec<Credential>, CloudError> {
        self.call_some(
            Method::GET,
            &format!("/users/{}/{}/", seg(user_id), kind.segment()),
            None,
            None,
        )
        .await
    }

    /// UpdateAuthToken or UpdateCustomerSecretKey: sets the label.
    pub async fn update_credential(
        &self,
        kind: CredentialKind,
        user_id: &str,
        id: &str,
        label: &str,
    ) -> Result<Credential, CloudError> {
        let body = json!({ kind.label_field(): label });
        self.call_some(
            Method::PUT,
            &format!("/users/{}/{}/{}", seg(user_id), kind.segment(), seg(id)),
            Some(&body),
            None,
        )
        .await
    }

    /// DeleteAuthToken or DeleteCustomerSecretKey; a 404 is success (already gone).
    pub async fn delete_credential(&self, kind: CredentialKind, user_id: &str, id: &str) -> Result<(), CloudError> {
        match self
            .call::<Value>(
                Method::DELETE,
                &format!("/users/{}/{}/{}", seg(user_id), kind.segment(), seg(id)),
                None,
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(CloudError::Api { status: 404, .. }) => Ok(()),
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

fn transport_detail(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    // reqwest puts the URL in its message; it holds no secret (ids only).
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn complete_settings_skip_the_config_file() {
        let s = OciSettings {
            tenancy: Some("t".into()),
            user: Some("u".into()),
            fingerprint: Some("f".into()),
            private_key: Some(Secret::new("PEM".into())),
            endpoint: Some("http://127.0.0.1:1/".into()),
            config_file: Some("/nonexistent/config".into()),
            ..Default::default()
        };
        let r = resolve(&s, &no_env, None).unwrap();
        assert_eq!(r.endpoint, "http://127.0.0.1:1");
        assert_eq!(r.user, "u");
    }

    #[test]
    fn region_gives_the_public_endpoint_and_missing_file_is_a_configuration_error() {
        let s = OciSettings {
            tenancy: Some("t".into()),
            user: Some("u".into()),
            fingerprint: Some("f".into()),
            private_key: Some(Secret::new("PEM".into())),
            region: Some("us-ashburn-1".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&s, &no_env, None).unwrap().endpoint,
            "https://identity.us-ashburn-1.oraclecloud.com"
        );
        let partial = OciSettings {
            config_file: Some("/nonexistent/oci/config".into()),
            ..Default::default()
        };
        let err = resolve(&partial, &no_env, None).err().unwrap();
        assert!(
            matches!(err, ProviderError::Configuration(ref m) if m.contains("/nonexistent/oci/config")),
            "{err}"
        );
    }

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
