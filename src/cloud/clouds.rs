//! [`Clouds`]: the client factory. It holds the settings of the last `configure` and one HTTP
//! connection pool, and builds each cloud's client once (credential chain included), caching it
//! until the next `configure` replaces the whole factory.

use super::alicloud::client::RpcClient;
use super::alicloud::credentials::{Cached, CredentialChain};
use super::alicloud::kms::KmsClient;
use super::alicloud::ram::RamClient;
use super::aws::client::IamClient;
use super::error::CloudError;
use super::oci::client::IdentityClient;
use super::retry::RetryPolicy;
use crate::protocol::ConfigureRequest;
use crate::secrets::pgp_source::DEFAULT_KEYBASE_BASE_URL;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the resources use to reach the clouds.
pub struct Clouds {
    /// The settings given by `configure` (each cloud falls back to its environment for the rest).
    pub settings: ConfigureRequest,
    /// One connection pool for every cloud call, built on first use: building it (TLS roots and
    /// all) is a measurable part of a cold `serve --stdio` that never calls a cloud.
    http: std::sync::OnceLock<reqwest::Client>,
    /// Clients built so far; a failed build is not cached, so a fixed file is picked up.
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    iam: Option<IamClient>,
    oci_identity: Option<IdentityClient>,
    alicloud_credentials: Option<Cached>,
}

impl Clouds {
    /// Clouds configured with `settings`.
    pub fn new(settings: ConfigureRequest) -> Self {
        Clouds {
            settings,
            http: std::sync::OnceLock::new(),
            cache: Mutex::default(),
        }
    }

    /// The connection pool.
    pub fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                // One attempt; the operation's deadline bounds the whole retry loop.
                .timeout(Duration::from_secs(60))
                .user_agent(concat!("credplane/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds with static settings")
        })
    }

    /// The Keybase API base URL for `pgp_key = "keybase:..."`.
    pub fn keybase_base_url(&self) -> &str {
        self.settings
            .common
            .as_ref()
            .and_then(|c| c.keybase_base_url.as_deref())
            .unwrap_or(DEFAULT_KEYBASE_BASE_URL)
    }

    /// How `pgp_key` sources are fetched: this client, the Keybase URL, and whether an
    /// `external:` URL may be plain http.
    pub fn pgp_fetch(&self) -> crate::secrets::pgp_source::PgpFetch<'_> {
        crate::secrets::pgp_source::PgpFetch {
            http: self.http(),
            keybase_base_url: self.keybase_base_url(),
            allow_http: self
                .settings
                .common
                .as_ref()
                .and_then(|c| c.allow_http_pgp_key_urls)
                .unwrap_or(false),
        }
    }

    /// The retry policy every client gets: the `max_attempts` setting (default 8).
    pub fn retry_policy(&self) -> RetryPolicy {
        let default = RetryPolicy::default();
        RetryPolicy {
            max_attempts: self
                .settings
                .common
                .as_ref()
                .and_then(|c| c.max_attempts)
                .unwrap_or(default.max_attempts)
                .max(1),
        }
    }

    /// Returns the cached value of `slot`, or builds, caches and returns it.
    fn cached<T: Clone>(
        &self,
        slot: fn(&mut Cache) -> &mut Option<T>,
        build: impl FnOnce() -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        if let Some(hit) = slot(&mut self.cache.lock().expect("client cache lock")) {
            return Ok(hit.clone());
        }
        // Built outside the lock: a credential chain may read files.
        let built = build()?;
        *slot(&mut self.cache.lock().expect("client cache lock")) = Some(built.clone());
        Ok(built)
    }

    /// An IAM client with the resolved AWS credentials.
    pub fn iam(&self) -> Result<IamClient, CloudError> {
        self.cached(
            |c| &mut c.iam,
            || IamClient::configured(self.settings.aws.as_ref(), self.http().clone(), self.retry_policy()),
        )
    }

    /// The OCI Identity client for the configured credentials.
    pub fn oci_identity(&self) -> Result<IdentityClient, CloudError> {
        self.cached(
            |c| &mut c.oci_identity,
            || IdentityClient::configured(self.settings.oci.as_ref(), self.http().clone(), self.retry_policy()),
        )
    }

    /// The Alibaba Cloud credential chain and region (see [`super::alicloud::config::resolve`]),
    /// resolved once per configuration and cached with its credentials.
    pub fn alicloud_credentials(&self) -> Result<Cached, CloudError> {
        self.cached(
            |c| &mut c.alicloud_credentials,
            || {
                let settings = self.settings.alicloud.clone().unwrap_or_default();
                let env = |name: &str| std::env::var(name).ok();
                let resolved = super::alicloud::config::resolve(&settings, &env, dirs::home_dir().as_deref())
                    .map_err(CloudError::Configuration)?;
                Ok((
                    Arc::new(CredentialChain::new(resolved.source, self.http().clone())),
                    resolved.region,
                ))
            },
        )
    }

    /// The RAM client (`https://ram.aliyuncs.com`, or the `ram_endpoint` setting).
    pub fn alicloud_ram(&self) -> Result<RamClient, CloudError> {
        let endpoint = self.settings.alicloud.as_ref().and_then(|s| s.ram_endpoint.clone());
        let (credentials, region) = self.alicloud_credentials()?;
        Ok(RamClient::new(RpcClient::new(
            "RAM",
            "2015-05-01",
            endpoint.unwrap_or_else(|| "https://ram.aliyuncs.com".into()),
            credentials,
            region,
            self.http().clone(),
            self.retry_policy(),
        )))
    }

    /// The KMS client of the configured region (`https://kms.<region>.aliyuncs.com`, or the
    /// `kms_endpoint` setting).
    pub fn alicloud_kms(&self) -> Result<KmsClient, CloudError> {
        self.alicloud_kms_in(None, None)
    }

    /// The KMS client of `region`, where a secret was recorded to live (the configured region
    /// when `None`). In the configured region the configured endpoint wins, so that a moved
    /// endpoint setting takes effect; in another, the endpoint recorded with the region, else
    /// that region's public endpoint.
    pub fn alicloud_kms_in(
        &self,
        region: Option<&str>,
        recorded_endpoint: Option<&str>,
    ) -> Result<KmsClient, CloudError> {
        let (credentials, configured) = self.alicloud_credentials()?;
        let public = |region: &str| format!("https://kms.{region}.aliyuncs.com");
        let (region, endpoint) = match region {
            Some(region) if region != configured => (
                region.to_string(),
                recorded_endpoint.map_or_else(|| public(region), str::to_owned),
            ),
            _ => {
                let endpoint = self.settings.alicloud.as_ref().and_then(|s| s.kms_endpoint.clone());
                let endpoint = endpoint.unwrap_or_else(|| public(&configured));
                (configured, endpoint)
            }
        };
        Ok(KmsClient::new(RpcClient::new(
            "KMS",
            "2016-01-20",
            endpoint,
            credentials,
            region,
            self.http().clone(),
            self.retry_policy(),
        )))
    }
}
