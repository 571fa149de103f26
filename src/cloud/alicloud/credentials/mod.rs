//! Alibaba Cloud credential sources, as the official `alibabacloud_credentials` SDKs define them:
//! static AccessKeys (with or without an STS security token), a RAM role assumed through STS
//! `AssumeRole` (RamRoleArn, ChainableRamRoleArn), the OIDC role of RRSA through
//! `AssumeRoleWithOIDC`, and the ECS instance RAM role from the metadata service.
//!
//! [`CredentialChain`] caches what a source gives and fetches again shortly before it expires
//! (the SDKs' 180 seconds), so calls do not resolve credentials each time. Failures name the
//! source and the reason, never a key, secret or token.

mod ecs;
mod sts;

use crate::cloud::error::CloudError;
use crate::secrets::Secret;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

pub use ecs::DEFAULT_METADATA_ENDPOINT;
pub use sts::{STS_VERSION, sts_endpoint};

/// Refresh this long before a session expires (the official SDKs' margin).
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::seconds(180);

/// The key material one request is signed with. `Debug` hides the secret and the token.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// AccessKey id (`STS.`-prefixed for sessions).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret<String>,
    /// The STS security token of a session.
    pub security_token: Option<Secret<String>>,
    /// When a session stops working; `None` for a long-term AccessKey.
    pub expiration: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// A long-term AccessKey, or a session when `security_token` is given.
    pub fn new(id: String, secret: String, security_token: Option<String>) -> Self {
        SigningKey {
            access_key_id: id,
            access_key_secret: Secret::new(secret),
            security_token: security_token.map(Secret::new),
            expiration: None,
        }
    }

    /// Whether the key must be fetched again at `now` (expired, or about to).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.expiration.is_some_and(|at| at - now <= REFRESH_MARGIN)
    }
}

/// A role to assume through STS.
#[derive(Clone, Debug)]
pub struct RoleRequest {
    /// `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds` (900 or more).
    pub duration_seconds: u32,
    /// An inline policy narrowing the session.
    pub policy: Option<String>,
    /// `ExternalId` (AssumeRole only).
    pub external_id: Option<String>,
    /// The STS endpoint URL.
    pub sts_endpoint: String,
}

/// Where credentials come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A fixed AccessKey, with or without a security token.
    Static {
        /// The key.
        key: SigningKey,
        /// Where it was found, for errors.
        origin: String,
    },
    /// A RAM role assumed with the credentials of `base` (STS AssumeRole).
    AssumeRole {
        /// The credentials that call AssumeRole.
        base: Box<Source>,
        /// The role.
        role: RoleRequest,
        /// Where it was configured, for errors.
        origin: String,
    },
    /// A RAM role assumed with an OIDC token (STS AssumeRoleWithOIDC, unsigned).
    Oidc {
        /// The role.
        role: RoleRequest,
        /// `acs:ram::<account>:oidc-provider/<name>`.
        provider_arn: String,
        /// The file holding the OIDC token, read at each fetch (CI rotates it).
        token_file: PathBuf,
        /// Where it was configured, for errors.
        origin: String,
    },
    /// The ECS instance RAM role, from the metadata service with its hardening token.
    EcsRamRole {
        /// The role name; asked of the metadata service when `None`.
        role_name: Option<String>,
        /// The metadata service URL.
        endpoint: String,
        /// Where it was configured, for errors.
        origin: String,
    },
}

impl Source {
    /// Where the credentials were configured and how they are obtained, for errors.
    pub fn describe(&self) -> String {
        match self {
            Source::Static { origin, .. } => origin.clone(),
            Source::AssumeRole { role, origin, .. } => {
                format!(
                    "{origin} (STS AssumeRole of {} at {})",
                    role.role_arn, role.sts_endpoint
                )
            }
            Source::Oidc { role, origin, .. } => {
                format!(
                    "{origin} (STS AssumeRoleWithOIDC of {} at {})",
                    role.role_arn, role.sts_endpoint
                )
            }
            Source::EcsRamRole { endpoint, origin, .. } => format!("{origin} (ECS RAM role from {endpoint})"),
        }
    }

    /// Whether fetching again can give new credentials.
    pub fn is_refreshable(&self) -> bool {
        !matches!(self, Source::Static { .. })
    }

    /// Obtains credentials from this source.
    pub async fn fetch(&self, http: &reqwest::Client) -> Result<SigningKey, CloudError> {
        let fail = |reason: String| self.error(reason);
        match self {
            Source::Static { key, .. } => Ok(key.clone()),
            Source::AssumeRole { base, role, .. } => {
                let caller = Box::pin(base.fetch(http)).await?;
                sts::assume_role(http, role, &caller).await.map_err(fail)
            }
            Source::Oidc {
                role,
                provider_arn,
                token_file,
                ..
            } => {
                let token = std::fs::read_to_string(token_file)
                    .map_err(|e| fail(format!("cannot read the OIDC token file {}: {e}", token_file.display())))?;
                sts::assume_role_with_oidc(http, role, provider_arn, token.trim())
                    .await
                    .map_err(fail)
            }
            Source::EcsRamRole {
                role_name, endpoint, ..
            } => ecs::fetch(http, endpoint, role_name.as_deref()).await.map_err(fail),
        }
    }

    /// A -32005 error naming this source and `reason`.
    pub fn error(&self, reason: String) -> CloudError {
        CloudError::Credentials {
            cloud: "alicloud",
            source_name: self.describe(),
            reason,
        }
    }
}

/// A resolved chain and the region, as [`crate::cloud::Clouds`] keeps them.
pub type Cached = (std::sync::Arc<CredentialChain>, String);

/// A source with its cached credentials.
#[derive(Debug)]
pub struct CredentialChain {
    source: Source,
    http: reqwest::Client,
    cached: tokio::sync::Mutex<Option<SigningKey>>,
}

impl CredentialChain {
    /// A chain over `source`; nothing is fetched until [`Self::current`].
    pub fn new(source: Source, http: reqwest::Client) -> Self {
        CredentialChain {
            source,
            http,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The source.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The credentials to sign with: the cached ones unless they expire within
    /// [`REFRESH_MARGIN`], else fetched again.
    pub async fn current(&self) -> Result<SigningKey, CloudError> {
        let mut cached = self.cached.lock().await;
        if let Some(key) = cached.as_ref().filter(|k| !k.is_stale(Utc::now())) {
            return Ok(key.clone());
        }
        let key = self.source.fetch(&self.http).await?;
        if key.is_stale(Utc::now()) {
            return Err(self.source.error(format!(
                "the credentials it gave expire at {}, within {} seconds",
                key.expiration.map(|e| e.to_rfc3339()).unwrap_or_default(),
                REFRESH_MARGIN.num_seconds()
            )));
        }
        *cached = Some(key.clone());
        Ok(key)
    }

    /// Forgets `rejected` (the cloud said it expired) so that the next [`Self::current`] fetches
    /// again; returns whether a fetch can give anything new.
    pub async fn invalidate(&self, rejected: &SigningKey) -> bool {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|k| k.access_key_id == rejected.access_key_id)
        {
            *cached = None;
        }
        self.source.is_refreshable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(expires_in: Option<i64>) -> SigningKey {
        let mut k = SigningKey::new("STS.id".into(), "secret".into(), Some("token".into()));
        k.expiration = expires_in.map(|s| Utc::now() + chrono::Duration::seconds(s));
        k
    }

    #[test]
    fn sessions_are_stale_within_the_margin_and_long_term_keys_never() {
        let now = Utc::now();
        assert!(!key(None).is_stale(now));
        assert!(!key(Some(3600)).is_stale(now));
        assert!(key(Some(170)).is_stale(now));
        assert!(key(Some(-5)).is_stale(now));
    }

    #[test]
    fn descriptions_name_the_source_but_never_a_value() {
        let s = Source::Static {
            key: SigningKey::new("id".into(), "the-secret".into(), Some("the-token".into())),
            origin: "ALIBABA_CLOUD_ACCESS_KEY_ID".into(),
        };
        let text = format!("{} {:?}", s.describe(), s);
        assert!(text.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{text}");
        assert!(!text.contains("the-secret") && !text.contains("the-token"), "{text}");
        let err = s.error("it failed".into()).to_string();
        assert!(
            err.contains("ALIBABA_CLOUD_ACCESS_KEY_ID") && err.contains("it failed"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_static_source_is_not_refreshable_and_is_cached() {
        let s = Source::Static {
            key: SigningKey::new("id".into(), "s".into(), None),
            origin: "configure".into(),
        };
        let chain = CredentialChain::new(s, reqwest::Client::new());
        let k = chain.current().await.unwrap();
        assert_eq!(k.access_key_id, "id");
        assert!(!chain.invalidate(&k).await);
    }
}
