//! Request and response types of every method. Params are by name; `type` is the Terraform type
//! name of a resource, such as `aws_iam_access_key`. Property maps use the schema's snake_case
//! names; secret values travel in the envelope of [`super::envelope`].

use super::errors::Failure;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A map of property name to value, as sent on the wire.
pub type PropertyMap = Map<String, Value>;

/// `getSchema {}` → [`SchemaResponse`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSchemaRequest {}

/// The JSON Schema of every resource type.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SchemaResponse {
    /// The provider version that produced the schema.
    pub version: String,
    /// One JSON Schema (draft 2020-12) document per resource type, keyed by type name. Each has
    /// `$defs.inputs` and `$defs.outputs`.
    pub resources: BTreeMap<String, Value>,
}

/// `check`: validate and normalize inputs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The previous inputs, when the resource exists already.
    #[serde(default)]
    pub olds: Option<PropertyMap>,
    /// The inputs the program declares now.
    pub news: PropertyMap,
}

/// The result of `check`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckResponse {
    /// The normalized inputs: defaults applied, secret values wrapped.
    pub inputs: PropertyMap,
    /// Every failed rule; empty when the inputs are valid.
    pub failures: Vec<Failure>,
}

/// `diff`: what an update from `olds` to `news` would do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiffRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource id.
    pub id: String,
    /// The resource's current outputs (its state), which include its inputs.
    pub olds: PropertyMap,
    /// The new, checked inputs.
    pub news: PropertyMap,
    /// Top-level properties whose changes are ignored.
    #[serde(default)]
    pub ignore_changes: Vec<String>,
}

/// The kind of change to one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DiffKind {
    /// The property is set now and was not before.
    Add,
    /// As `add`, and it forces a replacement.
    AddReplace,
    /// The value changes.
    Update,
    /// As `update`, and it forces a replacement.
    UpdateReplace,
    /// The property was set and is not any more.
    Delete,
    /// As `delete`, and it forces a replacement.
    DeleteReplace,
}

/// The change to one property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PropertyDiff {
    /// What happens to it.
    pub kind: DiffKind,
    /// Why, when the change is not the caller's own (a key due for rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The result of `diff`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffResponse {
    /// Whether anything changes.
    pub changes: bool,
    /// Properties whose change forces a replacement.
    pub replaces: Vec<String>,
    /// Output properties that will keep their value.
    pub stables: Vec<std::borrow::Cow<'static, str>>,
    /// Whether the old resource must be deleted before its replacement is created.
    pub delete_before_replace: bool,
    /// Every changed property and how.
    pub detailed_diff: BTreeMap<String, PropertyDiff>,
}

/// `create`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The checked inputs.
    pub inputs: PropertyMap,
    /// Plan only: nothing is created, and computed outputs come back as the unknown sentinel.
    #[serde(default)]
    pub preview: bool,
    /// How long the operation may take, retries included; the resource's default when absent.
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// The result of `create`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CreateResponse {
    /// The new resource's id (empty in a preview).
    pub id: String,
    /// Its outputs, secrets wrapped.
    pub outputs: PropertyMap,
}

/// `read`: refresh a resource, or import it when only `id` is given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource id (for an import, the id form the resource's docs give).
    pub id: String,
    /// The inputs last applied, if known.
    #[serde(default)]
    pub inputs: Option<PropertyMap>,
    /// The outputs last recorded, if known: values the cloud returns only on create are carried
    /// forward from here.
    #[serde(default)]
    pub outputs: Option<PropertyMap>,
    /// How long the operation may take.
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// The result of `read` (the method returns `null` when the resource is gone).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReadResponse {
    /// The resource id (canonical form).
    pub id: String,
    /// The inputs that would produce this resource.
    pub inputs: PropertyMap,
    /// Its current outputs, secrets wrapped.
    pub outputs: PropertyMap,
}

/// `update`: apply `news` in place.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource id.
    pub id: String,
    /// The current outputs.
    pub olds: PropertyMap,
    /// The new, checked inputs.
    pub news: PropertyMap,
    /// Plan only: nothing changes, computed outputs that would change come back unknown.
    #[serde(default)]
    pub preview: bool,
    /// How long the operation may take.
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// The result of `update`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UpdateResponse {
    /// The new outputs, secrets wrapped.
    pub outputs: PropertyMap,
}

/// `delete`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteRequest {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The resource id.
    pub id: String,
    /// The current outputs.
    pub outputs: PropertyMap,
    /// How long the operation may take.
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// An empty result object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// `cancel {}`: cancels every operation in flight. Returns how many were running.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {}

/// The result of `cancel`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct CancelResponse {
    /// How many operations were in flight and were told to stop.
    pub cancelled: usize,
}

/// `configure`: credentials, regions and endpoints per cloud. A cloud left out keeps reading its
/// standard environment variables and config files. Secret values may be sent in the envelope.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureRequest {
    /// AWS settings.
    #[serde(default)]
    pub aws: Option<crate::protocol::settings::aws::AwsSettings>,
    /// OCI settings.
    #[serde(default)]
    pub oci: Option<crate::protocol::settings::oci::OciSettings>,
    /// Alibaba Cloud settings.
    #[serde(default)]
    pub alicloud: Option<crate::protocol::settings::alicloud::AlicloudSettings>,
    /// Settings shared by every cloud.
    #[serde(default)]
    pub common: Option<CommonSettings>,
}

/// Settings shared by every cloud.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct CommonSettings {
    /// Base URL of the Keybase API used for `pgp_key = "keybase:<user>"` (default `https://keybase.io`).
    #[serde(default)]
    pub keybase_base_url: Option<String>,
    /// Maximum attempts per cloud call, first try included (default 8).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Allow `pgp_key = "external:<name>|http://..."` (default false: https only, since a key
    /// fetched over plain http can be swapped on the way).
    #[serde(default)]
    pub allow_http_pgp_key_urls: Option<bool>,
}
