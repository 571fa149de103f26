//! Where the AWS region, IAM endpoint, signing region and credential chain come from:
//! `configure` settings first, then the AWS SDKs' standard environment variables, then the shared
//! config file, then the partition of the region.
//!
//! Resolution is a pure function of the settings, an environment lookup and a home directory, so
//! the precedence is unit-tested without touching the process environment. The credentials
//! themselves are fetched later, on first use ([`super::credentials`]).

use super::credentials::{CachedCredentials, ChainSpec};
use super::partition::partition_of;
use super::settings::AwsSettings;
use super::sign::Credentials;
use ini::Ini;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The region when nothing names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The resolved AWS settings, before any credential is fetched.
#[derive(Debug, Clone)]
pub struct ResolvedAws {
    /// What the credential chain is built from.
    pub chain: ChainSpec,
    /// The configured region (also that of `ses_smtp_password_v4`).
    pub region: String,
    /// The IAM endpoint URL.
    pub endpoint: String,
    /// The region IAM requests are signed for.
    pub signing_region: String,
}

/// The AWS access of one `configure`: resolved settings and their cached credentials.
#[derive(Debug)]
pub struct AwsAccess {
    /// The configured region.
    pub region: String,
    /// The IAM endpoint URL.
    pub endpoint: String,
    /// The region IAM requests are signed for.
    pub signing_region: String,
    /// The credentials, fetched on first use and refreshed before they expire.
    pub credentials: CachedCredentials,
}

impl AwsAccess {
    /// Access with a fresh credential cache.
    pub fn new(resolved: ResolvedAws) -> Self {
        AwsAccess {
            region: resolved.region,
            endpoint: resolved.endpoint,
            signing_region: resolved.signing_region,
            credentials: CachedCredentials::new(resolved.chain),
        }
    }
}

/// One [`AwsAccess`] per `configure`, built on first use so that every call shares its
/// credential cache.
#[derive(Debug, Default)]
pub struct AwsAccessSlot(OnceLock<Result<Arc<AwsAccess>, String>>);

impl AwsAccessSlot {
    /// The access for `settings` (resolved once; later calls get the same one).
    pub fn get(&self, settings: Option<&AwsSettings>) -> Result<Arc<AwsAccess>, String> {
        self.0
            .get_or_init(|| resolve(settings).map(|r| Arc::new(AwsAccess::new(r))))
            .clone()
    }
}

/// Resolves with the process environment and home directory.
pub fn resolve(settings: Option<&AwsSettings>) -> Result<ResolvedAws, String> {
    resolve_with(
        settings,
        &|name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        dirs::home_dir().as_deref(),
    )
}

/// Resolves with an injected environment lookup and home directory.
pub fn resolve_with(
    settings: Option<&AwsSettings>,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<ResolvedAws, String> {
    let default = AwsSettings::default();
    let s = settings.unwrap_or(&default);
    let static_keys = match (&s.access_key_id, &s.secret_access_key) {
        (Some(id), Some(secret)) => {
            let mut c = Credentials::new(id.clone(), secret.expose().clone());
            if let Some(token) = &s.session_token {
                c = c.with_session_token(token.expose().clone());
            }
            Some(c)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("aws: access_key_id and secret_access_key must be set together".to_string());
        }
        (None, None) if s.session_token.is_some() => {
            return Err("aws.session_token needs aws.access_key_id and aws.secret_access_key".to_string());
        }
        (None, None) => None,
    };
    if let Some(role) = &s.assume_role {
        if !role.role_arn.starts_with("arn:") {
            return Err(
                "aws.assume_role.role_arn must be a role ARN (arn:<partition>:iam::<account>:role/<name>)".into(),
            );
        }
        if let Some(d) = role.duration_seconds
            && !(900..=43200).contains(&d)
        {
            return Err(format!(
                "aws.assume_role.duration_seconds must be between 900 and 43200, got {d}"
            ));
        }
    }

    let profile = s.profile.clone().or_else(|| env("AWS_PROFILE"));
    let region = s
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .map(Ok)
        .or_else(|| profile_region(env, home, profile.as_deref().unwrap_or("default")).transpose())
        .transpose()?
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let partition = partition_of(&region);
    // The SDKs' switch to ignore endpoint variables and config.
    let env_endpoints = !env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint = s
        .endpoint
        .clone()
        .or_else(|| env_endpoints.then(|| env("AWS_ENDPOINT_URL_IAM")).flatten())
        .or_else(|| env_endpoints.then(|| env("AWS_ENDPOINT_URL")).flatten())
        .unwrap_or_else(|| partition.iam_endpoint.to_string());
    url::Url::parse(&endpoint).map_err(|e| format!("aws: the IAM endpoint {endpoint:?} is not a URL: {e}"))?;
    let signing_region = s
        .signing_region
        .clone()
        .unwrap_or_else(|| partition.iam_signing_region.to_string());
    Ok(ResolvedAws {
        chain: ChainSpec {
            static_keys,
            profile: s.profile.clone(),
            region: region.clone(),
            assume_role: s.assume_role.clone(),
        },
        region,
        endpoint,
        signing_region,
    })
}

/// The `region` of `profile` in the shared config file (`AWS_CONFIG_FILE` or `~/.aws/config`).
fn profile_region(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
    profile: &str,
) -> Result<Option<String>, String> {
    let Some(path) = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".aws").join("config")))
    else {
        return Ok(None);
    };
    let ini = match std::fs::read_to_string(&path) {
        Ok(text) => Ini::load_from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    // `[default]` or `[profile default]`; other profiles only as `[profile name]`.
    let section = ini
        .section(Some(format!("profile {profile}")))
        .or_else(|| ini.section(Some(profile)).filter(|_| profile == "default"));
    Ok(section
        .and_then(|s| s.get("region"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn home_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        dir
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn settings(v: serde_json::Value) -> AwsSettings {
        serde_json::from_value(v).unwrap()
    }

    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile work]\nregion = cn-northwest-1\n";

    #[test]
    fn settings_win_over_env() {
        let home = home_with(CONFIG);
        let s = settings(serde_json::json!({
            "access_key_id": "AKIASETTINGS", "secret_access_key": "s", "region": "us-west-2", "endpoint": "http://127.0.0.1:1/"
        }));
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "e"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL_IAM", "http://x/"),
        ]);
        let r = resolve_with(Some(&s), &env, Some(home.path())).unwrap();
        assert_eq!(r.chain.static_keys.unwrap().access_key_id, "AKIASETTINGS");
        assert_eq!(r.region, "us-west-2");
        assert_eq!(r.endpoint, "http://127.0.0.1:1/");
        assert_eq!(r.signing_region, "us-east-1");
    }

    #[test]
    fn env_region_and_endpoints() {
        let home = home_with(CONFIG);
        let env = env_of(&[
            ("AWS_DEFAULT_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL", "http://generic/"),
        ]);
        let r = resolve_with(None, &env, Some(home.path())).unwrap();
        assert!(
            r.chain.static_keys.is_none(),
            "without static keys the standard chain is used"
        );
        assert_eq!(r.region, "eu-central-1");
        assert_eq!(r.endpoint, "http://generic/");
        // AWS_REGION beats AWS_DEFAULT_REGION, the IAM endpoint beats the generic one.
        let env = env_of(&[
            ("AWS_REGION", "us-west-1"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL", "http://generic/"),
            ("AWS_ENDPOINT_URL_IAM", "http://iam/"),
        ]);
        let r = resolve_with(None, &env, Some(home.path())).unwrap();
        assert_eq!(r.region, "us-west-1");
        assert_eq!(r.endpoint, "http://iam/");
        // The SDKs' switch turns the endpoint variables off.
        let env = env_of(&[
            ("AWS_ENDPOINT_URL_IAM", "http://iam/"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        let r = resolve_with(None, &env, Some(home.path())).unwrap();
        assert_eq!(r.endpoint, "https://iam.amazonaws.com/");
    }

    #[test]
    fn region_from_the_profile() {
        let home = home_with(CONFIG);
        let r = resolve_with(None, &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(r.region, "eu-west-1");
        let r = resolve_with(None, &env_of(&[("AWS_PROFILE", "work")]), Some(home.path())).unwrap();
        assert_eq!(r.region, "cn-northwest-1");
        // The settings' profile beats AWS_PROFILE, and is handed to the chain.
        let s = settings(serde_json::json!({"profile": "default"}));
        let r = resolve_with(Some(&s), &env_of(&[("AWS_PROFILE", "work")]), Some(home.path())).unwrap();
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.chain.profile.as_deref(), Some("default"));
        let r = resolve_with(None, &env_of(&[]), None).unwrap();
        assert_eq!(r.region, DEFAULT_REGION);
    }

    #[test]
    fn partition_picks_endpoint_and_signing_region() {
        let home = home_with(CONFIG);
        let r = resolve_with(None, &env_of(&[("AWS_PROFILE", "work")]), Some(home.path())).unwrap();
        assert_eq!(
            (r.endpoint.as_str(), r.signing_region.as_str()),
            ("https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1")
        );
        let s = settings(serde_json::json!({"region": "us-gov-east-1"}));
        let r = resolve_with(Some(&s), &env_of(&[]), None).unwrap();
        assert_eq!(
            (r.endpoint.as_str(), r.signing_region.as_str()),
            ("https://iam.us-gov.amazonaws.com/", "us-gov-west-1")
        );
        // An endpoint override keeps the partition's signing region unless one is given.
        let s = settings(serde_json::json!({"region": "cn-north-1", "endpoint": "http://127.0.0.1:9/"}));
        let r = resolve_with(Some(&s), &env_of(&[]), None).unwrap();
        assert_eq!(
            (r.endpoint.as_str(), r.signing_region.as_str()),
            ("http://127.0.0.1:9/", "cn-north-1")
        );
        let s = settings(serde_json::json!({"region": "cn-north-1", "signing_region": "us-east-1"}));
        assert_eq!(
            resolve_with(Some(&s), &env_of(&[]), None).unwrap().signing_region,
            "us-east-1"
        );
        // The SES region stays the configured one.
        assert_eq!(resolve_with(Some(&s), &env_of(&[]), None).unwrap().region, "cn-north-1");
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        let s = AwsSettings {
            access_key_id: Some("AKIA".into()),
            ..Default::default()
        };
        assert!(
            resolve_with(Some(&s), &env_of(&[]), None)
                .unwrap_err()
                .contains("together")
        );
        let s =
            settings(serde_json::json!({"assume_role": {"role_arn": "arn:aws:iam::1:role/r", "duration_seconds": 60}}));
        let err = resolve_with(Some(&s), &env_of(&[]), None).unwrap_err();
        assert!(
            err.contains("aws.assume_role.duration_seconds") && err.contains("900"),
            "{err}"
        );
        let s = settings(serde_json::json!({"assume_role": {"role_arn": "role"}}));
        let err = resolve_with(Some(&s), &env_of(&[]), None).unwrap_err();
        assert!(err.contains("aws.assume_role.role_arn"), "{err}");
        let s = settings(serde_json::json!({"endpoint": "not a url"}));
        assert!(
            resolve_with(Some(&s), &env_of(&[]), None)
                .unwrap_err()
                .contains("not a URL")
        );
    }
}
