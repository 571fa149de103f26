//! Resource types. A resource is one file holding its `Inputs`, its `Outputs`, its validation rule
//! table and its CRUD (the `infer` model of pulumi-go-provider); everything generic (check, diff,
//! secrets, preview) is derived here from the JSON Schema of those types.
//!
//! Adding a type: write `src/resources/<type>.rs` implementing [`Resource`], add one line to
//! [`registry::all`].

pub mod access_key;
pub mod alicloud_kms_secret;
pub mod alicloud_ram_access_key;
pub mod aws_iam_access_key;
mod check;
mod committed;
pub mod context;
mod diff;
pub mod error;
pub mod key_ledger;
pub mod oci_credential;
pub mod oci_identity_auth_token;
pub mod oci_identity_customer_secret_key;
pub mod registry;
pub mod rotation;
pub mod rules;
pub mod schema_doc;
pub mod sinks;
mod typed;
pub mod window;

pub use context::{Context, ContextGuard, LazyContext};
pub use registry::Registry;
pub use rules::Rule;
pub use typed::DynResource;

use crate::protocol::PropertyMap;
use crate::resources::error::ProviderError;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Serialize, de::DeserializeOwned};

/// Static facts about a resource type that its Rust types cannot say.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// The cloud: `aws`, `oci` or `alicloud`.
    pub cloud: &'static str,
    /// How to import: the id form `read` accepts with no prior state.
    pub import: &'static str,
    /// Default timeouts in seconds for create, read, update and delete.
    pub timeouts: Timeouts,
}

/// Default operation timeouts, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For `create`.
    pub create: u64,
    /// For `read`: a lookup, so it need not wait as long as a create.
    pub read: u64,
    /// For `update`.
    pub update: u64,
    /// For `delete`.
    pub delete: u64,
}

impl Timeouts {
    /// Five minutes to change something (the Terraform providers' usual default), two to read.
    pub const FIVE_MINUTES: Timeouts = Timeouts {
        create: 300,
        read: 120,
        update: 300,
        delete: 300,
    };
}

/// What `read` finds.
#[derive(Debug)]
pub struct Found<I, O> {
    /// The canonical id.
    pub id: String,
    /// Inputs that would produce the resource.
    pub inputs: I,
    /// Its outputs.
    pub outputs: O,
}

/// A resource that exists although a later step of its create or update failed (pulumi-go-provider
/// `infer`'s `ResourceInitFailedError`): its own typed outputs, which the typed layer wraps for the
/// wire from the schema, exactly as on success (error -32004 with `data.id` and `data.outputs`).
#[derive(Debug)]
pub struct Partial<O> {
    /// The id of the resource that exists.
    pub id: String,
    /// Its outputs as they are now.
    pub outputs: O,
    /// What failed after the create or change.
    pub reason: String,
}

/// How `create` and `update` fail: with an error, or with a resource that exists in part.
#[derive(Debug)]
pub enum ResourceError<O> {
    /// Failed; nothing was made that the provider knows of.
    Failed(ProviderError),
    /// Made (or changed), then a later step failed.
    Partial(Partial<O>),
}

impl<O> ResourceError<O> {
    /// A resource `id` with `outputs` exists, but `reason` failed.
    pub fn partial(id: impl Into<String>, outputs: O, reason: impl Into<String>) -> Self {
        ResourceError::Partial(Partial {
            id: id.into(),
            outputs,
            reason: reason.into(),
        })
    }
}

impl<O> From<ProviderError> for ResourceError<O> {
    fn from(err: ProviderError) -> Self {
        ResourceError::Failed(err)
    }
}

impl<O> From<crate::cloud::error::CloudError> for ResourceError<O> {
    fn from(err: crate::cloud::error::CloudError) -> Self {
        ResourceError::Failed(err.into())
    }
}

/// The result of `create`: the id and outputs of the new resource.
pub type CreateResult<O> = Result<(String, O), ResourceError<O>>;

/// One resource type: its types and its lifecycle against the cloud.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// The Terraform type name.
    const TYPE: &'static str;
    /// The arguments. Its doc comment is the resource's description; field doc comments and
    /// `x-*` schema keywords describe each argument.
    type Inputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The state: every input plus the computed attributes.
    type Outputs: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static;

    /// Static facts.
    fn info() -> ResourceInfo;

    /// Cross-field and format rules that JSON Schema cannot state, one row each.
    fn rules() -> &'static [Rule] {
        &[]
    }

    /// Failures of a change from the previous inputs `olds` to `news` that the cloud cannot make
    /// (`check` with `olds`). Both maps are plain: envelopes removed.
    fn check_change(_olds: &PropertyMap, _news: &PropertyMap) -> Vec<crate::protocol::Failure> {
        vec![]
    }

    /// Whether the state `olds`, which lacks `property`, already agrees with the program's
    /// `value`: a setting no cloud call reports back (it acts at create or delete, so a state
    /// that an import wrote lacks it), or a value that means what unset means (a documented
    /// default). `diff` then shows no change, so an import diffs clean.
    fn absent_agrees(_olds: &PropertyMap, _property: &str, _value: &serde_json::Value) -> bool {
        false
    }

    /// Whether a replacement must delete the old resource first (a unique name would collide).
    fn delete_before_replace(_olds: &PropertyMap, _news: &PropertyMap) -> bool {
        false
    }

    /// What only the cloud can add to the `diff` from `olds` (outputs) to `news` (checked inputs):
    /// a key due for rotation, a key limit a replacement would hit ([`rotation::plan`]). Both maps
    /// may hold envelopes and unknowns.
    async fn diff_in_cloud(
        &self,
        _ctx: &LazyContext<'_>,
        _id: &str,
        _olds: &PropertyMap,
        _news: &PropertyMap,
        _diff: &mut crate::protocol::DiffResponse,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Creates the resource and returns its id and outputs.
    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> CreateResult<Self::Outputs>;

    /// Reads the resource; `None` when it is gone. With no prior state this is an import.
    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError>;

    /// Applies changed updatable inputs in place.
    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError<Self::Outputs>>;

    /// Deletes the resource; one already gone counts as deleted.
    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError>;
}
