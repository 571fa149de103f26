//! The params and results of the `engine.*` methods (see docs/engine.md).

use super::plan::Step;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a deployment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Make the cloud match the program.
    Up,
    /// Plan only.
    Preview,
    /// Read every resource, record drift.
    Refresh,
    /// Delete every resource.
    Destroy,
}

impl Action {
    /// The word used in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Preview => "preview",
            Action::Refresh => "refresh",
            Action::Destroy => "destroy",
        }
    }
}

/// `engine.open`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenRequest {
    /// The stack name.
    pub stack: String,
    /// What to do.
    pub action: Action,
    /// The state URL or path.
    #[serde(default)]
    pub backend: Option<String>,
    /// Provider calls at once (default 64).
    #[serde(default)]
    pub parallelism: Option<usize>,
    /// A secret envelope or string; default `CREDPLANE_PASSPHRASE` of the engine's environment.
    #[serde(default)]
    pub passphrase: Option<Value>,
}

/// The result of `engine.open`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OpenResponse {
    /// The deployment id for the other methods.
    pub deployment: String,
    /// Torn journal records dropped, interrupted creates adopted, upgrades.
    pub warnings: Vec<String>,
}

/// `customTimeouts`, in seconds.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Create.
    #[serde(default)]
    pub create: Option<f64>,
    /// Update.
    #[serde(default)]
    pub update: Option<f64>,
    /// Delete.
    #[serde(default)]
    pub delete: Option<f64>,
}

/// Pulumi's resource options.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    /// Explicit dependencies, by name.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Inputs whose changes are ignored.
    #[serde(default)]
    pub ignore_changes: Vec<String>,
    /// Delete the old resource before creating its replacement.
    #[serde(default)]
    pub delete_before_replace: bool,
    /// Properties whose change replaces the resource (`*` for any).
    #[serde(default)]
    pub replace_on_changes: Vec<String>,
    /// Refuse to delete it.
    #[serde(default)]
    pub protect: bool,
    /// Forget it instead of deleting it.
    #[serde(default)]
    pub retain_on_delete: bool,
    /// Timeouts per operation.
    #[serde(default)]
    pub custom_timeouts: Timeouts,
    /// Adopt this existing id.
    #[serde(default)]
    pub import: Option<String>,
}

/// `engine.register`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// From open.
    pub deployment: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Unique in the deployment.
    pub name: String,
    /// Inputs, references allowed.
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// Resource options.
    #[serde(default)]
    pub options: Options,
}

/// The result of `engine.register`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RegisterResponse {
    /// The resource name.
    pub name: String,
    /// Its id (empty in a preview of a create).
    pub id: String,
    /// The step's op.
    pub op: String,
    /// Its outputs, secrets wrapped, unknowns in a preview.
    #[serde(serialize_with = "shared")]
    #[schemars(with = "Map<String, Value>")]
    pub outputs: Arc<Map<String, Value>>,
}

fn shared<S: serde::Serializer>(outputs: &Arc<Map<String, Value>>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&**outputs, s)
}

/// `engine.outputs`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputsRequest {
    /// From open.
    pub deployment: String,
    /// Stack outputs, references allowed.
    pub outputs: Map<String, Value>,
}

/// `engine.close` and `engine.cancel`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentRequest {
    /// From open.
    pub deployment: String,
    /// `engine.close`: how many `engine.register` calls the SDK sent; close first waits until
    /// that many have arrived (requests are handled concurrently, so close may overtake some).
    #[serde(default)]
    pub registrations: Option<usize>,
}

/// An interrupted create whose outcome could not be proven.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MayExist {
    /// The resource name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Ids that may belong to it (empty when the cloud cannot be asked).
    pub ids: Vec<String>,
}

/// The result of `engine.close`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloseResponse {
    /// Counts by op.
    pub summary: BTreeMap<String, usize>,
    /// Every step.
    pub steps: Vec<Step>,
    /// The rendered plan.
    pub plan: String,
    /// The stack outputs.
    pub outputs: Map<String, Value>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Interrupted creates that may exist.
    pub may_exist: Vec<MayExist>,
    /// Every resource of the state after the deployment: name -> `{type, id, outputs}`.
    // Serialized from the state as it is: a copy would be as large as the stack.
    #[schemars(with = "Map<String, Value>")]
    pub resources: Box<RawValue>,
}

/// `engine.export`, `engine.unlock`, `engine.stacks`, `engine.remove`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackRequest {
    /// The stack name (ignored by `engine.stacks`).
    #[serde(default)]
    pub stack: String,
    /// The state URL or path.
    #[serde(default)]
    pub backend: Option<String>,
    /// `engine.import`: the document to store.
    #[serde(default)]
    pub document: Option<Value>,
}

/// `engine.resolve`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The stack name.
    pub stack: String,
    /// The state URL or path.
    #[serde(default)]
    pub backend: Option<String>,
    /// The resource whose create was interrupted.
    pub name: String,
    /// Its id, when the user found it; without, the pending entry is forgotten.
    #[serde(default)]
    pub id: Option<String>,
}

/// The result of `engine.stacks`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StacksResponse {
    /// The stacks with state in the backend.
    pub stacks: Vec<String>,
}
