//! Files that hold secrets: written atomically (temp file in the same directory, fsync, rename,
//! fsync of the directory) with mode 0600 from the start, so no reader ever sees a partial or
//! world-readable file and a crash never loses the rename. A path that is a symlink or anything
//! but a regular file is refused: writing through it could put a secret somewhere else.
//!
//! What goes into such a file is rendered here too ([`Format`], [`upsert_profile`]), so that every
//! secret file of the provider (`secret_file`, the key sinks) has the one writer.

use std::io::Write;
use std::path::Path;

/// How a credential is laid out in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON object of the given field names.
    Json,
    /// `NAME=value` lines, for `source`, docker `--env-file` and dotenv loaders.
    Dotenv,
    /// An AWS shared credentials file holding one profile.
    AwsCredentials,
}

/// One credential and the names each format gives its fields.
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// The key id.
    pub id: &'a str,
    /// The secret.
    pub secret: &'a str,
    /// The JSON field names of id and secret (`AccessKeyId`, `SecretAccessKey`).
    pub json_names: (&'a str, &'a str),
    /// The environment variable names of id and secret (`AWS_ACCESS_KEY_ID`, ...).
    pub env_names: (&'a str, &'a str),
    /// The profile name of the AWS credentials format.
    pub profile: &'a str,
}

/// The file contents of `credential` in `format`. Fails only on a dotenv value that no quoting
/// keeps literal (it holds both quote characters); the error does not carry the value.
pub fn render(format: Format, credential: &Credential<'_>) -> std::io::Result<String> {
    match format {
        Format::Json => Ok(serde_json::json!({
            credential.json_names.0: credential.id,
            credential.json_names.1: credential.secret,
        })
        .to_string()),
        Format::Dotenv => Ok(format!(
            "{}={}\n{}={}\n",
            credential.env_names.0,
            dotenv_value(credential.id)?,
            credential.env_names.1,
            dotenv_value(credential.secret)?
        )),
        Format::AwsCredentials => {
            let mut ini = ini::Ini::new();
            set_profile(&mut ini, credential);
            ini_text(&ini)
        }
    }
}

/// A dotenv value: bare when it holds only characters no loader treats specially, else in single
/// quotes (no loader expands `$` inside those).
fn dotenv_value(value: &str) -> std::io::Result<String> {
    let bare = |c: char| c.is_ascii_alphanumeric() || "/+=-_.:@".contains(c);
    if value.chars().all(bare) {
        Ok(value.to_string())
    } else if !value.contains('\'') && !value.contains('\n') {
        Ok(format!("'{value}'"))
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the value holds a quote or a newline, which a dotenv file cannot keep literally",
        ))
    }
}

fn set_profile(ini: &mut ini::Ini, credential: &Credential<'_>) {
    ini.with_section(Some(credential.profile))
        .set("aws_access_key_id", credential.id)
        .set("aws_secret_access_key", credential.secret);
}

fn ini_text(ini: &ini::Ini) -> std::io::Result<String> {
    let mut out = Vec::new();
    ini.write_to(&mut out)?;
    String::from_utf8(out).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn load_ini(path: &Path) -> std::io::Result<ini::Ini> {
    refuse_unsafe_target(path)?;
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ini::Ini::new()),
        Err(e) => Err(e),
        Ok(text) => ini::Ini::load_from_str(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not an INI file: {e}"))),
    }
}

/// Sets the profile `credential.profile` of the AWS shared credentials file at `path` (created if
/// absent), keeping its other profiles: read, change, then [`write_private`]. Comments in the file
/// are not kept.
pub fn upsert_profile(path: &Path, credential: &Credential<'_>) -> std::io::Result<()> {
    let mut ini = load_ini(path)?;
    // Only this key's two lines: other settings of the profile (region, ...) stay.
    set_profile(&mut ini, credential);
    write_private(path, ini_text(&ini)?.as_bytes())
}

/// Removes the key lines of `profile` from the credentials file at `path` when they still hold
/// the key `id` (a profile rewritten since is left alone); the profile goes when nothing else is
/// left in it. Returns whether the file changed.
pub fn remove_profile(path: &Path, profile: &str, id: &str) -> std::io::Result<bool> {
    let mut ini = load_ini(path)?;
    let Some(section) = ini.section_mut(Some(profile)) else {
        return Ok(false);
    };
    if section.get("aws_access_key_id") != Some(id) {
        return Ok(false);
    }
    section.remove("aws_access_key_id");
    section.remove("aws_secret_access_key");
    if section.is_empty() {
        ini.delete(Some(profile));
    }
    write_private(path, ini_text(&ini)?.as_bytes())?;
    Ok(true)
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Refuses a path that exists and is a symlink or not a regular file (absent is fine).
fn refuse_unsafe_target(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.file_type().is_symlink() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path is a symbolic link; give the real path",
        )),
        Ok(meta) if meta.is_dir() => Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "the path is a directory",
        )),
        Ok(meta) if !meta.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path is not a regular file",
        )),
        Ok(_) => Ok(()),
    }
}

/// Flushes a directory entry change (a rename or a removal) to disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `contents` to `path` atomically with mode 0600.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    refuse_unsafe_target(path)?;
    let dir = parent_dir(path);
    // tempfile creates the file 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Checks that `path` could be written by [`write_private`] (its directory exists and accepts a
/// new file, and the path is not a symlink or special file), without leaving anything behind.
/// Run it before minting a credential.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    refuse_unsafe_target(path)?;
    tempfile::NamedTempFile::new_in(parent_dir(path)).map(drop)
}

/// Removes the secret file at `path` when it still holds `marker` (such as the access key id it
/// was written for): a file rewritten since, by hand or for another key, is left alone. Returns
/// whether a file was removed; an absent file is not an error.
pub fn remove_private(path: &Path, marker: &str) -> std::io::Result<bool> {
    refuse_unsafe_target(path)?;
    let contents = match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        other => other?,
    };
    if !contents.contains(marker) {
        return Ok(false);
    }
    std::fs::remove_file(path)?;
    sync_dir(parent_dir(path))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn credential<'a>(secret: &'a str) -> Credential<'a> {
        Credential {
            id: "AKIA1",
            secret,
            json_names: ("AccessKeyId", "SecretAccessKey"),
            env_names: ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            profile: "ci",
        }
    }

    #[test]
    fn formats() {
        let c = credential("s/e+c=");
        assert_eq!(
            render(Format::Json, &c).unwrap(),
            r#"{"AccessKeyId":"AKIA1","SecretAccessKey":"s/e+c="}"#
        );
        assert_eq!(
            render(Format::Dotenv, &c).unwrap(),
            "AWS_ACCESS_KEY_ID=AKIA1\nAWS_SECRET_ACCESS_KEY=s/e+c=\n"
        );
        let ini = render(Format::AwsCredentials, &c).unwrap();
        assert!(ini.starts_with("[ci]\n"), "{ini}");
        assert!(
            ini.contains("aws_access_key_id=AKIA1") && ini.contains("aws_secret_access_key=s/e+c="),
            "{ini}"
        );
        assert_eq!(
            render(Format::Dotenv, &credential("a $b")).unwrap(),
            "AWS_ACCESS_KEY_ID=AKIA1\nAWS_SECRET_ACCESS_KEY='a $b'\n"
        );
        let err = render(Format::Dotenv, &credential("it's\nx")).unwrap_err();
        assert!(!err.to_string().contains("it's"), "the value is not in the error");
    }

    #[test]
    fn a_profile_is_set_and_removed_keeping_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[default]\naws_access_key_id=OTHER\naws_secret_access_key=x\n\n[ci]\nregion=eu-west-1\n",
        )
        .unwrap();
        upsert_profile(&path, &credential("sec")).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let ini = ini::Ini::load_from_file(&path).unwrap();
        assert_eq!(ini.get_from(Some("default"), "aws_access_key_id"), Some("OTHER"));
        assert_eq!(ini.get_from(Some("ci"), "aws_access_key_id"), Some("AKIA1"));
        assert_eq!(ini.get_from(Some("ci"), "aws_secret_access_key"), Some("sec"));
        assert_eq!(ini.get_from(Some("ci"), "region"), Some("eu-west-1"));
        assert!(
            !remove_profile(&path, "ci", "AKIA2").unwrap(),
            "another key's profile stays"
        );
        assert!(remove_profile(&path, "ci", "AKIA1").unwrap());
        let ini = ini::Ini::load_from_file(&path).unwrap();
        assert_eq!(ini.get_from(Some("ci"), "aws_access_key_id"), None);
        assert_eq!(
            ini.get_from(Some("ci"), "region"),
            Some("eu-west-1"),
            "the profile's other settings stay"
        );
        assert_eq!(ini.get_from(Some("default"), "aws_access_key_id"), Some("OTHER"));
    }

    #[test]
    fn writes_mode_0600_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }

    #[test]
    fn unwritable_paths_are_refused_up_front() {
        assert!(check_writable(Path::new("/nonexistent-dir/key.json")).is_err());
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(dir.path()).is_err());
        assert!(check_writable(&dir.path().join("ok.json")).is_ok());
    }

    #[test]
    fn symlinks_and_special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(check_writable(&link).is_err());
        assert!(write_private(&link, b"secret").is_err());
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"keep",
            "nothing written through the link"
        );
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("absent"), &dangling).unwrap();
        assert!(check_writable(&dangling).is_err());
        assert!(check_writable(Path::new("/dev/null")).is_err(), "a device");
    }

    #[test]
    fn remove_only_a_file_that_still_holds_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        assert!(!remove_private(&path, "LTAI1").unwrap(), "absent is fine");
        write_private(&path, br#"{"AccessKeyId":"LTAI2"}"#).unwrap();
        assert!(!remove_private(&path, "LTAI1").unwrap());
        assert!(path.exists(), "another key's file is kept");
        assert!(remove_private(&path, "LTAI2").unwrap());
        assert!(!path.exists());
    }
}
