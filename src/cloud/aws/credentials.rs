//! Where AWS credentials come from, and how long they are kept.
//!
//! The sources are the `aws-config` crate's (the AWS SDK for Rust's own providers), tried in the
//! SDKs' order: the environment, the shared config/credentials profile (static keys,
//! `credential_process`, IAM Identity Center, `role_arn` with `source_profile` or
//! `credential_source`), web identity, ECS container credentials, EC2 instance metadata
//! (IMDSv2). Static keys from `configure` replace the chain; `configure`'s `assume_role` wraps
//! whichever credentials were found in STS AssumeRole. STS calls honour `AWS_ENDPOINT_URL_STS`
//! and `AWS_ENDPOINT_URL` as the SDKs do.
//!
//! The chain is built on first use and its credentials are cached (the AWS SDK's
//! `ExpiringCache`) until [`REFRESH_BEFORE_EXPIRY`] before they expire; credentials without an
//! expiry are looked up again after [`UNDATED_LIFETIME`].

use super::settings::AssumeRoleSettings;
use super::sign::Credentials;
use aws_config::Region;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_runtime::expiring_cache::ExpiringCache;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Credentials are refreshed this long before they expire, so no request is signed with
/// credentials that lapse in flight (retries included).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// How long credentials without an expiry (static keys, long-term profile keys) are kept before
/// the chain is asked again, as the AWS SDKs' identity cache does.
pub const UNDATED_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A credential source that failed: which one, and why. Never holds a credential value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFailure {
    /// The source tried, e.g. `web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)`.
    pub source: String,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for CredentialFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AWS credentials from {} failed: {}", self.source, self.reason)
    }
}

impl std::error::Error for CredentialFailure {}

/// What to build the chain from (the credential half of the resolved settings).
#[derive(Debug, Clone, Default)]
pub struct ChainSpec {
    /// Static keys from `configure`; they replace the chain.
    pub static_keys: Option<Credentials>,
    /// The shared-files profile (`None`: `AWS_PROFILE`, then `default`).
    pub profile: Option<String>,
    /// The region STS is called in.
    pub region: String,
    /// A role to assume with the credentials found.
    pub assume_role: Option<AssumeRoleSettings>,
}

/// A credentials provider and the names of what it reads, for messages.
struct Chain {
    provider: SharedCredentialsProvider,
    /// `configure settings` or `the standard AWS chain`.
    base: String,
    /// The source of the standard chain that last provided credentials.
    used: Option<UsedSource>,
    /// The role assumed with the base credentials.
    role: Option<String>,
}

/// Which source of the standard chain provided the credentials, shared with the chain.
type UsedSource = Arc<Mutex<Option<String>>>;

impl Chain {
    /// Where the credentials come from, as precisely as known.
    fn source(&self) -> String {
        let used = self.used.as_ref().and_then(|u| u.lock().ok()?.clone());
        let base = used.unwrap_or_else(|| self.base.clone());
        match &self.role {
            Some(role) => format!("assume role {role} (with {base})"),
            None => base,
        }
    }
}

/// The cached credentials of one `configure`: built lazily, shared by every call.
pub struct CachedCredentials {
    spec: ChainSpec,
    chain: tokio::sync::OnceCell<Chain>,
    cache: ExpiringCache<aws_credential_types::Credentials, CredentialFailure>,
}

impl fmt::Debug for CachedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedCredentials")
            .field("profile", &self.spec.profile)
            .field("region", &self.spec.region)
            .finish_non_exhaustive()
    }
}

impl CachedCredentials {
    /// An empty cache for `spec`; nothing is resolved until [`CachedCredentials::get`].
    pub fn new(spec: ChainSpec) -> Self {
        CachedCredentials {
            spec,
            chain: tokio::sync::OnceCell::new(),
            cache: ExpiringCache::new(REFRESH_BEFORE_EXPIRY),
        }
    }

    /// The credentials to sign with: cached ones while they are fresh, else the chain's.
    pub async fn get(&self) -> Result<Credentials, CredentialFailure> {
        let chain = self.chain.get_or_init(|| build_chain(&self.spec)).await;
        let creds = match self.cache.yield_or_clear_if_expired(SystemTime::now()).await {
            Some(creds) => creds,
            None => {
                self.cache
                    .get_or_load(|| async {
                        let creds = chain
                            .provider
                            .provide_credentials()
                            .await
                            .map_err(|e| failure_of(&chain.source(), &e))?;
                        let expiry = creds.expiry().unwrap_or_else(|| SystemTime::now() + UNDATED_LIFETIME);
                        Ok((creds, expiry))
                    })
                    .await?
            }
        };
        let mut out = Credentials::new(creds.access_key_id(), creds.secret_access_key());
        if let Some(token) = creds.session_token() {
            out = out.with_session_token(token);
        }
        Ok(out)
    }

    /// Forgets the cached credentials, so the next [`CachedCredentials::get`] asks the chain
    /// again (after the cloud said they expired).
    pub async fn invalidate(&self) {
        // The cache clears a value that is expired at the given time: any value is expired a
        // century from now.
        let far_future = SystemTime::now() + Duration::from_secs(100 * 365 * 24 * 3600);
        self.cache.yield_or_clear_if_expired(far_future).await;
    }

    /// Where the credentials come from, for messages (before the first call: what will be tried).
    pub fn source(&self) -> String {
        match self.chain.get() {
            Some(chain) => chain.source(),
            None => describe_spec(&self.spec),
        }
    }
}

fn describe_spec(spec: &ChainSpec) -> String {
    let base = if spec.static_keys.is_some() {
        "configure settings".to_string()
    } else {
        "the standard AWS chain".to_string()
    };
    match &spec.assume_role {
        Some(role) => format!("assume role {} (with {base})", role.role_arn),
        None => base,
    }
}

/// The HTTP client of the AWS SDK providers (and of the engine's S3 state backend): rustls with
/// ring, as the rest of credplane uses (the SDK's default would compile aws-lc).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

async fn build_chain(spec: &ChainSpec) -> Chain {
    let region = Region::new(spec.region.clone());
    let client = http_client();
    let (base, base_source, used): (SharedCredentialsProvider, String, Option<UsedSource>) = match &spec.static_keys {
        Some(keys) => (
            SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                &keys.access_key_id,
                &keys.secret_access_key,
                keys.session_token.clone(),
                None,
                "configure",
            )),
            "configure settings".to_string(),
            None,
        ),
        None => {
            let conf = ProviderConfig::without_region()
                .with_region(Some(region.clone()))
                .with_http_client(client.clone());
            let chain = StandardChain::new(&conf, spec.profile.as_deref());
            let used = chain.used.clone();
            (
                SharedCredentialsProvider::new(chain),
                "the standard AWS chain".to_string(),
                Some(used),
            )
        }
    };
    let Some(role) = &spec.assume_role else {
        return Chain {
            provider: base,
            base: base_source,
            used,
            role: None,
        };
    };
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(client)
        .region(region)
        .credentials_provider(base.clone());
    if let Some(profile) = &spec.profile {
        loader = loader.profile_name(profile);
    }
    let sdk_config = loader.load().await;
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone()).configure(&sdk_config);
    if let Some(name) = &role.session_name {
        builder = builder.session_name(name.clone());
    }
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    if let Some(seconds) = role.duration_seconds {
        builder = builder.session_length(Duration::from_secs(seconds.into()));
    }
    Chain {
        provider: SharedCredentialsProvider::new(builder.build_from_provider(base).await),
        base: base_source,
        used,
        role: Some(role.role_arn.clone()),
    }
}

/// The SDKs' default chain, with the name of each source so a failure can say which one failed.
#[derive(Debug)]
struct StandardChain {
    sources: Vec<(String, SharedCredentialsProvider)>,
    used: UsedSource,
}

impl StandardChain {
    fn new(conf: &ProviderConfig, profile: Option<&str>) -> Self {
        use aws_config::{ecs, environment, imds, profile as shared, web_identity_token};
        let mut profile_provider = shared::ProfileFileCredentialsProvider::builder().configure(conf);
        if let Some(name) = profile {
            profile_provider = profile_provider.profile_name(name);
        }
        let profile_name = profile
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| "default".into());
        let sources = vec![
            (
                "the environment (AWS_ACCESS_KEY_ID)".to_string(),
                SharedCredentialsProvider::new(environment::EnvironmentVariableCredentialsProvider::new()),
            ),
            (
                format!("profile {profile_name} of the shared config files"),
                SharedCredentialsProvider::new(profile_provider.build()),
            ),
            (
                "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)".to_string(),
                SharedCredentialsProvider::new(
                    web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                        .configure(conf)
                        .build(),
                ),
            ),
            (
                "ECS container credentials".to_string(),
                SharedCredentialsProvider::new(ecs::EcsCredentialsProvider::builder().configure(conf).build()),
            ),
            (
                "EC2 instance metadata (IMDSv2)".to_string(),
                SharedCredentialsProvider::new(
                    imds::credentials::ImdsCredentialsProvider::builder()
                        .configure(conf)
                        .build(),
                ),
            ),
        ];
        StandardChain {
            sources,
            used: UsedSource::default(),
        }
    }

    async fn provide(&self) -> Result<aws_credential_types::Credentials, CredentialsError> {
        for (name, provider) in &self.sources {
            match provider.provide_credentials().await {
                Ok(creds) => {
                    tracing::debug!(source = %name, "AWS credentials loaded");
                    if let Ok(mut used) = self.used.lock() {
                        *used = Some(name.clone());
                    }
                    return Ok(creds);
                }
                // Not configured: try the next source, as the SDK's chain does.
                Err(CredentialsError::CredentialsNotLoaded(_)) => continue,
                Err(err) => {
                    return Err(CredentialsError::provider_error(CredentialFailure {
                        source: name.clone(),
                        reason: error_text(&err),
                    }));
                }
            }
        }
        let tried: Vec<&str> = self.sources.iter().map(|(n, _)| n.as_str()).collect();
        Err(CredentialsError::not_loaded(format!(
            "no source is configured; tried {}. Set aws.access_key_id and aws.secret_access_key with configure, \
             or configure one of those",
            tried.join(", ")
        )))
    }
}

impl ProvideCredentials for StandardChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.provide())
    }
}

/// The failure a source reported, or one naming `source` (the chain as a whole).
fn failure_of(source: &str, err: &CredentialsError) -> CredentialFailure {
    // A source inside the standard chain already named itself.
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        if let Some(failure) = c.downcast_ref::<CredentialFailure>() {
            return failure.clone();
        }
        cause = c.source();
    }
    CredentialFailure {
        source: source.to_string(),
        reason: error_text(err),
    }
}

/// An error and its causes, `: `-joined, without what a `credential_process` printed on stderr
/// (which may echo anything, values included).
pub(crate) fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last().is_none_or(|last| !last.ends_with(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    let text = parts.join(": ");
    match text.find("Stderr:") {
        Some(at) => format!("{}(stderr withheld)", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_joins_causes_and_withholds_stderr() {
        let inner = CredentialsError::provider_error("external process exited with code 1. Stderr: AKIA secret");
        let text = error_text(&inner);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("(stderr withheld)"), "{text}");
        let failure = CredentialFailure {
            source: "web identity".into(),
            reason: "AccessDenied".into(),
        };
        assert_eq!(
            failure.to_string(),
            "AWS credentials from web identity failed: AccessDenied"
        );
    }

    #[tokio::test]
    async fn static_keys_are_cached_and_invalidated() {
        let spec = ChainSpec {
            static_keys: Some(Credentials::new("AKIASTATIC", "s").with_session_token("t")),
            region: "us-east-1".into(),
            ..Default::default()
        };
        let cached = CachedCredentials::new(spec);
        assert_eq!(cached.source(), "configure settings");
        let creds = cached.get().await.unwrap();
        assert_eq!(creds.access_key_id, "AKIASTATIC");
        assert_eq!(creds.session_token.as_deref(), Some("t"));
        cached.invalidate().await;
        assert_eq!(cached.get().await.unwrap().access_key_id, "AKIASTATIC");
    }
}
