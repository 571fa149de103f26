//! The Alibaba Cloud credential chain, in the official SDKs' order: `configure` settings, the
//! environment (AccessKey with an optional STS token, then the OIDC role of RRSA), the `aliyun`
//! CLI's `~/.aliyun/config.json` profile (modes AK, StsToken, RamRoleArn, EcsRamRole,
//! ChainableRamRoleArn, OIDC), then the ECS instance RAM role when `ALIBABA_CLOUD_ECS_METADATA`
//! names it. Pure over an injected environment and home directory, so the precedence is
//! unit-tested without touching the process environment; fetching is in [`super::credentials`].

use super::credentials::{DEFAULT_METADATA_ENDPOINT, RoleRequest, SigningKey, Source, sts_endpoint};
use super::settings::AlicloudSettings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The region when nothing names one (the Terraform provider's default).
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// The session length asked of STS when none is configured (the SDKs' default).
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;
/// How deep ChainableRamRoleArn profiles may nest (a loop is an error, not a hang).
const MAX_CHAIN: usize = 8;

/// The resolved source of credentials and the region.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where credentials come from.
    pub source: Source,
    /// Region id, such as `cn-hangzhou`.
    pub region: String,
}

/// `~/.aliyun/config.json`, only the fields we read.
#[derive(Deserialize)]
struct CliConfig {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<CliProfile>,
}

#[derive(Deserialize, Clone, Default)]
#[serde(default)]
struct CliProfile {
    name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: String,
    sts_token: String,
    region_id: String,
    ram_role_arn: String,
    ram_session_name: String,
    expired_seconds: u32,
    sts_region: String,
    enable_vpc: bool,
    source_profile: String,
    ram_role_name: String,
    oidc_token_file: String,
    oidc_provider_arn: String,
    policy: String,
    external_id: String,
}

/// Reads a variable, empty counting as unset.
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Resolves the source of credentials and the region (see the module docs for the order). The
/// region: `settings.region`, `ALIBABA_CLOUD_REGION_ID`, `ALICLOUD_REGION`, the profile's
/// `region_id`, then [`DEFAULT_REGION`].
pub fn resolve(settings: &AlicloudSettings, env: Env<'_>, home: Option<&Path>) -> Result<Resolved, String> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut region = settings
        .region
        .clone()
        .or_else(|| env("ALIBABA_CLOUD_REGION_ID"))
        .or_else(|| env("ALICLOUD_REGION"));
    let sts = |profile_region: Option<&str>, profile_vpc: bool| {
        let vpc =
            profile_vpc || env("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let region = profile_region
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .or_else(|| env("ALIBABA_CLOUD_STS_REGION"));
        sts_endpoint(
            settings
                .sts_endpoint
                .clone()
                .or_else(|| env("ALIBABA_CLOUD_STS_ENDPOINT")),
            region.as_deref(),
            vpc,
        )
    };
    let session_name = || env("ALIBABA_CLOUD_ROLE_SESSION_NAME").unwrap_or_else(default_session_name);
    let static_key = |id: Option<String>, secret: Option<String>, token: Option<String>, origin: &str| {
        Some(Source::Static {
            key: SigningKey::new(id?, secret?, token),
            origin: origin.to_string(),
        })
    };

    let configured = match (&settings.access_key_id, &settings.access_key_secret) {
        (Some(id), Some(secret)) => static_key(
            Some(id.clone()),
            Some(secret.expose().clone()),
            settings.security_token.as_ref().map(|t| t.expose().clone()),
            "configure",
        ),
        (None, None) if settings.security_token.is_some() => {
            return Err("alicloud: configure has security_token without access_key_id and access_key_secret".into());
        }
        (None, None) => None,
        _ => return Err("alicloud: configure needs both access_key_id and access_key_secret".into()),
    };
    let source = configured
        .or_else(|| {
            static_key(
                env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                env("ALIBABA_CLOUD_SECURITY_TOKEN"),
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
            )
        })
        .or_else(|| {
            static_key(
                env("ALICLOUD_ACCESS_KEY"),
                env("ALICLOUD_SECRET_KEY"),
                env("ALICLOUD_SECURITY_TOKEN"),
                "ALICLOUD_ACCESS_KEY",
            )
        })
        .or_else(|| {
            Some(Source::Oidc {
                role: RoleRequest {
                    role_arn: env("ALIBABA_CLOUD_ROLE_ARN")?,
                    session_name: session_name(),
                    duration_seconds: DEFAULT_DURATION_SECONDS,
                    policy: None,
                    external_id: None,
                    sts_endpoint: sts(None, false),
                },
                provider_arn: env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")?,
                token_file: PathBuf::from(env("ALIBABA_CLOUD_OIDC_TOKEN_FILE")?),
                origin: "ALIBABA_CLOUD_ROLE_ARN".into(),
            })
        });
    let source = match source {
        Some(found) => found,
        None => {
            let wanted = settings.profile.clone().or_else(|| env("ALIBABA_CLOUD_PROFILE"));
            let cli_disabled =
                env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let file = if cli_disabled {
                None
            } else {
                read_cli_config(home, wanted.is_some())?
            };
            match file {
                Some((path, config)) => {
                    let name = wanted.or(config.current.clone()).unwrap_or_else(|| "default".into());
                    let ctx = ProfileContext {
                        config: &config,
                        path: &path,
                        sts: &sts,
                        ecs_endpoint: ecs_endpoint(settings, &env),
                        default_session: session_name(),
                    };
                    let (source, profile_region) = ctx.source(&name, 0)?;
                    if region.is_none() && !profile_region.is_empty() {
                        region = Some(profile_region);
                    }
                    source
                }
                None => ecs_role(settings, &env).ok_or_else(no_credentials)?,
            }
        }
    };
    Ok(Resolved {
        source,
        region: region.unwrap_or_else(|| DEFAULT_REGION.to_string()),
    })
}

fn no_credentials() -> String {
    "alicloud: no credentials: set access_key_id/access_key_secret in configure, \
     ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), \
     ALIBABA_CLOUD_ROLE_ARN/ALIBABA_CLOUD_OIDC_PROVIDER_ARN/ALIBABA_CLOUD_OIDC_TOKEN_FILE, \
     a profile in ~/.aliyun/config.json, or ALIBABA_CLOUD_ECS_METADATA for the ECS RAM role"
        .into()
}

fn default_session_name() -> String {
    format!("credplane-{}", chrono::Utc::now().timestamp_millis())
}

fn ecs_endpoint(settings: &AlicloudSettings, env: &dyn Fn(&str) -> Option<String>) -> String {
    settings
        .ecs_metadata_endpoint
        .clone()
        .or_else(|| env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT"))
        .unwrap_or_else(|| DEFAULT_METADATA_ENDPOINT.into())
}

/// The ECS RAM role of the environment: named by `ALIBABA_CLOUD_ECS_METADATA`, or any role
/// when a metadata endpoint is configured; never when `ALIBABA_CLOUD_ECS_METADATA_DISABLED`.
fn ecs_role(settings: &AlicloudSettings, env: &dyn Fn(&str) -> Option<String>) -> Option<Source> {
    if env("ALIBABA_CLOUD_ECS_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let role_name = env("ALIBABA_CLOUD_ECS_METADATA");
    if role_name.is_none() && settings.ecs_metadata_endpoint.is_none() {
        return None;
    }
    Some(Source::EcsRamRole {
        role_name,
        endpoint: ecs_endpoint(settings, env),
        origin: "ALIBABA_CLOUD_ECS_METADATA".into(),
    })
}

/// The parsed file, or `None` when it does not exist and no profile was asked for by name.
fn read_cli_config(home: Option<&Path>, named: bool) -> Result<Option<(PathBuf, CliConfig)>, String> {
    let Some(path) = home.map(|h| h.join(".aliyun").join("config.json")) else {
        return if named { Err(no_credentials()) } else { Ok(None) };
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => return Ok(None),
        Err(e) => return Err(format!("alicloud: cannot read {}: {e}", path.display())),
    };
    let config: CliConfig =
        serde_json::from_str(&text).map_err(|e| format!("alicloud: {} is not valid JSON: {e}", path.display()))?;
    Ok(Some((path, config)))
}

struct ProfileContext<'a> {
    config: &'a CliConfig,
    path: &'a Path,
    sts: &'a dyn Fn(Option<&str>, bool) -> String,
    ecs_endpoint: String,
    default_session: String,
}

impl ProfileContext<'_> {
    /// The source of profile `name` and its `region_id`.
    fn source(&self, name: &str, depth: usize) -> Result<(Source, String), String> {
        let path = self.path.display();
        if depth > MAX_CHAIN {
            return Err(format!(
                "alicloud: profile {name:?} of {path}: source_profile chain is longer than {MAX_CHAIN} (a loop?)"
            ));
        }
        let p = self
            .config
            .profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("alicloud: profile {name:?} not found in {path}"))?;
        let origin = format!("profile {name:?} ({}) of {path}", p.mode);
        let need = |field: &str, value: &str| {
            if value.is_empty() {
                Err(format!(
                    "alicloud: profile {name:?} of {path} has mode {} but no {field}",
                    p.mode
                ))
            } else {
                Ok(value.to_string())
            }
        };
        let role = |p: &CliProfile| -> Result<RoleRequest, String> {
            Ok(RoleRequest {
                role_arn: need("ram_role_arn", &p.ram_role_arn)?,
                session_name: Some(p.ram_session_name.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| self.default_session.clone()),
                duration_seconds: if p.expired_seconds == 0 {
                    DEFAULT_DURATION_SECONDS
                } else {
                    p.expired_seconds
                },
                policy: Some(p.policy.clone()).filter(|s| !s.is_empty()),
                external_id: Some(p.external_id.clone()).filter(|s| !s.is_empty()),
                sts_endpoint: (self.sts)(Some(&p.sts_region), p.enable_vpc),
            })
        };
        let static_key = |token: Option<String>| -> Result<Source, String> {
            Ok(Source::Static {
                key: SigningKey::new(
                    need("access_key_id", &p.access_key_id)?,
                    need("access_key_secret", &p.access_key_secret)?,
                    token,
                ),
                origin: origin.clone(),
            })
        };
        let source = match p.mode.as_str() {
            "AK" | "" => static_key(None)?,
            "StsToken" => static_key(Some(need("sts_token", &p.sts_token)?))?,
            "RamRoleArn" => Source::AssumeRole {
                base: Box::new(static_key(None)?),
                role: role(p)?,
                origin: origin.clone(),
            },
            "ChainableRamRoleArn" => {
                let parent = need("source_profile", &p.source_profile)?;
                Source::AssumeRole {
                    base: Box::new(self.source(&parent, depth + 1)?.0),
                    role: role(p)?,
                    origin: origin.clone(),
                }
            }
            "EcsRamRole" => Source::EcsRamRole {
                role_name: Some(p.ram_role_name.clone()).filter(|s| !s.is_empty()),
                endpoint: self.ecs_endpoint.clone(),
                origin: origin.clone(),
            },
            "OIDC" => Source::Oidc {
                role: role(p)?,
                provider_arn: need("oidc_provider_arn", &p.oidc_provider_arn)?,
                token_file: PathBuf::from(need("oidc_token_file", &p.oidc_token_file)?),
                origin: origin.clone(),
            },
            other => {
                return Err(format!(
                    "alicloud: profile {name:?} of {path} has mode {other:?}; credplane reads the modes AK, \
                     StsToken, RamRoleArn, EcsRamRole, ChainableRamRoleArn and OIDC"
                ));
            }
        };
        Ok((source, p.region_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use std::collections::HashMap;

    fn key(r: &Resolved) -> &SigningKey {
        match &r.source {
            Source::Static { key, .. } => key,
            other => panic!("not a static source: {other:?}"),
        }
    }

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
            (key(&got).access_key_id.as_str(), got.region.as_str()),
            ("cfg-id", "eu-central-1")
        );
        let got = resolve(&settings(None, None, None), &all_env, Some(home.path())).unwrap();
        assert_eq!(
            (
                key(&got).access_key_id.as_str(),
                key(&got).access_key_secret.expose().as_str()
            ),
            ("env-id", "env-secret")
        );
        let tf_env = env_of(&[("ALICLOUD_ACCESS_KEY", "tf-id"), ("ALICLOUD_SECRET_KEY", "tf-secret")]);
        let got = resolve(&settings(None, None, None), &tf_env, Some(home.path())).unwrap();
        assert_eq!(
            (key(&got).access_key_id.as_str(), got.region.as_str()),
            ("tf-id", DEFAULT_REGION)
        );
        let got = resolve(&settings(None, None, None), &env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(
            (key(&got).access_key_id.as_str(), got.region.as_str()),
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
            (key(&got).access_key_id.as_str(), got.region.as_str()),
            ("file-default", "ap-southeast-1")
        );
        let got = resolve(&settings(None, Some("us-west-1"), None), &env, Some(home.path())).unwrap();
        assert_eq!(got.region, "us-west-1");
        let by_env = env_of(&[("ALIBABA_CLOUD_PROFILE", "default")]);
        assert_eq!(
            key(&resolve(&settings(None, None, None), &by_env, Some(home.path())).unwrap()).access_key_id,
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
