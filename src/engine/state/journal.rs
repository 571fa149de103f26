//! The journal: one authenticated JSON record per line, appended and fsynced before each create
//! and after each step, so a killed engine loses nothing. Records of concurrent steps share one
//! fsync (group commit), which keeps the cost per resource flat. Where the lines go (a file, or
//! one S3 object per batch) is the backend's [`JournalSink`].

use super::backend::JournalSink;
use super::seal::Sealer;
use super::{Record, StateError, open_record, seal_record};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

fn head_mac(sealer: &Sealer, generation: u64) -> String {
    sealer.mac(&[b"journal-head", &generation.to_le_bytes()])
}

fn record_mac(sealer: &Sealer, prev: &str, seq: u64, body: &[u8]) -> String {
    sealer.mac(&[b"journal-record", prev.as_bytes(), &seq.to_le_bytes(), body])
}

/// What a journal file replays to.
#[derive(Debug, Default)]
pub struct Replay {
    /// The records, in order.
    pub records: Vec<Record>,
    /// Torn-record warnings.
    pub warnings: Vec<String>,
    /// The generation of the snapshot it continues (None: empty journal).
    pub generation: Option<u64>,
}

/// Parses and verifies a journal's bytes. A torn last line is dropped with a warning; any other
/// bad line is an error naming it.
pub fn replay(bytes: &[u8], sealer: &Sealer, what: &str) -> Result<Replay, StateError> {
    let mut out = Replay::default();
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut prev = String::new();
    let mut expected_seq = 1u64;
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let parsed: Option<Value> = if line.ends_with('\n') {
            serde_json::from_str(line).ok()
        } else {
            None
        };
        let Some(value) = parsed else {
            if last {
                out.warnings.push(format!(
                    "{what}: dropped a torn last record (line {}, {} bytes); every record before it is kept",
                    i + 1,
                    line.len()
                ));
                break;
            }
            return Err(StateError::Corrupt(format!(
                "{what}: line {} is not a journal record",
                i + 1
            )));
        };
        let mac = value.get("mac").and_then(Value::as_str).unwrap_or_default().to_string();
        if i == 0 {
            let generation = value.get("generation").and_then(Value::as_u64).unwrap_or(u64::MAX);
            if !sealer.verify(&[b"journal-head", &generation.to_le_bytes()], &mac) {
                return Err(StateError::Tampered(format!(
                    "{what}: line 1 (the journal head) does not verify"
                )));
            }
            out.generation = Some(generation);
        } else {
            let seq = value.get("seq").and_then(Value::as_u64).unwrap_or(0);
            let record = value.get("record").cloned().unwrap_or(Value::Null);
            let body = serde_json::to_vec(&record).expect("json");
            if seq != expected_seq
                || !sealer.verify(&[b"journal-record", prev.as_bytes(), &seq.to_le_bytes(), &body], &mac)
            {
                return Err(StateError::Tampered(format!(
                    "{what}: line {} does not verify (edited, reordered or removed records)",
                    i + 1
                )));
            }
            out.records.push(open_record(sealer, record).map_err(|e| match e {
                StateError::Corrupt(m) => StateError::Corrupt(format!("{what}: line {}: {m}", i + 1)),
                other => other,
            })?);
            expected_seq += 1;
        }
        prev = mac;
    }
    Ok(out)
}

type Ack = oneshot::Sender<Result<(), String>>;

/// Appends records to a journal from a thread of its own; [`JournalWriter::append_all`] returns
/// once its records are durable. Records are sealed by the caller (concurrent steps seal on
/// their own threads); the journal thread chains, writes and syncs.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<(Vec<u8>, Ack)>,
    sealer: Arc<Sealer>,
}

impl JournalWriter {
    /// Starts a writer that continues a journal of `generation` whose last record is `tail`
    /// (seq, mac), or starts a new journal (with its head line) when `tail` is None.
    pub fn start(
        mut sink: Box<dyn JournalSink>,
        sealer: Arc<Sealer>,
        generation: u64,
        tail: Option<(u64, String)>,
    ) -> JournalWriter {
        let (tx, rx) = mpsc::channel::<(Vec<u8>, Ack)>();
        let macs = sealer.clone();
        std::thread::Builder::new()
            .name("credplane-journal".into())
            .spawn(move || {
                let sealer = macs;
                let (mut seq, mut prev) = tail.unwrap_or((0, String::new()));
                let mut started = seq > 0 || !prev.is_empty();
                // After a failed write the chain has a gap: refuse every later record rather
                // than write ones that would not replay.
                let mut broken: Option<String> = None;
                let mut buf = Vec::new();
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    if let Some(why) = &broken {
                        for (_, ack) in batch {
                            let _ = ack.send(Err(why.clone()));
                        }
                        continue;
                    }
                    buf.clear();
                    if !started {
                        prev = head_mac(&sealer, generation);
                        buf.extend(json!({"generation": generation, "mac": prev}).to_string().as_bytes());
                        buf.push(b'\n');
                        started = true;
                    }
                    let first_seq = seq + 1;
                    let mut acks = Vec::with_capacity(batch.len());
                    for (body, ack) in batch {
                        seq += 1;
                        prev = record_mac(&sealer, &prev, seq, &body);
                        // The line is `{"seq","record","mac"}` as serde_json writes that object.
                        buf.extend_from_slice(format!("{{\"seq\":{seq},\"record\":").as_bytes());
                        buf.extend_from_slice(&body);
                        buf.extend_from_slice(format!(",\"mac\":\"{prev}\"}}\n").as_bytes());
                        acks.push(ack);
                    }
                    let mut failed = None;
                    if let Err(e) = sink.append(first_seq, &buf) {
                        let why = format!("journal write failed: {e}");
                        broken = Some(why.clone());
                        failed = Some(why);
                    }
                    for ack in acks {
                        let _ = ack.send(failed.clone().map_or(Ok(()), Err));
                    }
                }
            })
            .expect("spawn the journal thread");
        JournalWriter { tx, sealer }
    }

    /// Appends `record`; returns once it is durable.
    pub async fn append(&self, record: &Record) -> Result<(), StateError> {
        self.append_all(std::slice::from_ref(record)).await
    }

    /// Appends `records` in order; returns once all are durable (one fsync when they are batched).
    pub async fn append_all(&self, records: &[Record]) -> Result<(), StateError> {
        let mut waits = Vec::with_capacity(records.len());
        let mut sealed = Vec::with_capacity(records.len());
        for record in records {
            let value = seal_record(&self.sealer, record)?;
            sealed.push(serde_json::to_vec(&value).expect("json"));
        }
        for body in sealed {
            let (ack, done) = oneshot::channel();
            self.tx
                .send((body, ack))
                .map_err(|_| StateError::Io("the journal is closed".into()))?;
            waits.push(done);
        }
        for done in waits {
            done.await
                .map_err(|_| StateError::Io("the journal is closed".into()))?
                .map_err(StateError::Io)?;
        }
        Ok(())
    }
}

/// The last (seq, mac) of a verified journal, so a writer can continue its chain.
pub fn tail(bytes: &[u8]) -> Option<(u64, String)> {
    let text = String::from_utf8_lossy(bytes);
    let last = text.split_inclusive('\n').rfind(|l| l.ends_with('\n'))?;
    let v: Value = serde_json::from_str(last).ok()?;
    Some((
        v.get("seq").and_then(Value::as_u64).unwrap_or(0),
        v.get("mac")?.as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::Pending;

    fn rec(name: &str) -> Record {
        Record::Begin(Pending {
            op: "create".into(),
            type_name: "t".into(),
            name: name.into(),
            inputs: serde_json::from_value(json!({"s": {"$credplane": "secret", "value": "pw"}})).unwrap(),
            dependencies: vec![],
        })
    }

    async fn write(records: &[Record]) -> (Vec<u8>, Arc<Sealer>) {
        let sealer = Arc::new(Sealer::create("p", "st", 1 << 10).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let file = std::fs::File::create(&path).unwrap();
        let w = JournalWriter::start(Box::new(file), sealer.clone(), 3, None);
        for r in records {
            w.append(r).await.unwrap();
        }
        (std::fs::read(&path).unwrap(), sealer)
    }

    #[tokio::test]
    async fn records_replay_in_order_and_secrets_are_sealed() {
        let (bytes, sealer) = write(&[rec("a"), rec("b"), Record::End { name: "a".into() }]).await;
        assert!(!String::from_utf8_lossy(&bytes).contains("\"pw\""));
        let r = replay(&bytes, &sealer, "j").unwrap();
        assert_eq!(r.generation, Some(3));
        assert_eq!(r.records, vec![rec("a"), rec("b"), Record::End { name: "a".into() }]);
        assert!(r.warnings.is_empty());
    }

    /// Records each batch's first sequence number; fails the second batch.
    struct FailSecond(std::sync::Arc<std::sync::Mutex<Vec<u64>>>);

    impl JournalSink for FailSecond {
        fn append(&mut self, first_seq: u64, _bytes: &[u8]) -> std::io::Result<()> {
            let mut seen = self.0.lock().unwrap();
            seen.push(first_seq);
            if seen.len() == 2 {
                return Err(std::io::Error::other("disk gone"));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn after_a_failed_write_every_later_record_is_refused() {
        let sealer = Arc::new(Sealer::create("p", "st", 1 << 10).unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let w = JournalWriter::start(Box::new(FailSecond(seen.clone())), sealer, 1, None);
        w.append(&rec("a")).await.unwrap();
        let failed = w.append(&rec("b")).await.unwrap_err().to_string();
        assert!(failed.contains("disk gone"), "{failed}");
        let refused = w.append(&rec("c")).await.unwrap_err().to_string();
        assert!(refused.contains("disk gone"), "{refused}");
        assert_eq!(*seen.lock().unwrap(), vec![1, 2], "nothing written after the gap");
    }

    #[tokio::test]
    async fn a_torn_last_record_is_dropped_with_a_warning() {
        let (bytes, sealer) = write(&[rec("a"), rec("b")]).await;
        let torn = &bytes[..bytes.len() - 10];
        let r = replay(torn, &sealer, "j").unwrap();
        assert_eq!(r.records, vec![rec("a")]);
        assert!(r.warnings[0].contains("torn"), "{:?}", r.warnings);
    }

    #[tokio::test]
    async fn an_edited_or_removed_record_is_an_error() {
        let (bytes, sealer) = write(&[rec("a"), rec("b"), rec("c")]).await;
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let without_b = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[3]);
        assert!(
            matches!(replay(without_b.as_bytes(), &sealer, "j"), Err(StateError::Tampered(m)) if m.contains("line 3"))
        );
        let edited = text.replace("\"name\":\"b\"", "\"name\":\"x\"");
        assert!(replay(edited.as_bytes(), &sealer, "j").is_err());
    }
}
