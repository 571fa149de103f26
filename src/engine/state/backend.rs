//! Where a stack's state lives: a local directory ([`LocalBackend`]) or an S3-compatible bucket
//! ([`S3Backend`]). Both store the same three things, a snapshot, a journal and a lock, so
//! [`super::store::Store`] works over either through this one enum.

use super::StateError;
use super::local::LocalBackend;
use super::s3::S3Backend;
use std::time::{SystemTime, UNIX_EPOCH};

/// The storage of one stack's state.
pub enum Backend {
    /// A directory or a `.json` file (the default, `./.credplane`).
    Local(LocalBackend),
    /// `s3://bucket/prefix`.
    S3(S3Backend),
}

/// A held lock; released when dropped.
pub enum LockGuard {
    /// An `flock` on the lock file (released by the system if the process dies).
    Local(#[allow(dead_code)] std::fs::File),
    /// The lock object; deleted on drop if it is still this engine's.
    S3(super::s3::S3Lock),
}

/// Where the journal's batches go. Each call gets whole records (ending in a newline), starting
/// with the record numbered `first_seq`; it returns once they are durable.
pub trait JournalSink: Send + 'static {
    /// Appends one batch durably.
    fn append(&mut self, first_seq: u64, bytes: &[u8]) -> std::io::Result<()>;
}

impl JournalSink for std::fs::File {
    fn append(&mut self, _first_seq: u64, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.write_all(bytes)?;
        self.sync_data()
    }
}

impl Backend {
    /// The backend of `stack` for a state URL: `s3://bucket/prefix[?options]`, else a local
    /// directory or `.json` file (see [`LocalBackend::resolve`]).
    pub fn resolve(url: Option<&str>, stack: &str) -> Result<Backend, StateError> {
        match url {
            Some(u) if u.starts_with("s3://") => Ok(Backend::S3(S3Backend::resolve(u, stack)?)),
            _ => Ok(Backend::Local(LocalBackend::resolve(url, stack))),
        }
    }

    /// The snapshot's location, for messages.
    pub fn snapshot_name(&self) -> String {
        match self {
            Backend::Local(b) => b.snapshot.display().to_string(),
            Backend::S3(b) => b.snapshot_url(),
        }
    }

    /// The journal's location, for messages.
    pub fn journal_name(&self) -> String {
        match self {
            Backend::Local(b) => b.journal().display().to_string(),
            Backend::S3(b) => b.journal_url(),
        }
    }

    /// Takes the stack's lock, or says who holds it and since when.
    pub fn lock(&self) -> Result<LockGuard, StateError> {
        match self {
            Backend::Local(b) => b.lock().map(LockGuard::Local),
            Backend::S3(b) => b.lock().map(LockGuard::S3),
        }
    }

    /// The snapshot's bytes, if there is one.
    pub fn read_snapshot(&self) -> Result<Option<Vec<u8>>, StateError> {
        match self {
            Backend::Local(b) => b.read_snapshot(),
            Backend::S3(b) => b.read_snapshot(),
        }
    }

    /// The journal's bytes that continue the snapshot of `generation`, if any. (A local journal
    /// is one file, checked against the generation in its first line by the replay; S3 journal
    /// objects carry the generation in their keys, so leftovers of an older one are skipped.)
    pub fn read_journal(&self, generation: u64) -> Result<Option<Vec<u8>>, StateError> {
        match self {
            Backend::Local(b) => b.read_journal(),
            Backend::S3(b) => b.read_journal(generation),
        }
    }

    /// Replaces the snapshot atomically.
    pub fn write_snapshot(&self, bytes: &[u8]) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.write_snapshot(bytes),
            Backend::S3(b) => b.write_snapshot(bytes),
        }
    }

    /// Where new journal batches of `generation` go.
    pub fn journal_sink(&self, generation: u64) -> Result<Box<dyn JournalSink>, StateError> {
        match self {
            Backend::Local(b) => Ok(Box::new(b.append_journal()?)),
            Backend::S3(b) => Ok(Box::new(b.journal_sink(generation))),
        }
    }

    /// Removes the journal (after it was folded into the snapshot).
    pub fn clear_journal(&self) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.clear_journal(),
            Backend::S3(b) => b.clear_journal(),
        }
    }

    /// Removes the stack's snapshot and journal (`stack rm`).
    pub fn remove(&self) -> Result<(), StateError> {
        match self {
            Backend::Local(b) => b.remove(),
            Backend::S3(b) => b.remove(),
        }
    }

    /// Removes a lock left by an engine that is gone (`stack unlock`); says whose it was.
    pub fn unlock(&self) -> Result<String, StateError> {
        match self {
            Backend::Local(b) => Ok(format!(
                "{}: a local state's lock is an flock, released by the system when its holder exits; nothing to unlock",
                b.snapshot.display()
            )),
            Backend::S3(b) => b.unlock(),
        }
    }

    /// The stacks stored at a state URL (a directory or `s3://bucket/prefix`).
    pub fn list(url: Option<&str>) -> Result<Vec<String>, StateError> {
        match url {
            Some(u) if u.starts_with("s3://") => S3Backend::resolve(u, "list")?.list(),
            _ => {
                let dir = url.unwrap_or(".credplane");
                LocalBackend::list(std::path::Path::new(dir.strip_prefix("file://").unwrap_or(dir)))
            }
        }
    }
}

/// What a lock records about its holder: who, and since when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LockInfo {
    /// `pid N on host H`.
    pub holder: String,
    /// Seconds since the epoch.
    pub since: u64,
    /// Tells this engine's lock from one taken after a `stack unlock` (S3 only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl LockInfo {
    /// This process, now.
    pub fn current(id: String) -> LockInfo {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "an unknown host".into());
        LockInfo {
            holder: format!("pid {} on {host}", std::process::id()),
            since: now(),
            id,
        }
    }

    /// "locked by pid N on host H for Ns (where)": for the error of a held lock and for unlock.
    /// An unreadable record (a lock being written) still gives a clear message.
    pub fn describe(text: &str, place: &str) -> String {
        match serde_json::from_str::<LockInfo>(text) {
            Ok(info) => format!(
                "locked by {} for {}s ({place})",
                info.holder,
                now().saturating_sub(info.since)
            ),
            Err(_) => format!("locked by another engine ({place})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_record_names_its_holder_and_age() {
        let mut info = LockInfo::current(String::new());
        info.since -= 30;
        let text = serde_json::to_string(&info).unwrap();
        let said = LockInfo::describe(&text, "here");
        assert!(
            said.starts_with(&format!("locked by pid {} on ", std::process::id())),
            "{said}"
        );
        assert!(
            said.contains(" for 30s (here)") || said.contains(" for 31s (here)"),
            "{said}"
        );
        assert_eq!(LockInfo::describe("", "here"), "locked by another engine (here)");
    }

    #[test]
    fn s3_urls_pick_the_s3_backend() {
        assert!(matches!(Backend::resolve(Some("/tmp/d"), "s"), Ok(Backend::Local(_))));
        assert!(matches!(Backend::resolve(None, "s"), Ok(Backend::Local(_))));
        assert!(matches!(
            Backend::resolve(Some("s3://bucket/p"), "s"),
            Ok(Backend::S3(_))
        ));
    }
}
