//! Files the sandbox writes (its state, generated keys, OCI config files): each holds
//! credentials, so each is written atomically with mode 0600.

use std::io::Write as _;
use std::path::Path;

/// Writes `contents` to `path` atomically with mode 0600: a temp file in the same directory (so
/// the rename stays on one file system), synced, then renamed into place. Every sandbox file
/// holds credentials (keys, state), so each goes through here.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    restrict_permissions(tmp.as_file())?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
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
