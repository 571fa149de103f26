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
    /// The AWS access (and its credential cache) of these settings, built on first use.
    pub aws: crate::cloud::aws::config::AwsAccessSlot,
    /// The Alibaba Cloud credential chain and region, resolved on first use and cached.
    pub(crate) alicloud_chain: std::sync::Mutex<Option<crate::cloud::alicloud::credentials::Cached>>,
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
        Clouds {
            settings,
            http,
            aws: Default::default(),
            alicloud_chain: Default::default(),
        }
    }

    /// The Keybase API base URL for `pgp_key = "keybase:..."`.
    pub fn keybase_base_url(&self) -> &str {
        self.settings
            .common
            .as_ref()
            .and_then(|c| c.keybase_base_url.as_deref())
            .unwrap_or("https://keybase.io")
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
