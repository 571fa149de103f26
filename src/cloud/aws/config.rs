//! Where the AWS credentials, region and IAM endpoint come from: `configure` settings first, then
//! the environment, then the shared files `~/.aws/credentials` and `~/.aws/config`.
//!
//! Resolution is a pure function of the settings, an environment lookup and a home directory, so
//! the precedence is unit-tested without touching the process environment.

use super::settings::AwsSettings;
use super::sign::Credentials;
use ini::Ini;
use std::path::{Path, PathBuf};

/// The IAM endpoint of the commercial partition.
pub const DEFAULT_IAM_ENDPOINT: &str = "https://iam.amazonaws.com/";
/// IAM is global: requests are signed for `us-east-1`.
pub const IAM_SIGNING_REGION: &str = "us-east-1";
/// The region when nothing names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Resolved AWS access.
#[derive(Debug, Clone)]
pub struct ResolvedAws {
    /// Who signs.
    pub credentials: Credentials,
    /// The configured region (used for `ses_smtp_password_v4`).
    pub region: String,
    /// The IAM endpoint URL.
    pub endpoint: String,
    /// Where the credentials came from: `settings`, `environment` or `shared files (profile x)`.
    pub source: String,
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
    let profile = s
        .profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_string());
    let files = SharedFiles::load(env, home, &profile)?;

    let (credentials, source) = match (&s.access_key_id, &s.secret_access_key) {
        (Some(id), Some(secret)) => {
            let mut c = Credentials::new(id.clone(), secret.expose().clone());
            if let Some(token) = &s.session_token {
                c = c.with_session_token(token.expose().clone());
            }
            (c, "settings".to_string())
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("aws: access_key_id and secret_access_key must be set together".to_string());
        }
        (None, None) => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                let mut c = Credentials::new(id, secret);
                if let Some(token) = env("AWS_SESSION_TOKEN") {
                    c = c.with_session_token(token);
                }
                (c, "environment".to_string())
            }
            _ => match (
                files.credential("aws_access_key_id"),
                files.credential("aws_secret_access_key"),
            ) {
                (Some(id), Some(secret)) => {
                    let mut c = Credentials::new(id, secret);
                    if let Some(token) = files.credential("aws_session_token") {
                        c = c.with_session_token(token);
                    }
                    (c, format!("shared files (profile {profile})"))
                }
                _ => {
                    return Err(format!(
                        "no AWS credentials: set aws.access_key_id and aws.secret_access_key with configure, or \
                         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile {profile} in {}",
                        files
                            .credentials_path
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| "~/.aws/credentials".into())
                    ));
                }
            },
        },
    };
    let region = s
        .region
        .clone()
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| files.config("region"))
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let endpoint = s
        .endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_IAM"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| DEFAULT_IAM_ENDPOINT.to_string());
    url::Url::parse(&endpoint).map_err(|e| format!("aws: the IAM endpoint {endpoint:?} is not a URL: {e}"))?;
    Ok(ResolvedAws {
        credentials,
        region,
        endpoint,
        source,
    })
}

/// The sections of one profile in the shared files.
struct SharedFiles {
    credentials_path: Option<PathBuf>,
    credentials: Option<ini::Properties>,
    config: Option<ini::Properties>,
}

impl SharedFiles {
    fn load(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>, profile: &str) -> Result<Self, String> {
        let path = |var: &str, file: &str| {
            env(var)
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".aws").join(file)))
        };
        let credentials_path = path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_path = path("AWS_CONFIG_FILE", "config");
        let credentials = match &credentials_path {
            Some(p) => read(p)?.and_then(|ini| ini.section(Some(profile)).cloned()),
            None => None,
        };
        let config = match &config_path {
            Some(p) => read(p)?.and_then(|ini| {
                let named = if profile == "default" {
                    None
                } else {
                    ini.section(Some(format!("profile {profile}"))).cloned()
                };
                named.or_else(|| ini.section(Some(profile)).cloned().filter(|_| profile == "default"))
            }),
            None => None,
        };
        Ok(SharedFiles {
            credentials_path,
            credentials,
            config,
        })
    }

    fn credential(&self, key: &str) -> Option<String> {
        // The config file may hold credentials too; the credentials file wins.
        get(&self.credentials, key).or_else(|| get(&self.config, key))
    }

    fn config(&self, key: &str) -> Option<String> {
        get(&self.config, key)
    }
}

fn get(section: &Option<ini::Properties>, key: &str) -> Option<String> {
    section
        .as_ref()?
        .get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn read(path: &Path) -> Result<Option<Ini>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ini::load_from_str(&text)
            .map(Some)
            .map_err(|e| format!("cannot parse {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn home_with(credentials: &str, config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        dir
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const CREDS: &str = "[default]\naws_access_key_id = AKIAFILEDEFAULT\naws_secret_access_key = filesecret\n\n[work]\naws_access_key_id = AKIAFILEWORK\naws_secret_access_key = worksecret\naws_session_token = worktoken\n";
    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile work]\nregion = ap-south-1\n";

    #[test]
    fn settings_win_over_env_and_files() {
        let home = home_with(CREDS, CONFIG);
        let settings: AwsSettings = serde_json::from_value(serde_json::json!({
            "access_key_id": "AKIASETTINGS", "secret_access_key": "s", "region": "us-west-2", "endpoint": "http://127.0.0.1:1/"
        }))
        .unwrap();
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "e"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL_IAM", "http://x/"),
        ]);
        let r = resolve_with(Some(&settings), &env, Some(home.path())).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIASETTINGS");
        assert_eq!(r.region, "us-west-2");
        assert_eq!(r.endpoint, "http://127.0.0.1:1/");
        assert_eq!(r.source, "settings");
    }

    #[test]
    fn env_wins_over_files() {
        let home = home_with(CREDS, CONFIG);
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "e"),
            ("AWS_SESSION_TOKEN", "tok"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL", "http://generic/"),
        ]);
        let r = resolve_with(None, &env, Some(home.path())).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIAENV");
        assert_eq!(r.credentials.session_token.as_deref(), Some("tok"));
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
        assert_eq!(r.credentials.access_key_id, "AKIAFILEDEFAULT");
        assert_eq!(r.region, "us-west-1");
        assert_eq!(r.endpoint, "http://iam/");
    }

    #[test]
    fn files_by_profile() {
        let home = home_with(CREDS, CONFIG);
        let r = resolve_with(None, &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(
            (r.credentials.access_key_id.as_str(), r.region.as_str()),
            ("AKIAFILEDEFAULT", "eu-west-1")
        );
        assert_eq!(r.endpoint, DEFAULT_IAM_ENDPOINT);
        let r = resolve_with(None, &env_of(&[("AWS_PROFILE", "work")]), Some(home.path())).unwrap();
        assert_eq!(
            (r.credentials.access_key_id.as_str(), r.region.as_str()),
            ("AKIAFILEWORK", "ap-south-1")
        );
        assert_eq!(r.credentials.session_token.as_deref(), Some("worktoken"));
        assert_eq!(r.source, "shared files (profile work)");
        // The settings' profile beats AWS_PROFILE.
        let settings = AwsSettings {
            profile: Some("default".into()),
            ..Default::default()
        };
        let r = resolve_with(Some(&settings), &env_of(&[("AWS_PROFILE", "work")]), Some(home.path())).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKIAFILEDEFAULT");
    }

    #[test]
    fn file_locations_from_env() {
        let elsewhere = home_with(
            "[p]\naws_access_key_id = AKIAELSEWHERE\naws_secret_access_key = x\n",
            "[profile p]\nregion = sa-east-1\n",
        );
        let home = home_with(CREDS, CONFIG);
        let creds = elsewhere.path().join(".aws/credentials");
        let config = elsewhere.path().join(".aws/config");
        let env = env_of(&[
            ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_PROFILE", "p"),
        ]);
        let r = resolve_with(None, &env, Some(home.path())).unwrap();
        assert_eq!(
            (r.credentials.access_key_id.as_str(), r.region.as_str()),
            ("AKIAELSEWHERE", "sa-east-1")
        );
    }

    #[test]
    fn nothing_is_a_clear_error() {
        let err = resolve_with(None, &env_of(&[]), None).unwrap_err();
        assert!(err.contains("no AWS credentials"), "{err}");
        let settings = AwsSettings {
            access_key_id: Some("AKIA".into()),
            ..Default::default()
        };
        assert!(
            resolve_with(Some(&settings), &env_of(&[]), None)
                .unwrap_err()
                .contains("together")
        );
    }
}
