//! One open deployment: registrations arrive concurrently; each waits for its dependencies,
//! then runs its step (at most `parallelism` provider calls at once) and replies. `close`
//! deletes what was not registered, in reverse dependency order, and compacts the state.

use super::error::{DEPENDENCY_FAILED, EngineError, PROTECTED};
use super::messages::{Action, CloseResponse, MayExist, Options, RegisterRequest, RegisterResponse};
use super::plan::{self, Change, Step, mask};
use super::progress::{Event, Phase};
use super::refs::{self, Ref};
use super::state::journal::JournalWriter;
use super::state::store::Store;
use super::state::{KeptOptions, Pending, Record, ResourceState, StackState, StateError};
use crate::protocol::*;
use crate::provider::Provider;
use crate::provider::error::ProviderError;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, watch};

/// A step's outputs, shared between its slot and its reply.
type SharedOutputs = Arc<Map<String, Value>>;

/// How a resource's step ended, as seen by its dependents.
#[derive(Debug, Clone)]
enum Outcome {
    Done {
        id: String,
        /// In a preview, the outputs (shared with the step's reply). Otherwise None: they are
        /// the ones just recorded in the state, and a second copy of every resource's outputs
        /// would live as long as the deployment.
        outputs: Option<SharedOutputs>,
    },
    Failed,
    /// Referred to, never registered.
    Missing,
}

/// What dependents see of a resource: its type as soon as it is registered (so a reference to a
/// property it does not have fails at once), then how its step ended.
#[derive(Debug, Clone, Default)]
struct Progress {
    type_name: Option<String>,
    outcome: Option<Outcome>,
}

struct Slot {
    registered: bool,
    /// Registration order, for the plan.
    index: usize,
    deps: Vec<String>,
    tx: watch::Sender<Progress>,
}

impl Slot {
    fn new() -> Self {
        Slot {
            registered: false,
            index: usize::MAX,
            deps: Vec::new(),
            tx: watch::channel(Progress::default()).0,
        }
    }

    fn settle(&self, outcome: Outcome) {
        self.tx.send_modify(|p| p.outcome = Some(outcome));
    }
}

#[derive(Default)]
struct Inner {
    slots: HashMap<String, Slot>,
    order: Vec<String>,
    steps: Vec<(usize, Step)>,
    errors: Vec<EngineError>,
    warnings: Vec<String>,
    outputs: Option<Map<String, Value>>,
    closed: bool,
}

/// An open deployment.
pub struct Deployment {
    /// Its id.
    pub id: String,
    /// The stack.
    pub stack: String,
    /// What it does.
    pub action: Action,
    provider: Arc<Provider>,
    sem: Arc<Semaphore>,
    writer: Option<JournalWriter>,
    store: Mutex<Option<Store>>,
    state: Mutex<StackState>,
    inner: Mutex<Inner>,
    may_exist: Vec<MayExist>,
    /// Where live progress goes (the CLI), if anywhere.
    pub(crate) progress: Option<super::progress::Sink>,
    /// Registrations that reached the engine, and a wake-up for `close` waiting on them.
    arrived: std::sync::atomic::AtomicUsize,
    arrival: tokio::sync::Notify,
}

type StepResult = Result<(Step, String, Map<String, Value>), EngineError>;

impl Deployment {
    /// A deployment over an opened store.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        action: Action,
        provider: Arc<Provider>,
        parallelism: usize,
        mut store: Store,
        state: StackState,
        warnings: Vec<String>,
        may_exist: Vec<MayExist>,
    ) -> Result<Self, EngineError> {
        let writer = if action == Action::Preview {
            None
        } else {
            Some(store.writer()?)
        };
        Ok(Deployment {
            id,
            stack: state.stack.clone(),
            action,
            provider,
            sem: Arc::new(Semaphore::new(parallelism)),
            writer,
            store: Mutex::new(Some(store)),
            state: Mutex::new(state),
            arrived: Default::default(),
            arrival: tokio::sync::Notify::new(),
            progress: None,
            inner: Mutex::new(Inner {
                warnings,
                ..Default::default()
            }),
            may_exist,
        })
    }

    /// `inputs` without the write-only properties (`x-writeOnly` in the type's schema): their
    /// values go to the cloud and never into the journal or the snapshot.
    fn persistable(&self, ty: &str, inputs: &PropertyMap) -> PropertyMap {
        let Some(resource) = self.provider.registry().get(ty) else {
            return inputs.clone();
        };
        let properties = resource.schema().document.pointer("/$defs/inputs/properties");
        let write_only = |name: &str| {
            properties
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("x-writeOnly"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        inputs
            .iter()
            .filter(|(k, _)| !write_only(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn preview(&self) -> bool {
        self.action == Action::Preview
    }

    /// Reports a step's progress (not in a preview, where nothing runs).
    fn emit(&self, phase: Phase, op: &str, type_name: &str, name: &str, error: Option<&EngineError>) {
        if let Some(sink) = self.progress.as_ref().filter(|_| !self.preview()) {
            let _ = sink.send(Event {
                phase,
                op: op.into(),
                type_name: type_name.into(),
                name: name.into(),
                error: error.map(|e| e.message().to_string()).unwrap_or_default(),
            });
        }
    }

    /// Journals `records` (durably), then applies them to the live state.
    async fn journal(&self, records: Vec<Record>) -> Result<(), EngineError> {
        if let Some(w) = &self.writer {
            w.append_all(&records).await?;
        }
        let mut state = self.state.lock().expect("state lock");
        for r in records {
            state.apply(r);
        }
        Ok(())
    }

    fn has_output(&self, type_name: &str, property: &str) -> bool {
        property == "id"
            || self.provider.registry().get(type_name).is_some_and(|r| {
                r.schema()
                    .document
                    .pointer("/$defs/outputs/properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key(property))
            })
    }

    /// `engine.register`: replies when the resource's step is done.
    pub async fn register(&self, req: RegisterRequest) -> Result<RegisterResponse, EngineError> {
        self.register_one(req).await
    }

    async fn register_one(&self, req: RegisterRequest) -> Result<RegisterResponse, EngineError> {
        let arrival = Arrival(self);
        let name = req.name.clone();
        if name.is_empty() {
            let err = EngineError::invalid("", "name", "must be a non-empty string");
            self.fail(err.clone());
            return Err(err);
        }
        // A refused registration still takes its name: the deployment then fails at close and
        // deletes nothing (it must never delete a resource whose registration had a typo).
        let mut refused = None;
        if self.provider.registry().get(&req.type_name).is_none() {
            let valid = self.provider.registry().names().join(", ");
            refused = Some(EngineError::invalid(
                &name,
                "type",
                format!("unknown resource type {:?}; valid types are: {valid}", req.type_name),
            ));
        }
        let mut found = Vec::new();
        refs::collect(&Value::Object(req.inputs.clone()), "inputs", &mut found);
        let mut deps: Vec<String> = Vec::new();
        let mut wanted: Vec<(String, Ref)> = Vec::new();
        for (path, r) in found {
            match r {
                Ok(r) => {
                    if !deps.contains(&r.resource) {
                        deps.push(r.resource.clone());
                    }
                    wanted.push((path, r));
                }
                Err(e) => refused = refused.or(Some(EngineError::invalid(&name, &path, e))),
            }
        }
        for d in &req.options.depends_on {
            if !deps.contains(d) {
                deps.push(d.clone());
            }
        }
        let waits = {
            let mut inner = self.inner.lock().expect("inner lock");
            if inner.closed {
                return Err(EngineError::invalid(&name, "", "the deployment is closed"));
            }
            let slot = inner.slots.entry(name.clone()).or_insert_with(Slot::new);
            if slot.registered {
                let err = EngineError::invalid(
                    &name,
                    "name",
                    format!("two resources are named {name:?}; names must be unique in a stack"),
                );
                inner.errors.push(err.clone());
                return Err(err);
            }
            slot.registered = true;
            slot.deps = deps.clone();
            if refused.is_none() {
                slot.tx.send_modify(|p| p.type_name = Some(req.type_name.clone()));
            }
            let index = inner.order.len();
            inner.slots.get_mut(&name).expect("inserted above").index = index;
            inner.order.push(name.clone());
            let refused = refused.or_else(|| {
                find_cycle(&inner.slots, &name).map(|cycle| {
                    EngineError::invalid(
                        &name,
                        "options.dependsOn",
                        format!("dependency cycle: {}", cycle.join(" -> ")),
                    )
                })
            });
            if let Some(err) = refused {
                inner.slots[&name].settle(Outcome::Failed);
                inner.errors.push(err.clone());
                return Err(err);
            }
            deps.iter()
                .map(|d| {
                    (
                        d.clone(),
                        inner.slots.entry(d.clone()).or_insert_with(Slot::new).tx.subscribe(),
                    )
                })
                .collect::<Vec<_>>()
        };
        drop(arrival);
        let result = self.run(&req, &deps, &wanted, waits).await;
        let mut inner = self.inner.lock().expect("inner lock");
        let index = inner.slots[&name].index;
        match result {
            Ok((step, id, outputs)) => {
                let op = step.op.clone();
                self.emit(Phase::Done, &op, &req.type_name, &name, None);
                inner.steps.push((index, step));
                let outputs = Arc::new(outputs);
                inner.slots[&name].settle(Outcome::Done {
                    id: id.clone(),
                    outputs: self.preview().then(|| outputs.clone()),
                });
                Ok(RegisterResponse { name, id, op, outputs })
            }
            Err(err) => {
                self.emit(Phase::Failed, "", &req.type_name, &name, Some(&err));
                inner.slots[&name].settle(Outcome::Failed);
                inner.errors.push(err.clone());
                Err(err)
            }
        }
    }

    async fn run(
        &self,
        req: &RegisterRequest,
        deps: &[String],
        wanted: &[(String, Ref)],
        mut waits: Vec<(String, watch::Receiver<Progress>)>,
    ) -> StepResult {
        let name = &req.name;
        // First every dependency must exist, and every reference name one of its outputs: that
        // is known as soon as the dependency is registered (or, for a name never registered,
        // when close says the program registered everything), not when its step is done.
        for (dep, rx) in &mut waits {
            let seen = rx
                .wait_for(|p| p.type_name.is_some() || p.outcome.is_some())
                .await
                .map(|p| p.type_name.clone())
                .ok()
                .flatten();
            let failed = matches!(rx.borrow().outcome, Some(Outcome::Failed));
            let Some(type_name) = seen else {
                if failed {
                    return Err(EngineError::new(
                        DEPENDENCY_FAILED,
                        format!("{name}: not applied, because its dependency {dep} failed"),
                    ));
                }
                let field = wanted
                    .iter()
                    .find(|(_, r)| &r.resource == dep)
                    .map_or("options.dependsOn", |(path, _)| path.as_str());
                return Err(EngineError::invalid(
                    name,
                    field,
                    format!("refers to {dep:?}, which is not a resource of this deployment"),
                ));
            };
            for (path, r) in wanted.iter().filter(|(_, r)| &r.resource == dep) {
                if !self.has_output(&type_name, &r.property) {
                    return Err(EngineError::invalid(
                        name,
                        path,
                        format!("{dep} ({type_name}) has no output {:?}", r.property),
                    ));
                }
            }
        }
        let mut done: HashMap<String, (String, Option<SharedOutputs>)> = HashMap::new();
        for (dep, mut rx) in waits {
            let outcome = rx
                .wait_for(|p| p.outcome.is_some())
                .await
                .ok()
                .and_then(|p| p.outcome.clone());
            match outcome {
                Some(Outcome::Done { id, outputs }) => {
                    done.insert(dep, (id, outputs));
                }
                Some(Outcome::Failed) => {
                    return Err(EngineError::new(
                        DEPENDENCY_FAILED,
                        format!("{name}: not applied, because its dependency {dep} failed"),
                    ));
                }
                // Registered, so never missing; a closed channel means the deployment ended.
                Some(Outcome::Missing) | None => return Err(cancelled(name)),
            }
        }
        let preview = self.preview();
        let news = {
            let state = self.state.lock().expect("state lock");
            let none = Map::new();
            match refs::substitute(&Value::Object(req.inputs.clone()), &|r: &Ref| {
                let (id, outputs) = &done[&r.resource];
                let outputs = match outputs {
                    Some(outputs) => outputs,
                    // Recorded by the dependency's step, which is done.
                    None => state.resources.get(&r.resource).map_or(&none, |s| &s.outputs),
                };
                refs::output(outputs, id, &r.property, preview)
            }) {
                Value::Object(m) => m,
                _ => unreachable!("an object stays an object"),
            }
        };
        let _permit = self.sem.acquire().await.map_err(|_| cancelled(name))?;
        self.step(req, deps.to_vec(), news).await
    }

    fn check(
        &self,
        name: &str,
        type_name: &str,
        olds: Option<PropertyMap>,
        news: PropertyMap,
    ) -> Result<PropertyMap, EngineError> {
        let checked = self
            .provider
            .check(CheckRequest {
                type_name: type_name.into(),
                olds,
                news,
            })
            .map_err(|e| EngineError::provider(name, &e))?;
        if !checked.failures.is_empty() {
            return Err(EngineError::provider(
                name,
                &ProviderError::InvalidParams(checked.failures),
            ));
        }
        Ok(checked.inputs)
    }

    async fn step(&self, req: &RegisterRequest, deps: Vec<String>, mut news: PropertyMap) -> StepResult {
        let (name, ty, opts) = (req.name.as_str(), req.type_name.as_str(), &req.options);
        let kept = KeptOptions {
            protect: opts.protect,
            retain_on_delete: opts.retain_on_delete,
            delete_timeout: opts.custom_timeouts.delete,
        };
        let old = self.state.lock().expect("state lock").resources.get(name).cloned();
        let Some(old) = old else {
            if let Some(id) = &opts.import {
                self.emit(Phase::Start, "import", ty, name, None);
                return self.import(req, id, news, deps, kept).await;
            }
            let interrupted = self
                .state
                .lock()
                .expect("state lock")
                .pending
                .iter()
                .any(|p| p.name == name);
            if interrupted && !self.preview() {
                return Err(EngineError::new(
                    super::error::MAY_EXIST,
                    format!("{name}: an interrupted create of {ty} may exist in the cloud; adopt it with the import option (its id), or, if nothing was created, drop the pending entry from the state (credplane stack export / import)"),
                )
                .with("candidates", Value::Array(vec![])));
            }
            let news = self.check(name, ty, None, news)?;
            let mut step = Step::new("create", ty, name, None);
            step.changes = news
                .iter()
                .map(|(k, v)| change(k, "add", &Value::Null, v, false))
                .collect();
            self.emit(Phase::Start, "create", ty, name, None);
            let (id, outputs) = self.create(name, ty, news, deps, kept, opts, vec![]).await?;
            step.id = Some(id.clone()).filter(|i| !i.is_empty());
            return Ok((step, id, outputs));
        };
        for prop in &opts.ignore_changes {
            match old.inputs.get(prop) {
                Some(v) => news.insert(prop.clone(), v.clone()),
                None => news.remove(prop),
            };
        }
        if old.type_name != ty {
            let news = self.check(name, ty, None, news)?;
            let mut step = Step::new("replace", ty, name, Some(old.id.clone()));
            step.changes.push(change(
                "type",
                "update",
                &Value::String(old.type_name.clone()),
                &Value::String(ty.into()),
                true,
            ));
            self.emit(Phase::Start, "replace", ty, name, None);
            return self.replace(step, old, news, deps, kept, opts, false).await;
        }
        let news = self.check(name, ty, Some(old.inputs.clone()), news)?;
        let diff = self
            .provider
            .diff(DiffRequest {
                type_name: ty.into(),
                id: old.id.clone(),
                olds: old.outputs.clone(),
                news: news.clone(),
                ignore_changes: opts.ignore_changes.clone(),
            })
            .await
            .map_err(|e| EngineError::provider(name, &e))?;
        let any = opts.replace_on_changes.iter().any(|p| p == "*");
        let changes: Vec<Change> = diff
            .detailed_diff
            .iter()
            .map(|(prop, d)| {
                let (kind, forced) = match d.kind {
                    DiffKind::Add => ("add", false),
                    DiffKind::AddReplace => ("add", true),
                    DiffKind::Update => ("update", false),
                    DiffKind::UpdateReplace => ("update", true),
                    DiffKind::Delete => ("delete", false),
                    DiffKind::DeleteReplace => ("delete", true),
                };
                let replace = forced || diff.replaces.contains(prop) || any || opts.replace_on_changes.contains(prop);
                let was = old
                    .outputs
                    .get(prop)
                    .or_else(|| old.inputs.get(prop))
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut c = change(prop, kind, &was, news.get(prop).unwrap_or(&Value::Null), replace);
                c.reason = d.reason.clone();
                c
            })
            .collect();
        if !diff.changes && changes.is_empty() {
            if !self.preview() && (old.dependencies != deps || old.options != kept || old.partial) {
                let resource = ResourceState {
                    dependencies: deps,
                    options: kept,
                    partial: false,
                    ..old.clone()
                };
                self.journal(vec![Record::Put { resource }]).await?;
            }
            return Ok((Step::new("same", ty, name, Some(old.id.clone())), old.id, old.outputs));
        }
        let replace = !diff.replaces.is_empty() || changes.iter().any(|c| c.replace);
        if replace {
            let mut step = Step::new("replace", ty, name, Some(old.id.clone()));
            step.changes = changes;
            let dbr = opts.delete_before_replace || diff.delete_before_replace;
            self.emit(Phase::Start, "replace", ty, name, None);
            return self.replace(step, old, news, deps, kept, opts, dbr).await;
        }
        let mut step = Step::new("update", ty, name, Some(old.id.clone()));
        step.changes = changes;
        let request = UpdateRequest {
            type_name: ty.into(),
            id: old.id.clone(),
            olds: old.outputs.clone(),
            news: news.clone(),
            preview: self.preview(),
            timeout_seconds: opts.custom_timeouts.update,
        };
        self.emit(Phase::Start, "update", ty, name, None);
        let outputs = match self.provider.update(request).await {
            Ok(r) => r.outputs,
            Err(ProviderError::Unsupported(_)) if self.preview() => {
                let mut merged = old.outputs.clone();
                merged.extend(news.clone());
                merged
            }
            Err(e) => return Err(EngineError::provider(name, &e)),
        };
        if !self.preview() {
            let resource = ResourceState {
                inputs: self.persistable(&old.type_name, &news),
                outputs: outputs.clone(),
                dependencies: deps,
                options: kept,
                partial: false,
                ..old.clone()
            };
            self.journal(vec![Record::Put { resource }]).await?;
        }
        Ok((step, old.id, outputs))
    }

    #[allow(clippy::too_many_arguments)]
    async fn replace(
        &self,
        mut step: Step,
        old: ResourceState,
        news: PropertyMap,
        deps: Vec<String>,
        kept: KeptOptions,
        opts: &Options,
        delete_first: bool,
    ) -> StepResult {
        let name = old.name.clone();
        if old.options.protect {
            return Err(EngineError::new(
                PROTECTED,
                format!(
                    "{name}: is protected; a change to it needs a replacement, which would delete it (unprotect it first)"
                ),
            ));
        }
        step.delete_before_replace = delete_first;
        let ty = step.type_name.clone();
        if delete_first && !self.preview() {
            self.delete_in_cloud(&old).await?;
            self.journal(vec![Record::Remove { name: name.clone() }]).await?;
        }
        let before = if delete_first {
            vec![]
        } else {
            vec![
                Record::Remove { name: name.clone() },
                Record::PendingDelete { resource: old },
            ]
        };
        let (id, outputs) = self.create(&name, &ty, news, deps, kept, opts, before).await?;
        if !self.preview() {
            step.id = Some(id.clone());
        }
        Ok((step, id, outputs))
    }

    /// Creates (or, in a preview, plans) a resource. `before` is journaled together with its
    /// record, so a replaced resource moves to the pending deletes exactly when its successor exists.
    #[allow(clippy::too_many_arguments)]
    async fn create(
        &self,
        name: &str,
        ty: &str,
        inputs: PropertyMap,
        deps: Vec<String>,
        kept: KeptOptions,
        opts: &Options,
        before: Vec<Record>,
    ) -> Result<(String, Map<String, Value>), EngineError> {
        let request = CreateRequest {
            type_name: ty.into(),
            inputs: inputs.clone(),
            preview: self.preview(),
            timeout_seconds: opts.custom_timeouts.create,
        };
        if self.preview() {
            let r = self
                .provider
                .create(request)
                .await
                .map_err(|e| EngineError::provider(name, &e))?;
            return Ok((r.id, r.outputs));
        }
        let pending = Pending {
            op: "create".into(),
            type_name: ty.into(),
            name: name.into(),
            inputs: self.persistable(ty, &inputs),
            dependencies: deps.clone(),
        };
        self.journal(vec![Record::Begin(pending)]).await?;
        let kept_inputs = self.persistable(ty, &inputs);
        let state = |id: String, outputs: Map<String, Value>, partial: bool| ResourceState {
            type_name: ty.into(),
            name: name.into(),
            id,
            inputs: kept_inputs.clone(),
            outputs,
            dependencies: deps.clone(),
            partial,
            options: kept.clone(),
        };
        match self.provider.create(request).await {
            Ok(r) => {
                let mut records = before;
                records.push(Record::Put {
                    resource: state(r.id.clone(), r.outputs.clone(), false),
                });
                records.push(Record::End { name: name.into() });
                self.journal(records).await?;
                Ok((r.id, r.outputs))
            }
            Err(e) => {
                let err = EngineError::provider(name, &e);
                match &e {
                    ProviderError::PartiallyCreated { id, outputs, .. } => {
                        let mut records = before;
                        records.push(Record::Put {
                            resource: state(id.clone(), (**outputs).clone(), true),
                        });
                        records.push(Record::End { name: name.into() });
                        self.journal(records).await?;
                    }
                    // The outcome is unknown: the begin record stays for the next run to reconcile.
                    _ if outcome_unknown(&e) => {}
                    _ => self.journal(vec![Record::End { name: name.into() }]).await?,
                }
                Err(err)
            }
        }
    }

    async fn import(
        &self,
        req: &RegisterRequest,
        id: &str,
        news: PropertyMap,
        deps: Vec<String>,
        kept: KeptOptions,
    ) -> StepResult {
        let (name, ty) = (req.name.as_str(), req.type_name.as_str());
        let found = self
            .provider
            .read(ReadRequest {
                type_name: ty.into(),
                id: id.into(),
                inputs: None,
                outputs: None,
                timeout_seconds: None,
            })
            .await
            .map_err(|e| EngineError::provider(name, &e))?
            .ok_or_else(|| EngineError::invalid(name, "options.import", format!("no {ty} with id {id:?} exists")))?;
        let news = self.check(name, ty, Some(found.inputs.clone()), news)?;
        let diff = self
            .provider
            .diff(DiffRequest {
                type_name: ty.into(),
                id: found.id.clone(),
                olds: found.outputs.clone(),
                news: news.clone(),
                ignore_changes: req.options.ignore_changes.clone(),
            })
            .await
            .map_err(|e| EngineError::provider(name, &e))?;
        // Only what the program sets counts: properties it leaves out keep the cloud's values.
        let differing: Vec<&String> = diff
            .detailed_diff
            .keys()
            .filter(|p| req.inputs.contains_key(*p))
            .collect();
        if !differing.is_empty() {
            let shown: Vec<String> = differing
                .into_iter()
                .map(|p| {
                    let was = mask(found.outputs.get(p).unwrap_or(&Value::Null));
                    let now = mask(news.get(p).unwrap_or(&Value::Null));
                    format!("{p}: {was} => {now}")
                })
                .collect();
            return Err(EngineError::invalid(
                name,
                "options.import",
                format!(
                    "the program's inputs differ from the imported resource: {}",
                    shown.join("; ")
                ),
            ));
        }
        // What the program sets and the import could not read (no diff: see the provider's
        // unknown inputs, such as a recovery window) is recorded from the program.
        let inputs = self.persistable(ty, &news);
        let mut outputs = found.outputs.clone();
        for (property, value) in &inputs {
            let ignored = req.options.ignore_changes.contains(property);
            if req.inputs.contains_key(property) && !ignored && outputs.get(property).is_none_or(Value::is_null) {
                outputs.insert(property.clone(), value.clone());
            }
        }
        if !self.preview() {
            let resource = ResourceState {
                type_name: ty.into(),
                name: name.into(),
                id: found.id.clone(),
                inputs,
                outputs: outputs.clone(),
                dependencies: deps,
                partial: false,
                options: kept,
            };
            self.journal(vec![Record::Put { resource }]).await?;
        }
        Ok((Step::new("import", ty, name, Some(found.id.clone())), found.id, outputs))
    }

    async fn delete_in_cloud(&self, r: &ResourceState) -> Result<(), EngineError> {
        if r.options.protect {
            return Err(EngineError::new(
                PROTECTED,
                format!(
                    "{}: is protected and cannot be deleted (set protect to false and run up first)",
                    r.name
                ),
            ));
        }
        if r.options.retain_on_delete {
            return Ok(());
        }
        self.provider
            .delete(DeleteRequest {
                type_name: r.type_name.clone(),
                id: r.id.clone(),
                outputs: r.outputs.clone(),
                timeout_seconds: r.options.delete_timeout,
            })
            .await
            .map(|_| ())
            .map_err(|e| EngineError::provider(&r.name, &e))
    }

    /// Deletes `victims` in reverse dependency order, in parallel, and journals each deletion.
    async fn delete_all(self: &Arc<Self>, victims: Vec<ResourceState>, note: &str, replaced: bool) {
        let names: HashSet<String> = victims.iter().map(|r| r.name.clone()).collect();
        let nodes: Vec<(ResourceState, Vec<String>)> = victims
            .iter()
            .map(|r| {
                let dependents = victims
                    .iter()
                    .filter(|o| o.dependencies.contains(&r.name) && names.contains(&o.name) && o.name != r.name)
                    .map(|o| o.name.clone())
                    .collect();
                (r.clone(), dependents)
            })
            .collect();
        let note = note.to_string();
        let this = self.clone();
        run_graph(nodes, move |r: ResourceState, ok: bool| {
            let (this, note) = (this.clone(), note.clone());
            async move {
                if !ok {
                    this.fail(EngineError::new(
                        DEPENDENCY_FAILED,
                        format!(
                            "{}: not deleted, because a resource that depends on it was not deleted",
                            r.name
                        ),
                    ));
                    return false;
                }
                let mut step = Step::new("delete", &r.type_name, &r.name, Some(r.id.clone()));
                step.note = note;
                if this.preview() {
                    this.push_step(step);
                    return true;
                }
                let Ok(_permit) = this.sem.acquire().await else {
                    this.fail(cancelled(&r.name));
                    return false;
                };
                this.emit(Phase::Start, "delete", &r.type_name, &r.name, None);
                if let Err(e) = this.delete_in_cloud(&r).await {
                    this.emit(Phase::Failed, "delete", &r.type_name, &r.name, Some(&e));
                    this.fail(e);
                    return false;
                }
                let record = if replaced {
                    Record::DeletedPending {
                        name: r.name.clone(),
                        id: r.id.clone(),
                    }
                } else {
                    Record::Remove { name: r.name.clone() }
                };
                if let Err(e) = this.journal(vec![record]).await {
                    this.emit(Phase::Failed, "delete", &r.type_name, &r.name, Some(&e));
                    this.fail(e);
                    return false;
                }
                this.emit(Phase::Done, "delete", &r.type_name, &r.name, None);
                this.push_step(step);
                true
            }
        })
        .await;
    }

    fn fail(&self, e: EngineError) {
        self.inner.lock().expect("inner lock").errors.push(e);
    }

    fn push_step(&self, step: Step) {
        self.inner.lock().expect("inner lock").steps.push((usize::MAX, step));
    }

    /// Reads every resource; drift is an `update` step, a vanished resource a `delete`.
    async fn refresh_all(self: &Arc<Self>) {
        let resources: Vec<ResourceState> = self
            .state
            .lock()
            .expect("state lock")
            .resources
            .values()
            .cloned()
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, s) in resources.into_iter().enumerate() {
            let this = self.clone();
            tasks.spawn(async move {
                let Ok(_permit) = this.sem.acquire().await else {
                    return this.fail(cancelled(&s.name));
                };
                let (ty, name) = (s.type_name.clone(), s.name.clone());
                this.emit(Phase::Start, "read", &ty, &name, None);
                let result: Result<String, EngineError> = async {
                    let read = this
                        .provider
                        .read(ReadRequest {
                            type_name: s.type_name.clone(),
                            id: s.id.clone(),
                            inputs: Some(s.inputs.clone()),
                            outputs: Some(s.outputs.clone()),
                            timeout_seconds: None,
                        })
                        .await;
                    let found = match read {
                        Ok(found) => found,
                        Err(e) => return Err(EngineError::provider(&s.name, &e)),
                    };
                    let Some(found) = found else {
                        let mut step = Step::new("delete", &s.type_name, &s.name, Some(s.id.clone()));
                        step.note = "gone".into();
                        this.journal(vec![Record::Remove { name: s.name.clone() }]).await?;
                        this.inner.lock().expect("inner lock").steps.push((index, step));
                        return Ok("delete".to_string());
                    };
                    let mut outputs = found.outputs.clone();
                    for (k, v) in &s.outputs {
                        // Secrets the cloud returns only at creation are carried forward.
                        if outputs.get(k).is_none_or(Value::is_null) && crate::protocol::envelope::is_secret(v) {
                            outputs.insert(k.clone(), v.clone());
                        }
                    }
                    let mut inputs = s.inputs.clone();
                    inputs.extend(found.inputs.into_iter().filter(|(_, v)| !v.is_null()));
                    let mut keys: Vec<&String> = s.outputs.keys().chain(outputs.keys()).collect();
                    keys.sort();
                    keys.dedup();
                    let changes: Vec<Change> = keys
                        .into_iter()
                        .filter(|k| s.outputs.get(*k) != outputs.get(*k))
                        .map(|k| {
                            let (a, b) = (
                                s.outputs.get(k).unwrap_or(&Value::Null),
                                outputs.get(k).unwrap_or(&Value::Null),
                            );
                            let kind = if a.is_null() {
                                "add"
                            } else if b.is_null() {
                                "delete"
                            } else {
                                "update"
                            };
                            change(k, kind, a, b, false)
                        })
                        .collect();
                    let id = if found.id.is_empty() {
                        s.id.clone()
                    } else {
                        found.id.clone()
                    };
                    let mut step = Step::new(
                        if changes.is_empty() { "same" } else { "update" },
                        &s.type_name,
                        &s.name,
                        Some(id.clone()),
                    );
                    step.changes = changes;
                    let resource = ResourceState {
                        id,
                        inputs,
                        outputs,
                        ..s
                    };
                    this.journal(vec![Record::Put { resource }]).await?;
                    let op = step.op.clone();
                    this.inner.lock().expect("inner lock").steps.push((index, step));
                    Ok(op)
                }
                .await;
                match result {
                    Ok(op) => this.emit(Phase::Done, &op, &ty, &name, None),
                    Err(e) => {
                        this.emit(Phase::Failed, "read", &ty, &name, Some(&e));
                        this.fail(e);
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// `engine.outputs`.
    pub fn set_outputs(&self, outputs: Map<String, Value>) {
        self.inner.lock().expect("inner lock").outputs = Some(outputs);
    }

    /// `engine.cancel`: later registrations fail; the lock is released when the steps in flight end.
    pub fn cancel(&self) {
        let mut inner = self.inner.lock().expect("inner lock");
        inner.closed = true;
        for slot in inner.slots.values() {
            if slot.tx.borrow().outcome.is_none() && !slot.registered {
                slot.settle(Outcome::Missing);
            }
        }
        self.sem.close();
        self.provider.cancel();
    }

    /// `engine.close`.
    pub async fn close(self: &Arc<Self>, registrations: Option<usize>) -> Result<CloseResponse, EngineError> {
        if let Some(n) = registrations {
            loop {
                let woken = self.arrival.notified();
                if self.arrived.load(std::sync::atomic::Ordering::SeqCst) >= n {
                    break;
                }
                woken.await;
            }
        }
        let pending: Vec<watch::Receiver<Progress>> = {
            let mut inner = self.inner.lock().expect("inner lock");
            inner.closed = true;
            for slot in inner.slots.values() {
                if !slot.registered {
                    slot.settle(Outcome::Missing);
                }
            }
            inner.slots.values().map(|s| s.tx.subscribe()).collect()
        };
        for mut rx in pending {
            let _ = rx.wait_for(|p| p.outcome.is_some()).await;
        }
        let failed = !self.inner.lock().expect("inner lock").errors.is_empty();
        let registered: HashSet<String> = self.inner.lock().expect("inner lock").order.iter().cloned().collect();
        // What to delete: in up and preview, what the program no longer registers; in destroy, all.
        let deleting = match self.action {
            Action::Up | Action::Preview => !failed,
            Action::Destroy => true,
            Action::Refresh => false,
        };
        if deleting {
            let (victims, pending_deletes) = {
                let s = self.state.lock().expect("state lock");
                let victims: Vec<ResourceState> = s
                    .resources
                    .values()
                    .filter(|r| self.action == Action::Destroy || !registered.contains(&r.name))
                    .cloned()
                    .collect();
                (victims, s.pending_deletes.clone())
            };
            self.delete_all(victims, "", false).await;
            self.delete_all(pending_deletes, "replaced", true).await;
        } else if self.action == Action::Refresh {
            self.refresh_all().await;
        }
        let outputs = self.resolve_outputs();
        if self.action != Action::Preview
            && let Some(outputs) = &outputs
        {
            self.journal(vec![Record::Outputs {
                outputs: outputs.clone(),
            }])
            .await?;
        }
        // Every step is done: the slots (and the outputs they shared with the replies) go, and
        // the state is moved out, not copied: it is as large as the stack.
        drop(std::mem::take(&mut self.inner.lock().expect("inner lock").slots));
        let mut final_state = std::mem::take(&mut *self.state.lock().expect("state lock"));
        let store = self.store.lock().expect("store lock").take();
        if let Some(mut store) = store
            && self.action != Action::Preview
        {
            let compacted = tokio::task::spawn_blocking(move || {
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.compact(&final_state)));
                (final_state, done)
            })
            .await;
            let done = match compacted {
                Ok((state, done)) => {
                    final_state = state;
                    done.unwrap_or_else(|_| Err(StateError::Io("compacting the state panicked".into())))
                }
                // The runtime is shutting down (a panic is caught above): nothing to list.
                Err(e) => {
                    final_state = StackState::new(&self.stack);
                    Err(StateError::Io(e.to_string()))
                }
            };
            if let Err(e) = done {
                self.fail(e.into());
            }
        }
        let resources = listed(&final_state)?;
        drop(final_state);
        let mut inner = self.inner.lock().expect("inner lock");
        let steps = std::mem::take(&mut inner.steps);
        // Completion order: a dependent's step always completes after its dependencies' steps.
        // (Registration order is not the program's: requests are handled concurrently.)
        let steps: Vec<Step> = steps.into_iter().map(|(_, s)| s).collect();
        let mut warnings = inner.warnings.clone();
        if !inner.errors.is_empty() {
            warnings.push(format!(
                "{} step(s) failed; the steps listed were applied and recorded",
                inner.errors.len()
            ));
        }
        let text = plan::render(&self.stack, self.action.as_str(), &steps, &warnings);
        let response = CloseResponse {
            summary: plan::summary(&steps),
            steps,
            plan: text,
            outputs: outputs.unwrap_or_default(),
            warnings,
            may_exist: self.may_exist.clone(),
            resources,
        };
        if let Some(first) = inner.errors.first() {
            let messages: Vec<String> = inner.errors.iter().map(|e| e.message().to_string()).collect();
            return Err(first
                .clone()
                .with("errors", Value::from(messages))
                .with("plan", Value::String(response.plan.clone()))
                .with("steps", serde_json::to_value(&response.steps).unwrap_or_default()));
        }
        Ok(response)
    }

    fn resolve_outputs(&self) -> Option<Map<String, Value>> {
        let raw = self.inner.lock().expect("inner lock").outputs.clone()?;
        let state = self.state.lock().expect("state lock");
        let preview = self.preview();
        match refs::substitute(&Value::Object(raw), &|r: &Ref| match state.resources.get(&r.resource) {
            Some(s) => refs::output(&s.outputs, &s.id, &r.property, preview),
            None => crate::protocol::envelope::unknown(),
        }) {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// The state's resources as close lists them, name -> `{type, id, outputs}`, serialized from
/// the state without copying it.
fn listed(state: &StackState) -> Result<Box<serde_json::value::RawValue>, EngineError> {
    #[derive(serde::Serialize)]
    struct Listed<'a> {
        #[serde(rename = "type")]
        type_name: &'a str,
        id: &'a str,
        outputs: &'a Map<String, Value>,
    }
    struct All<'a>(&'a StackState);
    impl serde::Serialize for All<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.resources.values().map(|r| {
                let view = Listed {
                    type_name: &r.type_name,
                    id: &r.id,
                    outputs: &r.outputs,
                };
                (&r.name, view)
            }))
        }
    }
    serde_json::value::to_raw_value(&All(state))
        .map_err(|e| EngineError::new(ErrorCode::InternalError.code(), e.to_string()))
}

/// Counts a registration as arrived (recorded or refused) when dropped.
struct Arrival<'a>(&'a Deployment);

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.0.arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.arrival.notify_waiters();
    }
}

fn cancelled(name: &str) -> EngineError {
    EngineError::new(
        ErrorCode::Cancelled.code(),
        format!("{name}: not applied, the deployment was cancelled"),
    )
}

fn change(name: &str, kind: &str, old: &Value, new: &Value, replace: bool) -> Change {
    Change {
        name: name.into(),
        kind: kind.into(),
        replace,
        old: mask(old),
        new: mask(new),
        reason: None,
    }
}

/// A dependency path from `start` back to itself through registered slots, if any.
fn find_cycle(slots: &HashMap<String, Slot>, start: &str) -> Option<Vec<String>> {
    fn visit(
        slots: &HashMap<String, Slot>,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut HashSet<String>,
    ) -> bool {
        let Some(slot) = slots.get(node) else { return false };
        for d in &slot.deps {
            path.push(d.clone());
            if d == start || (seen.insert(d.clone()) && visit(slots, d, start, path, seen)) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_string()];
    visit(slots, start, start, &mut path, &mut HashSet::new()).then_some(path)
}

/// Runs `f` once per node after every node it waits on has finished; `f` learns whether they
/// all succeeded. Independent nodes run concurrently.
async fn run_graph<F, Fut>(nodes: Vec<(ResourceState, Vec<String>)>, f: F)
where
    F: Fn(ResourceState, bool) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for (r, _) in &nodes {
        let (tx, rx) = watch::channel(None::<bool>);
        senders.insert(r.name.clone(), tx);
        receivers.insert(r.name.clone(), rx);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (r, waits) in nodes {
        let Some(tx) = senders.remove(&r.name) else { continue };
        let waits: Vec<_> = waits.iter().filter_map(|w| receivers.get(w).cloned()).collect();
        let f = f.clone();
        tasks.spawn(async move {
            let mut ok = true;
            for mut rx in waits {
                ok &= rx
                    .wait_for(Option::is_some)
                    .await
                    .map(|v| v.unwrap_or(false))
                    .unwrap_or(false);
            }
            tx.send_replace(Some(f(r, ok).await));
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Whether a failed create may still have made something: a timeout, or any error the provider
/// flags `mayExist` (cancelled, reply lost or unreadable). Its pending record must then stay.
fn outcome_unknown(e: &ProviderError) -> bool {
    let (code, data) = e.to_wire();
    data.may_exist || code == ErrorCode::Timeout
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_may_exist_error_keeps_the_pending_create() {
        use crate::cloud::CloudError;
        let cancelled = ProviderError::from(CloudError::Cancelled).flag_may_exist();
        assert!(
            super::outcome_unknown(&cancelled),
            "a cancelled create may have made the key"
        );
        let refused = ProviderError::from(CloudError::Api {
            service: "IAM",
            code: "LimitExceeded".into(),
            message: "two keys".into(),
            request_id: None,
            status: 409,
            retryable: false,
            retry_after: None,
            not_found: false,
        })
        .flag_may_exist();
        assert!(!super::outcome_unknown(&refused), "a refused create made nothing");
    }

    use super::*;

    #[test]
    fn cycles_are_found_with_their_path() {
        let mut slots = HashMap::new();
        for (n, deps) in [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])] {
            let mut s = Slot::new();
            s.registered = true;
            s.deps = deps.into_iter().map(String::from).collect();
            slots.insert(n.to_string(), s);
        }
        assert_eq!(find_cycle(&slots, "c").unwrap(), vec!["c", "a", "b", "c"]);
        slots.get_mut("c").unwrap().deps.clear();
        assert!(find_cycle(&slots, "a").is_none());
    }
}
