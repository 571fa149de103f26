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
use serde_json::{Map, Value, json};

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
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Begin(p) => {
                self.pending.retain(|x| x.name != p.name);
                self.pending.push(p.clone());
            }
            Record::End { name } => self.pending.retain(|x| &x.name != name),
            Record::Put { resource } => {
                self.resources.insert(resource.name.clone(), resource.clone());
            }
            Record::Remove { name } => {
                self.resources.shift_remove(name);
            }
            Record::PendingDelete { resource } => self.pending_deletes.push(resource.clone()),
            Record::DeletedPending { name, id } => self.pending_deletes.retain(|r| !(&r.name == name && &r.id == id)),
            Record::Outputs { outputs } => self.outputs = outputs.clone(),
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
    sealer.seal(record.subject(), "", &value)
}

/// Opens a journaled record.
pub fn open_record(sealer: &Sealer, value: &Value) -> Result<Record, StateError> {
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
pub fn encode_snapshot(sealer: &Sealer, state: &StackState, generation: u64) -> Result<Vec<u8>, StateError> {
    let resource = |r: &ResourceState| -> Result<Value, StateError> {
        sealer.seal(&r.name, "", &serde_json::to_value(r).expect("json"))
    };
    let mut doc = json!({
        "version": 2,
        "stack": state.stack,
        "generation": generation,
        "encryption": sealer.header,
        "resources": state.resources.values().map(resource).collect::<Result<Vec<_>, _>>()?,
        "pending": state.pending.iter().map(|p| sealer.seal(&p.name, "", &serde_json::to_value(p).expect("json"))).collect::<Result<Vec<_>, _>>()?,
        "pendingDeletes": state.pending_deletes.iter().map(resource).collect::<Result<Vec<_>, _>>()?,
        "outputs": sealer.seal("", "outputs", &Value::Object(state.outputs.clone()))?,
    });
    let body = serde_json::to_vec(&doc).expect("json");
    doc["mac"] = Value::String(sealer.mac(&[b"snapshot", &body]));
    let mut text = serde_json::to_vec_pretty(&doc).expect("json");
    text.push(b'\n');
    Ok(text)
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
    /// Verifies (version 2) and opens the document.
    pub fn open(&self, sealer: Option<&Sealer>, stack: &str, what: &str) -> Result<StackState, StateError> {
        let mut doc = self.doc.clone();
        if self.version == 2 {
            let sealer = sealer.ok_or_else(|| StateError::PassphraseRequired(format!("{what} is sealed")))?;
            let mac = doc
                .shift_remove("mac")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let body = serde_json::to_vec(&Value::Object(doc.clone())).expect("json");
            if !sealer.verify(&[b"snapshot", &body], &mac) {
                return Err(StateError::Tampered(format!(
                    "{what}: the document's MAC does not match"
                )));
            }
        }
        let open = |v: &Value| -> Result<Value, StateError> {
            match sealer {
                Some(s) => s.open_value(v.get("name").and_then(Value::as_str).unwrap_or(""), "", v),
                None if v.to_string().contains("\"ciphertext\"") => {
                    Err(StateError::PassphraseRequired(format!("{what} holds secrets")))
                }
                None => Ok(v.clone()),
            }
        };
        let list = |key: &str| -> Vec<Value> { doc.get(key).and_then(Value::as_array).cloned().unwrap_or_default() };
        let malformed = |e: serde_json::Error| StateError::Corrupt(format!("{what}: {e}"));
        let mut state = StackState::new(doc.get("stack").and_then(Value::as_str).unwrap_or(stack));
        for r in list("resources") {
            let r: ResourceState = serde_json::from_value(open(&r)?).map_err(malformed)?;
            state.resources.insert(r.name.clone(), r);
        }
        for p in list("pending") {
            state
                .pending
                .push(serde_json::from_value(open(&p)?).map_err(malformed)?);
        }
        for r in list("pendingDeletes") {
            state
                .pending_deletes
                .push(serde_json::from_value(open(&r)?).map_err(malformed)?);
        }
        if let Some(outputs) = doc.get("outputs") {
            let opened = match sealer {
                Some(s) => s.open_value("", "outputs", outputs)?,
                None => outputs.clone(),
            };
            if let Value::Object(map) = opened {
                state.outputs = map;
            }
        }
        Ok(state)
    }
}
