//! Writing an OCI config file for clients of our sandbox.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// The values written to one profile of an OCI config file. `Debug` hides the pass phrase.
#[derive(Clone, PartialEq, Eq)]
pub struct OciConfigParts {
    /// User OCID.
    pub user: String,
    /// API key fingerprint.
    pub fingerprint: String,
    /// Tenancy OCID.
    pub tenancy: String,
    /// Region identifier.
    pub region: String,
    /// Path of the private key PEM file.
    pub key_file: PathBuf,
    /// Pass phrase of the private key, if encrypted.
    pub pass_phrase: Option<String>,
}

impl fmt::Debug for OciConfigParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciConfigParts")
            .field("user", &self.user)
            .field("fingerprint", &self.fingerprint)
            .field("tenancy", &self.tenancy)
            .field("region", &self.region)
            .field("key_file", &self.key_file)
            .field("pass_phrase", &self.pass_phrase.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Writes `path` as an OCI config file with the single section `[profile]`, replacing any
/// existing file.
///
/// The file is created with mode 0600 (it may hold a pass phrase) in the target directory and
/// renamed into place, so readers never see a half-written file. Missing parent directories
/// are created.
pub fn write_config_file(path: &Path, profile: &str, parts: &OciConfigParts) -> Result<(), ConfigError> {
    let text = render(profile, parts)?;
    let write_err = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    // Same directory as the target, so the final rename stays on one file system.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    restrict_permissions(tmp.as_file()).map_err(write_err)?;
    tmp.write_all(text.as_bytes()).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn restrict_permissions(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    // tempfile already creates 0600; set it anyway so the guarantee does not rest on that.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_permissions(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// The INI text. Values are checked so that none can break out of its line or section.
fn render(profile: &str, parts: &OciConfigParts) -> Result<String, ConfigError> {
    check("profile", profile)?;
    if profile.contains(['[', ']']) {
        return Err(ConfigError::InvalidValue {
            key: "profile",
            reason: "contains a bracket",
        });
    }
    let key_file = parts.key_file.to_str().ok_or(ConfigError::InvalidValue {
        key: "key_file",
        reason: "path is not UTF-8",
    })?;
    let mut entries = vec![
        ("user", parts.user.as_str()),
        ("fingerprint", parts.fingerprint.as_str()),
        ("tenancy", parts.tenancy.as_str()),
        ("region", parts.region.as_str()),
        ("key_file", key_file),
    ];
    if let Some(pass) = &parts.pass_phrase {
        entries.push(("pass_phrase", pass.as_str()));
    }
    let mut text = format!("[{profile}]\n");
    for (key, value) in entries {
        check(key, value)?;
        text.push_str(&format!("{key}={value}\n"));
    }
    Ok(text)
}

fn check(key: &'static str, value: &str) -> Result<(), ConfigError> {
    let reason = if value.is_empty() {
        "is empty"
    } else if value.contains(['\n', '\r']) {
        "contains a line break"
    } else if value.trim() != value {
        // INI readers trim values, so the value would not read back as written.
        "has leading or trailing whitespace"
    } else {
        return Ok(());
    };
    Err(ConfigError::InvalidValue { key, reason })
}
