//! The stack state: its in-memory shape, the snapshot document, and the journal records that
//! change it. Persistence lives in [`store`] over a [`backend`] ([`local`] or [`s3`]); sealing
//! in [`seal`].

pub mod backend;
pub mod journal;
pub mod local;
pub mod s3;
pub mod s3_location;
pub mod seal;
pub mod store;

use indexmap::IndexMap;
use seal::{Header, Sealer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why the state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// `CREDPLANE_PASSPHRASE` does not open this state.
    #[error("wrong CREDPLANE_PASSPHRASE for this state")]
    WrongPassphrase,
    /// No passphrase, but one is needed.
    #[error("set CREDPLANE_PASSPHRASE: {0}")]
    PassphraseRequired(String),
    /// Unreadable or malformed.
    #[error("corrupted state: {0}")]
    Corrupt(String),
    /// A MAC or a ciphertext does not verify.
    #[error("the state was tampered with: {0}")]
    Tampered(String),
    /// Another engine holds the lock.
    #[error("{0}")]
    Locked(String),
    /// A file-system or object-storage error.
    #[error("state storage: {0}")]
    Io(String),
    /// A malformed state URL (the message names the part and the rule).
    #[error("{0}")]
    Invalid(String),
}

impl From<std::io::Error> for StateError {
    fn from(e: std::io::Error) -> Self {
        StateError::Io(e.to_string())
    }
}

/// Options that stay with a resource between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptOptions {
    /// Deleting it is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protect: bool,
    /// Deleting it only forgets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retain_on_delete: bool,
    /// Seconds for delete, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_timeout: Option<f64>,
}

/// One resource in the state. Values hold secret envelopes in memory; they are sealed on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceState {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The name, unique in the stack.
    pub name: String,
    /// The cloud id.
    pub id: String,
    /// The checked inputs last applied.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// The outputs last recorded.
    #[serde(default)]
    pub outputs: Map<String, Value>,
    /// Names of the resources it depends on.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Created, but a later step of the creation failed (-32004).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// protect / retainOnDelete / delete timeout.
    #[serde(default)]
    pub options: KeptOptions,
}

/// A create that was started and whose outcome was not recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Always `create`.
    pub op: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource name.
    pub name: String,
    /// The inputs sent to create.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// Its dependencies.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

/// The whole state of one stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackState {
    /// The stack name.
    pub stack: String,
    /// Resources by name, in the order they were recorded.
    pub resources: IndexMap<String, ResourceState>,
    /// Interrupted creates.
    pub pending: Vec<Pending>,
    /// Replaced resources whose deletion has not completed.
    pub pending_deletes: Vec<ResourceState>,
    /// The stack's outputs.
    pub outputs: Map<String, Value>,
}

/// One change to the state, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Record {
    /// A create is about to be sent.
    Begin(Pending),
    /// The create of `name` is settled (a `put` follows when it succeeded).
    End {
        /// The resource name.
        name: String,
    },
    /// A resource is recorded (created, updated, read).
    Put {
        /// Its new state.
        resource: ResourceState,
    },
    /// A resource is forgotten (deleted, gone).
    Remove {
        /// The resource name.
        name: String,
    },
    /// A replaced resource waits for its deletion.
    PendingDelete {
        /// The old resource.
        resource: ResourceState,
    },
    /// A replaced resource was deleted.
    DeletedPending {
        /// The resource name.
        name: String,
        /// The old id.
        id: String,
    },
    /// The stack outputs.
    Outputs {
        /// Their values.
        outputs: Map<String, Value>,
    },
}

impl Record {
    /// The resource the record is about (binds its sealed values).
    fn subject(&self) -> &str {
        match self {
            Record::Begin(p) => &p.name,
            Record::End { name } | Record::Remove { name } | Record::DeletedPending { name, .. } => name,
            Record::Put { resource } | Record::PendingDelete { resource } => &resource.name,
            Record::Outputs { .. } => "",
        }
    }
}

impl StackState {
    /// An empty state.
    pub fn new(stack: &str) -> Self {
        StackState {
            stack: stack.to_string(),
            ..Default::default()
        }
    }

    /// Applies one journal record.
    pub fn apply(&mut self, record: Record) {
        match record {
            Record::Begin(p) => {
                self.pending.retain(|x| x.name != p.name);
                self.pending.push(p);
            }
            Record::End { name } => self.pending.retain(|x| x.name != name),
            Record::Put { resource } => {
                self.resources.insert(resource.name.clone(), resource);
            }
            Record::Remove { name } => {
                self.resources.shift_remove(&name);
            }
            Record::PendingDelete { resource } => self.pending_deletes.push(resource),
            Record::DeletedPending { name, id } => self.pending_deletes.retain(|r| !(r.name == name && r.id == id)),
            Record::Outputs { outputs } => self.outputs = outputs,
        }
    }

    /// Whether any value is a secret (then a passphrase is needed to write).
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.pending.is_empty() && self.pending_deletes.is_empty()
    }
}

/// Seals a record for the journal.
pub fn seal_record(sealer: &Sealer, record: &Record) -> Result<Value, StateError> {
    let value = serde_json::to_value(record).map_err(|e| StateError::Corrupt(e.to_string()))?;
    sealer.seal(record.subject(), "", value)
}

/// Opens a journaled record.
pub fn open_record(sealer: &Sealer, value: Value) -> Result<Record, StateError> {
    let subject = ["name"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .or_else(|| value.pointer("/resource/name").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let plain = sealer.open_value(&subject, "", value)?;
    let record: Record =
        serde_json::from_value(plain).map_err(|e| StateError::Corrupt(format!("journal record: {e}")))?;
    if record.subject() != subject {
        return Err(StateError::Tampered("a journal record names another resource".into()));
    }
    Ok(record)
}

/// The snapshot document (version 2), sealed and authenticated. `generation` ties a journal to it.
///
/// Written piece by piece: each resource is sealed and serialized on its own, so no sealed copy
/// of the whole state is ever held. The MAC is over the compact document without `mac` (as
/// [`RawSnapshot::open`] recomputes it); the file is the same document, indented.
pub fn encode_snapshot(sealer: &Sealer, state: &StackState, generation: u64) -> Result<Vec<u8>, StateError> {
    fn sealed(sealer: &Sealer, name: &str, value: &impl Serialize) -> Result<Value, StateError> {
        sealer.seal(name, "", serde_json::to_value(value).expect("json"))
    }
    let mut doc = DocWriter::new();
    doc.field("version", &2);
    doc.field("stack", &state.stack);
    doc.field("generation", &generation);
    doc.field("encryption", &sealer.header);
    doc.list(
        "resources",
        state.resources.values().map(|r| sealed(sealer, &r.name, r)),
    )?;
    doc.list("pending", state.pending.iter().map(|p| sealed(sealer, &p.name, p)))?;
    doc.list(
        "pendingDeletes",
        state.pending_deletes.iter().map(|r| sealed(sealer, &r.name, r)),
    )?;
    doc.field(
        "outputs",
        &sealer.seal("", "outputs", Value::Object(state.outputs.clone()))?,
    );
    Ok(doc.finish(|body| sealer.mac(&[b"snapshot", body])))
}

/// A JSON object written member by member, twice: compact (what the MAC covers) and indented
/// (the file), as `serde_json::to_vec` and `to_vec_pretty` would write the whole object.
struct DocWriter {
    compact: Vec<u8>,
    pretty: Vec<u8>,
    members: usize,
}

impl DocWriter {
    fn new() -> Self {
        DocWriter {
            compact: b"{".to_vec(),
            pretty: b"{".to_vec(),
            members: 0,
        }
    }

    fn key(&mut self, key: &str) {
        if self.members > 0 {
            self.compact.push(b',');
            self.pretty.push(b',');
        }
        self.members += 1;
        let key = serde_json::to_vec(key).expect("json");
        self.compact.extend_from_slice(&key);
        self.compact.push(b':');
        self.pretty.extend_from_slice(b"\n  ");
        self.pretty.extend_from_slice(&key);
        self.pretty.extend_from_slice(b": ");
    }

    /// `value` at `indent` (the indentation of the line it starts on).
    fn value(&mut self, value: &impl Serialize, indent: &[u8]) {
        serde_json::to_writer(&mut self.compact, value).expect("json");
        // A JSON text holds no raw newline inside a string, so each one starts a line.
        for byte in serde_json::to_vec_pretty(value).expect("json") {
            self.pretty.push(byte);
            if byte == b'\n' {
                self.pretty.extend_from_slice(indent);
            }
        }
    }

    fn field(&mut self, key: &str, value: &impl Serialize) {
        self.key(key);
        self.value(value, b"  ");
    }

    fn list(&mut self, key: &str, items: impl Iterator<Item = Result<Value, StateError>>) -> Result<(), StateError> {
        self.key(key);
        self.compact.push(b'[');
        self.pretty.push(b'[');
        let mut n = 0;
        for item in items {
            let item = item?;
            if n > 0 {
                self.compact.push(b',');
                self.pretty.push(b',');
            }
            self.pretty.extend_from_slice(b"\n    ");
            self.value(&item, b"    ");
            n += 1;
        }
        self.compact.push(b']');
        if n > 0 {
            self.pretty.extend_from_slice(b"\n  ");
        }
        self.pretty.push(b']');
        Ok(())
    }

    /// The indented document with `mac(compact document)` as its last member.
    fn finish(mut self, mac: impl FnOnce(&[u8]) -> String) -> Vec<u8> {
        self.compact.push(b'}');
        let mac = mac(&self.compact);
        drop(self.compact);
        self.pretty.extend_from_slice(b",\n  \"mac\": ");
        self.pretty.extend_from_slice(&serde_json::to_vec(&mac).expect("json"));
        self.pretty.extend_from_slice(b"\n}\n");
        self.pretty
    }
}

/// What a snapshot file holds before it is opened: its header and version.
pub struct RawSnapshot {
    doc: Map<String, Value>,
    /// 1 (written by the SDKs before the engine) or 2.
    pub version: u64,
    /// The encryption header, if any.
    pub header: Option<Header>,
    /// The journal generation it was compacted at.
    pub generation: u64,
}

/// Parses a snapshot file (no keys needed yet).
pub fn parse_snapshot(bytes: &[u8], what: &str) -> Result<RawSnapshot, StateError> {
    let doc: Map<String, Value> = serde_json::from_slice(bytes)
        .map_err(|e| StateError::Corrupt(format!("{what} is not a JSON state document: {e}")))?;
    let version = doc.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version != 1 && version != 2 {
        return Err(StateError::Corrupt(format!(
            "{what}: unsupported state version {version}"
        )));
    }
    let header = match doc.get("encryption") {
        None | Some(Value::Null) => None,
        Some(h) => Some(
            serde_json::from_value(h.clone())
                .map_err(|e| StateError::Corrupt(format!("{what}: encryption header: {e}")))?,
        ),
    };
    let generation = doc.get("generation").and_then(Value::as_u64).unwrap_or(0);
    Ok(RawSnapshot {
        doc,
        version,
        header,
        generation,
    })
}

impl RawSnapshot {
    /// Verifies (version 2) and opens the document. Consumes it: a snapshot is as large as the
    /// stack, so nothing of it is copied whole.
    pub fn open(self, sealer: Option<&Sealer>, stack: &str, what: &str) -> Result<StackState, StateError> {
        let mut doc = self.doc;
        if self.version == 2 {
            let sealer = sealer.ok_or_else(|| StateError::PassphraseRequired(format!("{what} is sealed")))?;
            let mac = doc
                .shift_remove("mac")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let body = serde_json::to_vec(&doc).expect("json");
            if !sealer.verify(&[b"snapshot", &body], &mac) {
                return Err(StateError::Tampered(format!(
                    "{what}: the document's MAC does not match"
                )));
            }
        }
        let open = |v: Value| -> Result<Value, StateError> {
            match sealer {
                Some(s) => {
                    let name = v.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                    s.open_value(&name, "", v)
                }
                None if v.to_string().contains("\"ciphertext\"") => {
                    Err(StateError::PassphraseRequired(format!("{what} holds secrets")))
                }
                None => Ok(v),
            }
        };
        let mut list = |key: &str| -> Vec<Value> {
            match doc.shift_remove(key) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        };
        let (resources, pending, pending_deletes) = (list("resources"), list("pending"), list("pendingDeletes"));
        let malformed = |e: serde_json::Error| StateError::Corrupt(format!("{what}: {e}"));
        let mut state = StackState::new(doc.get("stack").and_then(Value::as_str).unwrap_or(stack));
        for r in resources {
            let r: ResourceState = serde_json::from_value(open(r)?).map_err(malformed)?;
            state.resources.insert(r.name.clone(), r);
        }
        for p in pending {
            state.pending.push(serde_json::from_value(open(p)?).map_err(malformed)?);
        }
        for r in pending_deletes {
            state
                .pending_deletes
                .push(serde_json::from_value(open(r)?).map_err(malformed)?);
        }
        if let Some(outputs) = doc.shift_remove("outputs") {
            let opened = match sealer {
                Some(s) => s.open_value("", "outputs", outputs)?,
                None => outputs,
            };
            if let Value::Object(map) = opened {
                state.outputs = map;
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> StackState {
        let mut state = StackState::new("st");
        for name in ["a", "b"] {
            let resource = ResourceState {
                type_name: "t".into(),
                name: name.into(),
                id: format!("id-{name}"),
                inputs: serde_json::from_value(json!({"k": "v", "s": {"$credplane": "secret", "value": "pw"}}))
                    .unwrap(),
                outputs: serde_json::from_value(json!({"n": 1.5, "list": [1, {"x": []}], "empty": {}})).unwrap(),
                dependencies: vec!["z".into()],
                partial: false,
                options: KeptOptions::default(),
            };
            state.apply(Record::Put { resource });
        }
        state.outputs = serde_json::from_value(json!({"o": {"$credplane": "secret", "value": 1}})).unwrap();
        state
    }

    #[test]
    fn a_snapshot_is_the_document_serde_json_writes_and_opens_to_the_same_state() {
        let sealer = Sealer::create("p", "st", 1 << 10).unwrap();
        for state in [state(), StackState::new("st")] {
            let text = encode_snapshot(&sealer, &state, 7).unwrap();
            let doc: Value = serde_json::from_slice(&text).unwrap();
            let mut pretty = serde_json::to_vec_pretty(&doc).unwrap();
            pretty.push(b'\n');
            assert_eq!(
                String::from_utf8(text.clone()).unwrap(),
                String::from_utf8(pretty).unwrap()
            );
            assert!(!String::from_utf8_lossy(&text).contains("pw"), "secrets are sealed");
            let raw = parse_snapshot(&text, "s").unwrap();
            assert_eq!(raw.generation, 7);
            let reader = Sealer::open("p", "st", raw.header.as_ref().unwrap(), false).unwrap();
            assert_eq!(raw.open(Some(&reader), "st", "s").unwrap(), state);
        }
    }

    #[test]
    fn an_edited_snapshot_does_not_verify() {
        let sealer = Sealer::create("p", "st", 1 << 10).unwrap();
        let text = String::from_utf8(encode_snapshot(&sealer, &state(), 1).unwrap()).unwrap();
        let edited = text.replace("\"id-a\"", "\"id-x\"");
        let raw = parse_snapshot(edited.as_bytes(), "s").unwrap();
        assert!(matches!(
            raw.open(Some(&sealer), "st", "s"),
            Err(StateError::Tampered(_))
        ));
    }
}
