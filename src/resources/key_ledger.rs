//! The host-wide ledger of access-key creates for one user: a lock file per (cloud, account,
//! user) in the temp directory, held for the whole create, that lists the key ids recent creates
//! on this host handed out. It serializes creates for one user across every credplane process on
//! the host (four clients sharing users are four processes), so that after a lost reply a key
//! that another local client was just given is never mistaken for this create's.

use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

/// How many recent ids per user the ledger keeps.
const REMEMBERED: usize = 16;

/// A held ledger: the lock is released when it is dropped (closing the file releases it).
pub struct Ledger {
    /// `None` when the lock directory is unusable: creates are then serialized in-process only.
    file: Option<File>,
    ids: VecDeque<String>,
}

fn dir() -> PathBuf {
    std::env::temp_dir().join("credplane-key-locks")
}

impl Ledger {
    /// Waits for the ledger of `scope` and reads it.
    pub async fn lock(scope: &str) -> Ledger {
        let name = hex::encode(Sha256::digest(scope.as_bytes()));
        let opened = tokio::task::spawn_blocking(move || open_locked(name)).await;
        match opened {
            Ok(Ok(ledger)) => ledger,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, dir = %dir().display(), "the access-key lock file is unusable; serializing creates in this process only");
                Ledger::in_memory()
            }
            Err(err) => {
                tracing::warn!(error = %err, "locking the access-key ledger failed; serializing creates in this process only");
                Ledger::in_memory()
            }
        }
    }

    fn in_memory() -> Ledger {
        Ledger {
            file: None,
            ids: VecDeque::new(),
        }
    }

    /// Whether a create on this host handed out `id` recently.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.iter().any(|known| known == id)
    }

    /// Records that a create handed out `id`.
    pub fn remember(&mut self, id: &str) {
        self.ids.push_front(id.to_owned());
        self.ids.truncate(REMEMBERED);
        if let Some(file) = &mut self.file {
            let text: Vec<&str> = self.ids.iter().map(String::as_str).collect();
            let written = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(text.join("\n").as_bytes()));
            if let Err(err) = written {
                tracing::warn!(error = %err, "could not record an access key id in the ledger");
            }
        }
    }
}

fn open_locked(name: String) -> std::io::Result<Ledger> {
    let dir = dir();
    std::fs::create_dir_all(&dir)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(name))?;
    file.lock()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let ids = text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    Ok(Ledger { file: Some(file), ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_survive_from_one_holder_to_the_next() {
        let scope = format!("test\u{0}{}", uuid::Uuid::new_v4());
        {
            let mut ledger = Ledger::lock(&scope).await;
            assert!(!ledger.contains("AKIA1"));
            ledger.remember("AKIA1");
        }
        let ledger = Ledger::lock(&scope).await;
        assert!(ledger.contains("AKIA1"), "the next holder, in any process, sees the id");
    }

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let scope = format!("test\u{0}{}", uuid::Uuid::new_v4());
        let first = Ledger::lock(&scope).await;
        let second = tokio::spawn({
            let scope = scope.clone();
            async move { Ledger::lock(&scope).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the lock is held");
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(10), second)
            .await
            .expect("the second holder gets the lock")
            .unwrap();
    }
}
