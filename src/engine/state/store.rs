//! Opening a stack's state for a deployment: lock, load, verify, replay the journal, upgrade a
//! version-1 file; then journal each change and compact at the end.

use super::backend::{Backend, LockGuard};
use super::journal::{self, JournalWriter};
use super::seal::{DEFAULT_N, Sealer};
use super::{Record, StackState, StateError, encode_snapshot, parse_snapshot};
use std::sync::Arc;

/// An open, locked stack state.
pub struct Store {
    backend: Backend,
    sealer: Option<Arc<Sealer>>,
    generation: u64,
    /// The last (seq, mac) of the journal found at open, continued by the writer.
    tail: Option<(u64, String)>,
    writer: Option<JournalWriter>,
    _lock: LockGuard,
}

/// What opening found.
pub struct Opened {
    /// The store, locked.
    pub store: Store,
    /// The state, journal replayed.
    pub state: StackState,
    /// Torn records dropped, upgrades done.
    pub warnings: Vec<String>,
}

impl Store {
    /// Locks and loads `stack`. `writes`: the deployment will change the state (then a
    /// passphrase is required, and a version-1 file or a replayed journal is compacted now).
    pub fn open(backend: Backend, stack: &str, passphrase: Option<&str>, writes: bool) -> Result<Opened, StateError> {
        let lock = backend.lock()?;
        let what = backend.snapshot_name();
        let mut warnings = Vec::new();
        let raw = backend
            .read_snapshot()?
            .map(|b| parse_snapshot(&b, &what))
            .transpose()?;
        let journal_bytes = backend
            .read_journal(raw.as_ref().map_or(0, |r| r.generation))?
            .filter(|b| !b.is_empty());
        let needs_key =
            writes || journal_bytes.is_some() || raw.as_ref().is_some_and(|r| r.header.is_some() || r.version == 2);
        let passphrase = match passphrase.filter(|p| !p.is_empty()) {
            Some(p) => Some(p),
            None if needs_key => {
                return Err(StateError::PassphraseRequired(format!(
                    "the state {what} is sealed with it (secrets in state are only ever stored encrypted)"
                )));
            }
            None => None,
        };
        let reader = match (&raw, passphrase) {
            (Some(r), Some(p)) => match &r.header {
                Some(h) => Some(Sealer::open(p, stack, h, r.version == 1)?),
                None if r.version == 2 => return Err(StateError::Corrupt(format!("{what}: no encryption header"))),
                None => None,
            },
            _ => None,
        };
        let generation = raw.as_ref().map_or(0, |r| r.generation);
        let (found, upgrade) = (raw.is_some(), raw.as_ref().is_some_and(|r| r.version == 1));
        let mut state = match raw {
            Some(r) => r.open(reader.as_ref(), stack, &what)?,
            None => StackState::new(stack),
        };
        let sealer = match (reader, passphrase) {
            (Some(s), _) if !s.is_legacy() => Some(Arc::new(s)),
            (old, Some(p)) => {
                if old.is_some() {
                    warnings.push(format!(
                        "{what} was written by an older SDK; it is upgraded to version 2"
                    ));
                }
                Some(Arc::new(Sealer::create(p, stack, DEFAULT_N)?))
            }
            (_, None) => None,
        };
        let mut replayed = false;
        let mut tail = None;
        if let (Some(bytes), Some(s)) = (&journal_bytes, &sealer) {
            let r = journal::replay(bytes, s, &backend.journal_name())?;
            warnings.extend(r.warnings);
            if r.generation == Some(generation) {
                replayed = !r.records.is_empty();
                tail = journal::tail(bytes);
                for record in r.records {
                    state.apply(record);
                }
            }
        }
        let mut store = Store {
            backend,
            sealer,
            generation,
            tail,
            writer: None,
            _lock: lock,
        };
        // A new state gets its snapshot (and so its salt) before any journal record needs it.
        if writes && (replayed || upgrade || journal_bytes.is_some() || !found) {
            store.compact(&state)?;
        }
        Ok(Opened { store, state, warnings })
    }

    /// Appends a record (durable when this returns). Without a passphrase (a preview of an
    /// empty stack) there is nothing to journal.
    pub async fn record(&mut self, record: Record) -> Result<(), StateError> {
        self.writer()?.append(&record).await
    }

    /// A handle that appends records; cloneable across tasks.
    pub fn writer(&mut self) -> Result<JournalWriter, StateError> {
        if self.writer.is_none() {
            let sealer = self
                .sealer
                .clone()
                .ok_or_else(|| StateError::PassphraseRequired("to record changes".into()))?;
            let sink = self.backend.journal_sink(self.generation)?;
            self.writer = Some(JournalWriter::start(sink, sealer, self.generation, self.tail.clone()));
        }
        Ok(self.writer.clone().expect("set above"))
    }

    /// Folds everything into a new snapshot (next generation) and clears the journal.
    pub fn compact(&mut self, state: &StackState) -> Result<(), StateError> {
        let sealer = self
            .sealer
            .clone()
            .ok_or_else(|| StateError::PassphraseRequired("to write the state".into()))?;
        self.writer = None;
        self.tail = None;
        self.generation += 1;
        self.backend
            .write_snapshot(&encode_snapshot(&sealer, state, self.generation)?)?;
        self.backend.clear_journal()
    }
}
