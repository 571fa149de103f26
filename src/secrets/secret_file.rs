//! Files that hold secrets: written atomically (temp file in the same directory, fsync, rename,
//! fsync of the directory) with mode 0600 from the start, so no reader ever sees a partial or
//! world-readable file and a crash never loses the rename. A path that is a symlink or anything
//! but a regular file is refused: writing through it could put a secret somewhere else.

use std::io::Write;
use std::path::Path;

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
