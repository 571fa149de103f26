//! The local-directory backend: `<dir>/<stack>.json` (or a given `.json` file) for the snapshot,
//! `<snapshot>.journal` beside it, and `<snapshot>.lock`, held with `flock` across processes.

use super::StateError;
use super::backend::LockInfo;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where one stack's files live.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    /// The snapshot file.
    pub snapshot: PathBuf,
}

impl LocalBackend {
    /// The files of `stack` for a backend URL: a directory (`file:///dir` or a path), or a state
    /// file path ending in `.json`. Default `./.credplane`.
    pub fn resolve(backend: Option<&str>, stack: &str) -> LocalBackend {
        let raw = backend.unwrap_or(".credplane");
        let path = PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw));
        let snapshot = if path.extension().is_some_and(|e| e == "json") {
            path
        } else {
            path.join(format!("{stack}.json"))
        };
        LocalBackend { snapshot }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.snapshot.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// The journal file.
    pub fn journal(&self) -> PathBuf {
        self.sibling(".journal")
    }

    fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    fn dir(&self) -> &Path {
        self.snapshot
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// Takes the stack's lock, or says who holds it and since when. The returned file holds
    /// the `flock`; dropping it releases the lock.
    pub fn lock(&self) -> Result<File, StateError> {
        std::fs::create_dir_all(self.dir())?;
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                let info = serde_json::to_string(&LockInfo::current(String::new())).expect("json");
                file.write_all(info.as_bytes())?;
                Ok(file)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(StateError::Locked(format!(
                    "the stack is {}; wait for it to finish",
                    LockInfo::describe(&text, &path.display().to_string())
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// The snapshot's bytes, if it exists.
    pub fn read_snapshot(&self) -> Result<Option<Vec<u8>>, StateError> {
        read_optional(&self.snapshot)
    }

    /// The journal's bytes, if it exists.
    pub fn read_journal(&self) -> Result<Option<Vec<u8>>, StateError> {
        read_optional(&self.journal())
    }

    /// Writes the snapshot atomically (temp file, mode 0600, fsync, rename, fsync of the directory).
    pub fn write_snapshot(&self, bytes: &[u8]) -> Result<(), StateError> {
        std::fs::create_dir_all(self.dir())?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".credplane-state.")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(self.dir())?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.snapshot).map_err(|e| StateError::Io(e.to_string()))?;
        File::open(self.dir())?.sync_all()?;
        Ok(())
    }

    /// The journal opened for appending (created 0600).
    pub fn append_journal(&self) -> Result<File, StateError> {
        std::fs::create_dir_all(self.dir())?;
        Ok(OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(self.journal())?)
    }

    /// Removes the journal (after it was folded into the snapshot).
    pub fn clear_journal(&self) -> Result<(), StateError> {
        match std::fs::remove_file(self.journal()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Removes the stack's files (`stack rm`).
    pub fn remove(&self) -> Result<(), StateError> {
        for p in [self.snapshot.clone(), self.journal()] {
            if let Err(e) = std::fs::remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Stack names with a snapshot or journal in a directory.
    pub fn list(dir: &Path) -> Result<Vec<String>, StateError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            let stack = name
                .strip_suffix(".json")
                .or_else(|| name.strip_suffix(".json.journal"));
            if let Some(stack) = stack
                && !stack.starts_with('.')
                && !names.iter().any(|n| n == stack)
            {
                names.push(stack.to_string());
            }
        }
        names.sort();
        Ok(names)
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::resolve(Some(dir.path().to_str().unwrap()), "s");
        let held = b.lock().unwrap();
        let err = b.lock().err().unwrap().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(held);
        assert!(b.lock().is_ok());
    }

    #[test]
    fn a_json_path_is_the_snapshot_itself() {
        let b = LocalBackend::resolve(Some("/tmp/x/state.json"), "s");
        assert_eq!(b.snapshot, PathBuf::from("/tmp/x/state.json"));
        assert_eq!(b.journal(), PathBuf::from("/tmp/x/state.json.journal"));
        assert_eq!(
            LocalBackend::resolve(Some("file:///d"), "s").snapshot,
            PathBuf::from("/d/s.json")
        );
    }
}
