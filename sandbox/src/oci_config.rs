//! Writing an OCI config file for clients of our sandbox.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why the config file could not be written. Messages name the file and key, never a value.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A value cannot be written to an INI file safely.
    #[error("cannot write `{key}` to an OCI config file: {reason}")]
    InvalidValue {
        /// The key (or `profile`).
        key: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// Writing the config file failed.
    #[error("cannot write OCI config file {}: {source}", path.display())]
    Write {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

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
pub fn write_config_file(path: &Path, profile: &str, parts: &OciConfigParts) -> Result<(), WriteError> {
    let text = render(profile, parts)?;
    let write_err = |source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    crate::files::write_private(path, text.as_bytes()).map_err(write_err)
}

/// The INI text. Values are checked so that none can break out of its line or section.
fn render(profile: &str, parts: &OciConfigParts) -> Result<String, WriteError> {
    check("profile", profile)?;
    if profile.contains(['[', ']']) {
        return Err(WriteError::InvalidValue {
            key: "profile",
            reason: "contains a bracket",
        });
    }
    let key_file = parts.key_file.to_str().ok_or(WriteError::InvalidValue {
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

fn check(key: &'static str, value: &str) -> Result<(), WriteError> {
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
    Err(WriteError::InvalidValue { key, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(key_file: PathBuf) -> OciConfigParts {
        OciConfigParts {
            user: "ocid1.user.oc1..w".into(),
            fingerprint: "cc:cc".into(),
            tenancy: "ocid1.tenancy.oc1..w".into(),
            region: "us-phoenix-1".into(),
            key_file,
            pass_phrase: Some("p@ss #1".into()),
        }
    }

    #[test]
    fn write_rejects_values_that_would_break_the_ini() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut p = parts(dir.path().join("k.pem"));
        p.user = "u\n[DEFAULT]".into();
        assert!(matches!(
            write_config_file(&path, "X", &p),
            Err(WriteError::InvalidValue { key: "user", .. })
        ));
        let p = parts(dir.path().join("k.pem"));
        assert!(matches!(
            write_config_file(&path, "A]B", &p),
            Err(WriteError::InvalidValue { key: "profile", .. })
        ));
        assert!(!path.exists());
        assert!(!format!("{p:?}").contains("p@ss"));
    }
}
