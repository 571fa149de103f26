//! The stack engine: plans, orders and runs the provider's steps for a whole stack, and persists
//! its state (journaled, sealed, locked). SDKs are thin language hosts that register resources.
//! The methods and formats are documented in docs/engine.md.
//!
//! # Layout
//! - [`messages`]: params and results of the `engine.*` methods.
//! - [`deployment`]: one open deployment: registrations, step generation, scheduling, close.
//! - [`refs`]: the reference envelope (another resource's output as an input).
//! - [`plan`]: steps, their summary and the rendered plan text.
//! - [`progress`]: live progress of the steps (a spinner on a terminal, plain lines otherwise).
//! - [`state`]: the state, its snapshot and journal, sealing, and the backends (local, S3).
//! - [`error`]: engine error codes.
//! - [`rpc`]: the handlers of the `engine.*` rows of the one JSON-RPC method table (`rpc::methods`).

pub mod cli;
pub mod deployment;
pub mod error;
pub mod messages;
pub mod plan;
pub mod progress;
pub mod refs;
pub mod rpc;
pub mod state;

use crate::protocol::ReadRequest;
use crate::provider::Provider;
use deployment::Deployment;
use error::{EngineError, STATE};
use messages::*;
use serde_json::Value;
use state::backend::Backend;
use state::seal::PASSPHRASE_ENV;
use state::store::Store;
use state::{Record, StackState};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The default number of steps at once. Cloud calls mostly wait on the network, so the bound is
/// wide (Pulumi's own default is unbounded); it matches what one stdio connection keeps in flight.
pub const DEFAULT_PARALLELISM: usize = 64;

/// Types whose id follows from their inputs, so an interrupted create can be looked up.
const ID_FROM_INPUTS: [(&str, &str); 1] = [("alicloud_kms_secret", "secret_name")];

/// The engine: open deployments over one provider.
pub struct Engine {
    provider: Arc<Provider>,
    deployments: Mutex<HashMap<String, Arc<Deployment>>>,
    counter: AtomicU64,
    progress: Option<progress::Sink>,
}

fn valid_stack(stack: &str) -> Result<(), EngineError> {
    let ok = !stack.is_empty()
        && stack.len() <= 100
        && stack.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !stack.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(EngineError::new(
            crate::protocol::ErrorCode::InvalidParams.code(),
            format!("stack: {stack:?} is not a valid stack name (1-100 of A-Z a-z 0-9 _ . -, not starting with .)"),
        ))
    }
}

fn passphrase(given: Option<&Value>) -> Option<String> {
    match given {
        Some(v) => {
            let (plain, _) = crate::protocol::envelope::unwrap_secret(v.clone());
            plain.as_str().map(str::to_string)
        }
        None => std::env::var(PASSPHRASE_ENV).ok(),
    }
}

impl Engine {
    /// An engine over `provider`.
    pub fn new(provider: Arc<Provider>) -> Self {
        Engine {
            provider,
            deployments: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            progress: None,
        }
    }

    /// The same engine, reporting the progress of every deployment's steps to `sink`.
    pub fn with_progress(mut self, sink: progress::Sink) -> Self {
        self.progress = Some(sink);
        self
    }

    fn deployment(&self, id: &str) -> Result<Arc<Deployment>, EngineError> {
        self.deployments
            .lock()
            .expect("deployments lock")
            .get(id)
            .cloned()
            .ok_or_else(|| {
                EngineError::new(
                    crate::protocol::ErrorCode::InvalidParams.code(),
                    format!("deployment: no open deployment {id:?}"),
                )
            })
    }

    /// `engine.open`.
    pub async fn open(&self, req: OpenRequest) -> Result<OpenResponse, EngineError> {
        valid_stack(&req.stack)?;
        let parallelism = req.parallelism.unwrap_or(DEFAULT_PARALLELISM);
        if !(1..=256).contains(&parallelism) {
            return Err(EngineError::new(-32602, "parallelism: must be between 1 and 256"));
        }
        let url = req.backend.clone();
        let pass = passphrase(req.passphrase.as_ref());
        let writes = req.action != Action::Preview;
        let stack = req.stack.clone();
        let opened = tokio::task::spawn_blocking(move || {
            Store::open(
                Backend::resolve(url.as_deref(), &stack)?,
                &stack,
                pass.as_deref(),
                writes,
            )
        })
        .await
        .map_err(|e| EngineError::new(STATE, e.to_string()))??;
        let (mut store, mut state, mut warnings) = (opened.store, opened.state, opened.warnings);
        let mut may_exist = Vec::new();
        if writes && !state.pending.is_empty() {
            self.reconcile(&mut store, &mut state, &mut warnings, &mut may_exist)
                .await?;
        } else {
            for p in &state.pending {
                warnings.push(format!(
                    "{}: an interrupted create of {} may exist; the next up reconciles it",
                    p.name, p.type_name
                ));
            }
        }
        let id = format!(
            "d-{}-{}",
            std::process::id(),
            self.counter.fetch_add(1, Ordering::SeqCst) + 1
        );
        let mut deployment = Deployment::new(
            id.clone(),
            req.action,
            self.provider.clone(),
            parallelism,
            store,
            state,
            warnings.clone(),
            may_exist,
        )?;
        deployment.progress = self.progress.clone();
        self.deployments
            .lock()
            .expect("deployments lock")
            .insert(id.clone(), Arc::new(deployment));
        Ok(OpenResponse {
            deployment: id,
            warnings,
        })
    }

    /// Settles creates that a killed engine left unfinished: looked up by name where the type
    /// allows it (adopted if found); otherwise reported as "may exist" and kept.
    async fn reconcile(
        &self,
        store: &mut Store,
        state: &mut StackState,
        warnings: &mut Vec<String>,
        may_exist: &mut Vec<MayExist>,
    ) -> Result<(), EngineError> {
        let writer = store.writer()?;
        for p in state.pending.clone() {
            let prop = ID_FROM_INPUTS
                .iter()
                .find(|(t, _)| *t == p.type_name)
                .map(|(_, prop)| *prop);
            let id = prop
                .and_then(|prop| p.inputs.get(prop))
                .map(|v| crate::protocol::envelope::unwrap_secret(v.clone()).0)
                .and_then(|v| v.as_str().map(str::to_string));
            let Some(id) = id else {
                warnings.push(format!(
                    "{}: an interrupted create of {} may exist in the cloud (its id is unknown); check, then import it with the import option or remove it by hand",
                    p.name, p.type_name
                ));
                may_exist.push(MayExist {
                    name: p.name.clone(),
                    type_name: p.type_name.clone(),
                    ids: vec![],
                });
                continue;
            };
            let found = self
                .provider
                .read(ReadRequest {
                    type_name: p.type_name.clone(),
                    id: id.clone(),
                    inputs: Some(p.inputs.clone()),
                    outputs: None,
                    timeout_seconds: None,
                })
                .await
                .map_err(|e| EngineError::provider(&p.name, &e))?;
            let mut records = Vec::new();
            if let Some(found) = found {
                warnings.push(format!(
                    "{}: adopted {} {} created by an interrupted run",
                    p.name, p.type_name, found.id
                ));
                let mut inputs = p.inputs.clone();
                inputs.extend(found.inputs.into_iter().filter(|(_, v)| !v.is_null()));
                records.push(Record::Put {
                    resource: state::ResourceState {
                        type_name: p.type_name.clone(),
                        name: p.name.clone(),
                        id: found.id,
                        inputs,
                        outputs: found.outputs,
                        dependencies: p.dependencies.clone(),
                        partial: false,
                        options: Default::default(),
                    },
                });
            }
            records.push(Record::End { name: p.name.clone() });
            writer.append_all(&records).await?;
            for r in records {
                state.apply(r);
            }
        }
        Ok(())
    }

    /// `engine.register`.
    pub async fn register(&self, req: RegisterRequest) -> Result<RegisterResponse, EngineError> {
        let d = self.deployment(&req.deployment)?;
        d.register(req).await
    }

    /// `engine.outputs`.
    pub fn outputs(&self, req: OutputsRequest) -> Result<serde_json::Map<String, Value>, EngineError> {
        self.deployment(&req.deployment)?.set_outputs(req.outputs);
        Ok(Default::default())
    }

    /// `engine.close`.
    pub async fn close(&self, req: DeploymentRequest) -> Result<CloseResponse, EngineError> {
        let d = self.deployment(&req.deployment)?;
        let result = d.close(req.registrations).await;
        self.deployments
            .lock()
            .expect("deployments lock")
            .remove(&req.deployment);
        result
    }

    /// `engine.cancel`.
    pub fn cancel(&self, req: DeploymentRequest) -> Result<serde_json::Map<String, Value>, EngineError> {
        let d = self.deployment(&req.deployment)?;
        d.cancel();
        self.deployments
            .lock()
            .expect("deployments lock")
            .remove(&req.deployment);
        Ok(Default::default())
    }

    /// `engine.export`: the stored snapshot document (secrets stay sealed).
    pub fn export(&self, req: StackRequest) -> Result<Value, EngineError> {
        valid_stack(&req.stack)?;
        let backend = Backend::resolve(req.backend.as_deref(), &req.stack)?;
        let bytes = backend
            .read_snapshot()?
            .ok_or_else(|| EngineError::new(STATE, format!("no state for stack {}", req.stack)))?;
        serde_json::from_slice(&bytes).map_err(|e| EngineError::new(STATE, format!("corrupted state: {e}")))
    }

    /// `engine.import`: stores a document exported before (verified on the next open).
    pub fn import(&self, req: StackRequest) -> Result<Value, EngineError> {
        valid_stack(&req.stack)?;
        let backend = Backend::resolve(req.backend.as_deref(), &req.stack)?;
        let doc = req
            .document
            .ok_or_else(|| EngineError::new(-32602, "document: required"))?;
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| EngineError::new(STATE, e.to_string()))?;
        state::parse_snapshot(&bytes, "the imported document")?;
        let _lock = backend.lock()?;
        backend.write_snapshot(&bytes)?;
        backend.clear_journal()?;
        Ok(Value::Object(Default::default()))
    }

    /// `engine.stacks`.
    pub fn stacks(&self, req: StackRequest) -> Result<StacksResponse, EngineError> {
        let stacks = match req.backend.as_deref() {
            // A missing local directory has no stacks; a bucket that cannot be listed is an error.
            Some(url) if url.starts_with("s3://") => Backend::list(Some(url))?,
            url => Backend::list(url).unwrap_or_default(),
        };
        Ok(StacksResponse { stacks })
    }

    /// `engine.resolve`: settles an interrupted create of `name`: with `id`, reads that resource
    /// and records it; without, forgets the pending entry (after the user checked the cloud).
    pub async fn resolve(&self, req: ResolveRequest) -> Result<Value, EngineError> {
        valid_stack(&req.stack)?;
        let url = req.backend.clone();
        let pass = passphrase(None);
        let stack = req.stack.clone();
        let opened = tokio::task::spawn_blocking(move || {
            Store::open(Backend::resolve(url.as_deref(), &stack)?, &stack, pass.as_deref(), true)
        })
        .await
        .map_err(|e| EngineError::new(STATE, e.to_string()))??;
        let (mut store, mut state) = (opened.store, opened.state);
        let p = state
            .pending
            .iter()
            .find(|p| p.name == req.name)
            .cloned()
            .ok_or_else(|| {
                EngineError::new(
                    -32602,
                    format!("name: no interrupted create of {:?} in stack {}", req.name, req.stack),
                )
            })?;
        let mut records = Vec::new();
        if let Some(id) = &req.id {
            let read = ReadRequest {
                type_name: p.type_name.clone(),
                id: id.clone(),
                inputs: Some(p.inputs.clone()),
                outputs: None,
                timeout_seconds: None,
            };
            let found = self
                .provider
                .read(read)
                .await
                .map_err(|e| EngineError::provider(&p.name, &e))?
                .ok_or_else(|| EngineError::new(-32602, format!("id: {} {id} does not exist", p.type_name)))?;
            records.push(Record::Put {
                resource: state::ResourceState {
                    type_name: p.type_name.clone(),
                    name: p.name.clone(),
                    id: found.id,
                    inputs: p.inputs.clone(),
                    outputs: found.outputs,
                    dependencies: p.dependencies.clone(),
                    partial: false,
                    options: Default::default(),
                },
            });
        }
        records.push(Record::End { name: p.name.clone() });
        for r in records {
            state.apply(r);
        }
        tokio::task::spawn_blocking(move || store.compact(&state))
            .await
            .map_err(|e| EngineError::new(STATE, e.to_string()))??;
        Ok(Value::Object(Default::default()))
    }

    /// `credplane stack unlock`: removes a lock left by an engine that is gone, on purpose.
    /// Blocking (S3 calls); says whose lock it was.
    pub fn unlock(stack: &str, backend: Option<&str>) -> Result<String, EngineError> {
        valid_stack(stack)?;
        Ok(Backend::resolve(backend, stack)?.unlock()?)
    }

    /// `engine.remove`: deletes a stack's state; refused while it has resources.
    pub fn remove(&self, req: StackRequest, force: bool) -> Result<Value, EngineError> {
        valid_stack(&req.stack)?;
        let backend = Backend::resolve(req.backend.as_deref(), &req.stack)?;
        let _lock = backend.lock()?;
        if !force && let Some(bytes) = backend.read_snapshot()? {
            let raw: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if raw
                .get("resources")
                .and_then(Value::as_array)
                .is_some_and(|r| !r.is_empty())
            {
                return Err(EngineError::new(
                    STATE,
                    format!("stack {} still has resources; destroy it first (or --force)", req.stack),
                ));
            }
        }
        backend.remove()?;
        Ok(Value::Object(Default::default()))
    }
}
