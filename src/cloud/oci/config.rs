//! The OCI config file (`~/.oci/config`, INI) and the OCI CLI's environment overrides.
//!
//! Resolution, first match wins:
//! - file: the explicit argument, then `OCI_CONFIG_FILE` (what the SDKs and most tools use),
//!   then `OCI_CLI_CONFIG_FILE` (the OCI CLI's name), then `~/.oci/config`;
//! - profile: the explicit argument, then `OCI_CLI_PROFILE`, then `DEFAULT`;
//! - each key: its environment variable, then the profile's section, then `[DEFAULT]`
//!   (profiles inherit missing keys from `[DEFAULT]`, as Python's configparser does for the
//!   OCI SDK and CLI).
//!
//! The environment variable names are the OCI CLI's (docs: "CLI Environment Variables"):
//! `OCI_CLI_USER`, `OCI_CLI_TENANCY`, `OCI_CLI_FINGERPRINT`, `OCI_CLI_REGION`,
//! `OCI_CLI_KEY_FILE`, `OCI_CLI_KEY_CONTENT` (the PEM itself; wins over any key file) and
//! `OCI_CLI_PASSPHRASE`. Empty variables count as unset. Keys are matched case-sensitively,
//! in lowercase as the OCI tools write them.
//!
//! A missing default file is not an error (everything may come from the environment); a
//! missing file that was named explicitly is.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};
use zeroize::Zeroizing;

use super::settings::OciSettings;
use super::sign::{KeyError, OciSigner, load_private_key_pem};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "DEFAULT";
/// Environment variable naming the config file (OCI SDKs and common tooling).
pub const ENV_CONFIG_FILE: &str = "OCI_CONFIG_FILE";
/// Environment variable naming the config file (OCI CLI); used when `OCI_CONFIG_FILE` is unset.
pub const ENV_CLI_CONFIG_FILE: &str = "OCI_CLI_CONFIG_FILE";
/// Environment variable naming the profile.
pub const ENV_PROFILE: &str = "OCI_CLI_PROFILE";
/// Environment variable holding the private key PEM itself.
pub const ENV_KEY_CONTENT: &str = "OCI_CLI_KEY_CONTENT";

/// Config keys and the environment variables that override them.
const USER: (&str, &str) = ("user", "OCI_CLI_USER");
const TENANCY: (&str, &str) = ("tenancy", "OCI_CLI_TENANCY");
const FINGERPRINT: (&str, &str) = ("fingerprint", "OCI_CLI_FINGERPRINT");
const REGION: (&str, &str) = ("region", "OCI_CLI_REGION");
const KEY_FILE: (&str, &str) = ("key_file", "OCI_CLI_KEY_FILE");
const PASS_PHRASE: (&str, &str) = ("pass_phrase", "OCI_CLI_PASSPHRASE");
const SECURITY_TOKEN_FILE: (&str, &str) = ("security_token_file", "OCI_CLI_SECURITY_TOKEN_FILE");

/// A resolved OCI API-key configuration. `Debug` hides the key and the pass phrase.
#[derive(Clone)]
pub struct OciConfig {
    /// Tenancy OCID.
    pub tenancy: String,
    /// User OCID.
    pub user: String,
    /// Fingerprint of the API key (`aa:bb:...`).
    pub fingerprint: String,
    /// Region identifier, e.g. `us-ashburn-1`.
    pub region: String,
    /// The private key PEM (secret; zeroed on drop).
    pub private_key_pem: Zeroizing<String>,
    /// The key's pass phrase, if it is encrypted (secret; zeroed on drop).
    pub pass_phrase: Option<Zeroizing<String>>,
    /// The session token file of a profile written by `oci session authenticate` (such a
    /// profile has no `user`: requests are signed with keyId `ST$<token>`).
    pub security_token_file: Option<String>,
}

impl OciConfig {
    /// The signature keyId: `tenancy/user/fingerprint`.
    pub fn key_id(&self) -> String {
        format!("{}/{}/{}", self.tenancy, self.user, self.fingerprint)
    }

    /// Loads the private key and returns a request signer for this configuration.
    pub fn signer(&self) -> Result<OciSigner, KeyError> {
        let key = load_private_key_pem(&self.private_key_pem, self.pass_phrase.as_deref().map(String::as_str))?;
        Ok(OciSigner::for_user(&self.tenancy, &self.user, &self.fingerprint, key))
    }
}

impl fmt::Debug for OciConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciConfig")
            .field("tenancy", &self.tenancy)
            .field("user", &self.user)
            .field("fingerprint", &self.fingerprint)
            .field("region", &self.region)
            .field("private_key_pem", &"<redacted>")
            .field("pass_phrase", &self.pass_phrase.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where to look. Tests pass their own `env` and `home` so the real ones are never touched.
pub struct ConfigSource<'a> {
    /// An explicit config file path (wins over the environment).
    pub path: Option<&'a Path>,
    /// An explicit profile name (wins over `OCI_CLI_PROFILE`).
    pub profile: Option<&'a str>,
    /// The home directory, for `~/.oci/config` and `~` in paths.
    pub home: Option<&'a Path>,
    /// Reads an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Why the configuration could not be loaded. Messages name files, profiles and keys, never
/// secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read OCI config file {}: {source}", path.display())]
    ReadFile {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The config file is not valid INI.
    #[error("cannot parse OCI config file {}: {reason}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The named profile has no section in the file.
    #[error("profile [{profile}] not found in OCI config file {}", path.display())]
    ProfileNotFound {
        /// The config file.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
    },
    /// A required key is set neither in the file nor in the environment.
    #[error(
        "OCI config {} profile [{profile}] has no `{key}` (nor [DEFAULT], nor ${env_var})",
        file_name(path)
    )]
    MissingKey {
        /// The config file, if one was read.
        path: Option<PathBuf>,
        /// The profile in use.
        profile: String,
        /// The missing key.
        key: &'static str,
        /// The environment variable that could have supplied it.
        env_var: &'static str,
    },
    /// The private key file named by `key_file` could not be read.
    #[error("cannot read OCI private key file {} (key_file of profile [{profile}]): {source}", path.display())]
    ReadKeyFile {
        /// The key file, after `~` expansion.
        path: PathBuf,
        /// The profile in use.
        profile: String,
        /// The I/O error.
        source: io::Error,
    },
    /// A path starts with `~` but no home directory is known.
    #[error("cannot expand `~` in {path:?}: no home directory")]
    NoHome {
        /// The path as written.
        path: String,
    },
}

fn file_name(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or_else(|| "(no config file)".to_owned(), |p| p.display().to_string())
}

/// Loads the configuration from the real environment and home directory.
pub fn load_from_environment(path: Option<&Path>, profile: Option<&str>) -> Result<OciConfig, ConfigError> {
    let home = dirs::home_dir();
    let env = |name: &str| std::env::var(name).ok();
    load(&ConfigSource {
        path,
        profile,
        home: home.as_deref(),
        env: &env,
    })
}

/// Loads the configuration as described in the module docs.
pub fn load(src: &ConfigSource<'_>) -> Result<OciConfig, ConfigError> {
    let env = |name: &str| (src.env)(name).filter(|v| !v.is_empty());
    let (path, explicit) = match (src.path, env(ENV_CONFIG_FILE).or_else(|| env(ENV_CLI_CONFIG_FILE))) {
        (Some(p), _) => (Some(p.to_path_buf()), true),
        (None, Some(p)) => (Some(expand_tilde(&p, src.home)?), true),
        (None, None) => (src.home.map(|h| h.join(".oci").join("config")), false),
    };
    let profile_named = src.profile.map(str::to_owned).or_else(|| env(ENV_PROFILE));
    let profile = profile_named.clone().unwrap_or_else(|| DEFAULT_PROFILE.to_owned());

    let ini = match &path {
        Some(p) => read_ini(p, explicit)?,
        None => None,
    };
    let section = ini.as_ref().and_then(|i| i.section(Some(profile.as_str())));
    if let (Some(p), Some(_), None, Some(_)) = (&path, &ini, section, &profile_named) {
        // A profile asked for by name must exist; an absent [DEFAULT] may be made up by env vars.
        return Err(ConfigError::ProfileNotFound {
            path: p.clone(),
            profile,
        });
    }
    let default = ini.as_ref().and_then(|i| i.section(Some(DEFAULT_PROFILE)));

    let lookup = |(key, env_var): (&'static str, &'static str)| -> Option<String> {
        env(env_var)
            .or_else(|| section.and_then(|s| s.get(key)).map(str::to_owned))
            .or_else(|| default.and_then(|s| s.get(key)).map(str::to_owned))
            .filter(|v| !v.is_empty())
    };
    let missing = |(key, env_var): (&'static str, &'static str)| ConfigError::MissingKey {
        path: path.clone(),
        profile: profile.clone(),
        key,
        env_var,
    };
    let required = |k: (&'static str, &'static str)| lookup(k).ok_or_else(|| missing(k));

    let security_token_file = lookup(SECURITY_TOKEN_FILE);
    let user = match &security_token_file {
        Some(_) => lookup(USER).unwrap_or_default(),
        None => required(USER)?,
    };
    let tenancy = required(TENANCY)?;
    let fingerprint = required(FINGERPRINT)?;
    let region = required(REGION)?;
    let private_key_pem = match env(ENV_KEY_CONTENT) {
        Some(pem) => Zeroizing::new(pem),
        None => read_key_file(&required(KEY_FILE)?, src.home, &profile)?,
    };
    let pass_phrase = lookup(PASS_PHRASE).map(Zeroizing::new);
    Ok(OciConfig {
        tenancy,
        user,
        fingerprint,
        region,
        private_key_pem,
        pass_phrase,
        security_token_file,
    })
}

/// Reads and parses the INI file; `Ok(None)` when an implicit default file does not exist.
fn read_ini(path: &Path, explicit: bool) -> Result<Option<Ini>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(source) => {
            return Err(ConfigError::ReadFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // No escapes or quotes: Windows paths (C:\keys\k.pem) and pass phrases are taken literally.
    let opt = ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..ParseOption::default()
    };
    Ini::load_from_str_opt(&text, opt)
        .map(Some)
        .map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

fn read_key_file(key_file: &str, home: Option<&Path>, profile: &str) -> Result<Zeroizing<String>, ConfigError> {
    let path = expand_tilde(key_file, home)?;
    std::fs::read_to_string(&path)
        .map(Zeroizing::new)
        .map_err(|source| ConfigError::ReadKeyFile {
            path,
            profile: profile.to_owned(),
            source,
        })
}

/// Expands a leading `~` or `~/` to the home directory (not `~user`, which the OCI tools
/// do not document either).
pub fn expand_tilde(path: &str, home: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let rest = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with('\\') => rest,
        _ => return Ok(PathBuf::from(path)),
    };
    let home = home.ok_or_else(|| ConfigError::NoHome { path: path.to_owned() })?;
    Ok(home.join(rest.trim_start_matches(['/', '\\'])))
}

/// Settings and config file merged, before key loading.
pub struct Resolved {
    /// The tenancy.
    pub tenancy: String,
    /// The user.
    pub user: String,
    /// The fingerprint.
    pub fingerprint: String,
    /// The private key PEM.
    pub pem: zeroize::Zeroizing<String>,
    /// Its pass phrase, if encrypted.
    pub pass_phrase: Option<zeroize::Zeroizing<String>>,
    /// The endpoint.
    pub endpoint: String,
    /// The region, when one is known (for the home-region redirect).
    pub region: Option<String>,
}

/// The endpoint: the setting (a `{region}` template filled in), else the region's realm endpoint.
pub fn endpoint_of(s: &OciSettings, region: Option<&str>) -> Option<String> {
    use super::home_region::{Endpoints, REGION_PLACEHOLDER};
    match (&s.endpoint, region) {
        (Some(e), Some(r)) if e.contains(REGION_PLACEHOLDER) => Some(Endpoints::Template(e.clone()).for_region(r)),
        (Some(e), _) => Some(e.trim_end_matches('/').to_string()),
        (None, Some(r)) => Some(Endpoints::Realm.for_region(r)),
        (None, None) => None,
    }
}

pub(crate) fn settings_complete(s: &OciSettings) -> bool {
    s.tenancy.is_some()
        && s.user.is_some()
        && s.fingerprint.is_some()
        && (s.private_key.is_some() || s.key_file.is_some())
        && (s.region.is_some() || s.endpoint.is_some())
}

/// Resolves the OCI credentials field by field: `configure {oci: ...}` first, then the OCI
/// config file and the OCI CLI environment variables. The file is read only when the settings
/// leave something out. Errors name the missing setting or the file, never a value.
pub fn resolve(s: &OciSettings, env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Result<Resolved, String> {
    let file = if settings_complete(s) {
        None
    } else {
        let src = ConfigSource {
            path: s.config_file.as_deref().map(Path::new),
            profile: s.profile.as_deref(),
            home,
            env,
        };
        Some(load(&src).map_err(|e| {
            format!(
                "OCI credentials are incomplete in the provider settings and the OCI config could not fill them in: {e}"
            )
        })?)
    };
    let pick = |mine: &Option<String>, theirs: fn(&OciConfig) -> &String| -> Option<String> {
        mine.clone().or_else(|| file.as_ref().map(|f| theirs(f).clone()))
    };
    let missing = |what: &str| format!("OCI setting `{what}` is not set");
    let tenancy = pick(&s.tenancy, |f| &f.tenancy).ok_or_else(|| missing("tenancy"))?;
    let user = pick(&s.user, |f| &f.user).ok_or_else(|| missing("user"))?;
    let fingerprint = pick(&s.fingerprint, |f| &f.fingerprint).ok_or_else(|| missing("fingerprint"))?;
    let region = pick(&s.region, |f| &f.region);
    let pem = if let Some(key) = &s.private_key {
        zeroize::Zeroizing::new(key.expose().clone())
    } else if let Some(path) = &s.key_file {
        let path = expand_tilde(path, home).map_err(|e| e.to_string())?;
        zeroize::Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read OCI key_file {}: {e}", path.display()))?,
        )
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

impl Resolved {
    /// The signer of this key (decrypting it with the pass phrase if needed).
    pub fn signer(&self) -> Result<OciSigner, String> {
        let key = load_private_key_pem(&self.pem, self.pass_phrase.as_deref().map(String::as_str))
            .map_err(|e| format!("OCI API key: {e}"))?;
        Ok(OciSigner::for_user(&self.tenancy, &self.user, &self.fingerprint, key))
    }
}

#[cfg(test)]
mod tests;
