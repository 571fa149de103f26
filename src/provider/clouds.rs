//! Cloud access shared by every operation: the settings from `configure` and one HTTP client.
//! Each cloud's client module adds its own constructor here (`impl Clouds` in `cloud/<cloud>/`).

use crate::protocol::ConfigureRequest;
use std::time::Duration;

/// What the resources use to reach the clouds.
pub struct Clouds {
    /// The settings given by `configure` (each cloud falls back to its environment for the rest).
    pub settings: ConfigureRequest,
    /// One connection pool for every cloud call.
    pub http: reqwest::Client,
}

impl Clouds {
    /// Clouds configured with `settings`.
    pub fn new(settings: ConfigureRequest) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // One attempt; the operation's deadline bounds the whole retry loop.
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("credplane/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with static settings");
        Clouds { settings, http }
    }

    /// The Keybase API base URL for `pgp_key = "keybase:..."`.
    pub fn keybase_base_url(&self) -> &str {
        self.settings
            .common
            .as_ref()
            .and_then(|c| c.keybase_base_url.as_deref())
            .unwrap_or("https://keybase.io")
    }

    /// How `pgp_key` sources are fetched: this client, the Keybase URL, and whether an
    /// `external:` URL may be plain http.
    pub fn pgp_fetch(&self) -> crate::secrets::pgp_source::PgpFetch<'_> {
        crate::secrets::pgp_source::PgpFetch {
            http: &self.http,
            keybase_base_url: self.keybase_base_url(),
            allow_http: self
                .settings
                .common
                .as_ref()
                .and_then(|c| c.allow_http_pgp_key_urls)
                .unwrap_or(false),
        }
    }

    /// Attempts per cloud call, first included.
    pub fn max_attempts(&self) -> u32 {
        self.settings
            .common
            .as_ref()
            .and_then(|c| c.max_attempts)
            .unwrap_or(8)
            .max(1)
    }
}
