//! The Alibaba Cloud credential chain: `configure` settings, then the environment, then the
//! `aliyun` CLI's `~/.aliyun/config.json`. Pure over an injected environment and home directory,
//! so the precedence is unit-tested without touching the process environment.

use super::settings::AlicloudSettings;
use crate::secrets::Secret;
use serde::Deserialize;
use std::path::Path;

/// The region when nothing names one (the Terraform provider's default).
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// Resolved credentials and region.
#[derive(Debug, Clone)]
pub struct AlicloudCredentials {
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret<String>,
    /// Region id, such as `cn-hangzhou`.
    pub region: String,
    /// Where the credentials came from, for error messages (`configure`, an env var, the profile).
    pub source: String,
}

impl AlicloudCredentials {
    /// The credentials for `settings`, filled in from the process environment and home directory.
    pub fn configured(settings: Option<&AlicloudSettings>) -> Result<Self, crate::cloud::error::CloudError> {
        let env = |name: &str| std::env::var(name).ok();
        resolve(
            &settings.cloned().unwrap_or_default(),
            &env,
            dirs::home_dir().as_deref(),
        )
        .map_err(crate::cloud::error::CloudError::Configuration)
    }
}

/// `~/.aliyun/config.json`, only the fields we read.
#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize)]
struct CliProfile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    region_id: String,
}

/// Resolves credentials: `settings` first, then `ALIBABA_CLOUD_ACCESS_KEY_ID` /
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, then `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY`, then the
/// `~/.aliyun/config.json` profile (`settings.profile`, else `ALIBABA_CLOUD_PROFILE`, else the
/// file's `current`), which must be of mode `AK`. The region follows the same order
/// (`ALIBABA_CLOUD_REGION_ID`, `ALICLOUD_REGION`, the profile's `region_id`), defaulting to
/// [`DEFAULT_REGION`].
pub fn resolve(
    settings: &AlicloudSettings,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<AlicloudCredentials, String> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut region = settings
        .region
        .clone()
        .or_else(|| env("ALIBABA_CLOUD_REGION_ID"))
        .or_else(|| env("ALICLOUD_REGION"));
    let pair = match (&settings.access_key_id, &settings.access_key_secret) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.expose().clone(), "configure".to_string())),
        (Some(_), None) | (None, Some(_)) => {
            return Err("alicloud: configure needs both access_key_id and access_key_secret".into());
        }
        (None, None) => None,
    };
    let pair = pair
        .or_else(|| {
            Some((
                env("ALIBABA_CLOUD_ACCESS_KEY_ID")?,
                env("ALIBABA_CLOUD_ACCESS_KEY_SECRET")?,
                "ALIBABA_CLOUD_ACCESS_KEY_ID".to_string(),
            ))
        })
        .or_else(|| {
            Some((
                env("ALICLOUD_ACCESS_KEY")?,
                env("ALICLOUD_SECRET_KEY")?,
                "ALICLOUD_ACCESS_KEY".to_string(),
            ))
        });
    let (id, secret, source) = match pair {
        Some(found) => found,
        None => {
            let profile = profile(settings.profile.clone().or_else(|| env("ALIBABA_CLOUD_PROFILE")), home)?;
            if region.is_none() && !profile.region_id.is_empty() {
                region = Some(profile.region_id.clone());
            }
            (
                profile.access_key_id,
                profile.access_key_secret,
                format!("profile {} of ~/.aliyun/config.json", profile.name),
            )
        }
    };
    Ok(AlicloudCredentials {
        access_key_id: id,
        access_key_secret: Secret::new(secret),
        region: region.unwrap_or_else(|| DEFAULT_REGION.to_string()),
        source,
    })
}

fn profile(wanted: Option<String>, home: Option<&Path>) -> Result<CliProfile, String> {
    const NONE: &str = "alicloud: no credentials: set access_key_id/access_key_secret in configure, \
        ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, \
        or an AK profile in ~/.aliyun/config.json";
    let Some(path) = home.map(|h| h.join(".aliyun").join("config.json")) else {
        return Err(NONE.into());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && wanted.is_none() => {
            return Err(NONE.into());
        }
        Err(e) => return Err(format!("alicloud: cannot read {}: {e}", path.display())),
    };
    let config: CliConfig =
        serde_json::from_str(&text).map_err(|e| format!("alicloud: {} is not valid JSON: {e}", path.display()))?;
    let name = wanted.or(config.current).unwrap_or_else(|| "default".into());
    let found = config
        .profiles
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("alicloud: profile {name:?} not found in {}", path.display()))?;
    if !found.mode.eq_ignore_ascii_case("AK") || found.access_key_id.is_empty() || found.access_key_secret.is_empty() {
        return Err(format!(
            "alicloud: profile {name:?} of {} has mode {:?}; credplane reads AK profiles with access_key_id and access_key_secret",
            path.display(),
            found.mode
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn home_with(config: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aliyun")).unwrap();
        std::fs::write(home.path().join(".aliyun/config.json"), config).unwrap();
        home
    }

    const CONFIG: &str = r#"{"current":"work","profiles":[
        {"name":"default","mode":"AK","access_key_id":"file-default","access_key_secret":"s0","region_id":"cn-beijing"},
        {"name":"work","mode":"AK","access_key_id":"file-work","access_key_secret":"s1","region_id":"cn-shanghai"},
        {"name":"sts","mode":"StsToken","access_key_id":"x","access_key_secret":"y"}]}"#;

    fn settings(id: Option<&str>, region: Option<&str>, profile: Option<&str>) -> AlicloudSettings {
        AlicloudSettings {
            access_key_id: id.map(str::to_owned),
            access_key_secret: id.map(|_| Secret::new("cfg-secret".to_string())),
            region: region.map(str::to_owned),
            profile: profile.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn configure_beats_env_beats_terraform_env_beats_file() {
        let home = home_with(CONFIG);
        let all_env = env_of(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ("ALICLOUD_ACCESS_KEY", "tf-id"),
            ("ALICLOUD_SECRET_KEY", "tf-secret"),
            ("ALICLOUD_REGION", "eu-central-1"),
        ]);
        let got = resolve(&settings(Some("cfg-id"), None, None), &all_env, Some(home.path())).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.region.as_str()),
            ("cfg-id", "eu-central-1")
        );
        let got = resolve(&settings(None, None, None), &all_env, Some(home.path())).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.access_key_secret.expose().as_str()),
            ("env-id", "env-secret")
        );
        let tf_env = env_of(&[("ALICLOUD_ACCESS_KEY", "tf-id"), ("ALICLOUD_SECRET_KEY", "tf-secret")]);
        let got = resolve(&settings(None, None, None), &tf_env, Some(home.path())).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.region.as_str()),
            ("tf-id", DEFAULT_REGION)
        );
        let got = resolve(&settings(None, None, None), &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.region.as_str()),
            ("file-work", "cn-shanghai")
        );
    }

    #[test]
    fn region_precedence_and_profile_choice() {
        let home = home_with(CONFIG);
        let env = env_of(&[
            ("ALIBABA_CLOUD_REGION_ID", "ap-southeast-1"),
            ("ALICLOUD_REGION", "eu-central-1"),
        ]);
        let got = resolve(&settings(None, None, Some("default")), &env, Some(home.path())).unwrap();
        assert_eq!(
            (got.access_key_id.as_str(), got.region.as_str()),
            ("file-default", "ap-southeast-1")
        );
        let got = resolve(&settings(None, Some("us-west-1"), None), &env, Some(home.path())).unwrap();
        assert_eq!(got.region, "us-west-1");
        let by_env = env_of(&[("ALIBABA_CLOUD_PROFILE", "default")]);
        assert_eq!(
            resolve(&settings(None, None, None), &by_env, Some(home.path()))
                .unwrap()
                .access_key_id,
            "file-default"
        );
    }

    #[test]
    fn refusals_say_why() {
        let home = home_with(CONFIG);
        let err = resolve(&settings(None, None, Some("sts")), &env_of(&[]), Some(home.path())).unwrap_err();
        assert!(err.contains("StsToken"), "{err}");
        let err = resolve(&settings(None, None, Some("nope")), &env_of(&[]), Some(home.path())).unwrap_err();
        assert!(err.contains("not found"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = resolve(&settings(None, None, None), &env_of(&[]), Some(empty.path())).unwrap_err();
        assert!(err.contains("no credentials"), "{err}");
        let half_env = env_of(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "only-id")]);
        assert!(resolve(&settings(None, None, None), &half_env, Some(empty.path())).is_err());
    }
}
