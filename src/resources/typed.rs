//! `DynResource`: the JSON face of a typed [`Resource`], the only place that converts between
//! wire property maps and Rust types.

use super::check::check;
use super::diff::diff;
use super::schema_doc::{self, SchemaDoc};
use super::{Context, Resource, ResourceError};
use crate::protocol::envelope::{unknown, unwrap_all, wrap_secret};
use crate::protocol::{CheckResponse, CreateResponse, DiffResponse, PropertyMap, ReadResponse};
use crate::resources::error::ProviderError;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A resource type behind JSON: what the provider dispatches to.
#[async_trait]
pub trait DynResource: Send + Sync {
    /// The Terraform type name.
    fn type_name(&self) -> &'static str;
    /// The schema document and the flags read from it.
    fn schema(&self) -> &SchemaDoc;
    /// The schema document derived from the Rust types now, for writing and checking the
    /// committed copy that [`DynResource::schema`] serves.
    fn derived_document(&self) -> Value;
    /// Default timeouts.
    fn info(&self) -> super::ResourceInfo;
    /// Validates and normalizes inputs.
    fn check(&self, olds: Option<PropertyMap>, news: PropertyMap) -> CheckResponse;
    /// What an update from `olds` (outputs) to `news` (inputs) does; the cloud is asked only
    /// what the state cannot tell (a key's age, the keys its owner holds).
    async fn diff(
        &self,
        ctx: &super::LazyContext<'_>,
        id: &str,
        olds: PropertyMap,
        news: PropertyMap,
        ignore_changes: &[String],
    ) -> Result<DiffResponse, ProviderError>;
    /// Creates, or previews a create.
    async fn create(&self, ctx: &Context, inputs: PropertyMap, preview: bool) -> Result<CreateResponse, ProviderError>;
    /// Reads or imports.
    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<PropertyMap>,
        outputs: Option<PropertyMap>,
    ) -> Result<Option<ReadResponse>, ProviderError>;
    /// Updates, or previews an update.
    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: PropertyMap,
        news: PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, ProviderError>;
    /// Deletes.
    async fn delete(&self, ctx: &Context, id: &str, outputs: PropertyMap) -> Result<(), ProviderError>;
}

/// A [`Resource`] with its schema built and its validator compiled once each, on first use.
pub struct Typed<R: Resource> {
    resource: R,
    /// Built on first use, like the validator: a `serve` process pays only for the types it
    /// is asked about (cold start).
    doc: std::sync::OnceLock<SchemaDoc>,
    /// Compiled lazily: compiling every type's validator at start-up would cost each
    /// `credplane serve` process milliseconds for types it may never check (cold start).
    validator: std::sync::OnceLock<jsonschema::Validator>,
}

impl<R: Resource> Typed<R> {
    /// Wraps `R`; its schema is built on first use.
    pub fn new(resource: R) -> Self {
        Typed {
            resource,
            doc: std::sync::OnceLock::new(),
            validator: std::sync::OnceLock::new(),
        }
    }

    /// The schema document, loaded on first use.
    fn doc(&self) -> &SchemaDoc {
        self.doc.get_or_init(schema_doc::load::<R>)
    }

    /// The inputs validator, compiled on first use.
    fn validator(&self) -> &jsonschema::Validator {
        self.validator.get_or_init(|| {
            schema_doc::inputs_validator(&self.doc().document)
                .unwrap_or_else(|e| panic!("the generated schema of {} is invalid: {e}", R::TYPE))
        })
    }

    /// Checks the inputs again (never trust the caller to have): the normalized wire inputs.
    fn checked(&self, inputs: PropertyMap) -> Result<PropertyMap, ProviderError> {
        let checked = check(self.doc(), self.validator(), R::rules(), inputs);
        if !checked.failures.is_empty() {
            return Err(ProviderError::InvalidParams(checked.failures));
        }
        Ok(checked.inputs)
    }

    /// Checked inputs as `R::Inputs`, and the properties the caller sent wrapped.
    fn typed_inputs(&self, inputs: PropertyMap) -> Result<(R::Inputs, Vec<String>), ProviderError> {
        let wrapped = unwrap_all(inputs.clone()).1;
        Ok((from_map(self.checked(inputs)?, "inputs")?, wrapped))
    }

    /// Outputs to the wire: secret properties wrapped, plus any the caller sent wrapped.
    fn wire_outputs(&self, outputs: &R::Outputs, also_secret: &[String]) -> Result<PropertyMap, ProviderError> {
        to_wire(outputs, &self.doc().outputs, also_secret)
    }

    /// A resource's own failure as a provider error: a partial result wrapped like a success.
    fn failure(&self, err: ResourceError<R::Outputs>, done: &'static str, wrapped: &[String]) -> ProviderError {
        match err {
            ResourceError::Failed(err) => err,
            ResourceError::Partial(partial) => match self.wire_outputs(&partial.outputs, wrapped) {
                Ok(outputs) => ProviderError::PartiallyCreated {
                    type_name: R::TYPE,
                    done,
                    id: partial.id,
                    outputs: Box::new(outputs),
                    reason: partial.reason,
                },
                Err(err) => err,
            },
        }
    }

    /// Inputs to the wire: secret properties wrapped.
    fn wire_inputs(&self, inputs: &R::Inputs) -> Result<PropertyMap, ProviderError> {
        to_wire(inputs, &self.doc().inputs, &[])
    }
}

/// A typed value as a wire map: nulls left out, properties flagged secret (in `metas` or
/// `also_secret`) wrapped in the envelope.
fn to_wire(
    value: &impl serde::Serialize,
    metas: &std::collections::BTreeMap<String, super::schema_doc::PropertyMeta>,
    also_secret: &[String],
) -> Result<PropertyMap, ProviderError> {
    let Value::Object(map) = serde_json::to_value(value).map_err(internal)? else {
        return Err(ProviderError::Internal(
            "a resource type's state is not an object".into(),
        ));
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, value)| {
            let secret = also_secret.contains(&name) || metas.get(&name).is_some_and(|m| m.secret);
            (name, if secret { wrap_secret(value) } else { value })
        })
        .collect())
}

fn internal(err: serde_json::Error) -> ProviderError {
    ProviderError::Internal(err.to_string())
}

/// Converts a wire map (envelopes allowed) into a typed value; failures name the field, not the value.
fn from_map<T: DeserializeOwned>(map: PropertyMap, what: &str) -> Result<T, ProviderError> {
    let (plain, _) = unwrap_all(map);
    serde_path_to_error::deserialize(Value::Object(plain))
        .map_err(|err| ProviderError::from_serde(err, &format!("{what}: ")))
}

#[async_trait]
impl<R: Resource> DynResource for Typed<R> {
    fn type_name(&self) -> &'static str {
        R::TYPE
    }

    fn schema(&self) -> &SchemaDoc {
        self.doc()
    }

    fn derived_document(&self) -> Value {
        schema_doc::build::<R>().document
    }

    fn info(&self) -> super::ResourceInfo {
        R::info()
    }

    fn check(&self, olds: Option<PropertyMap>, news: PropertyMap) -> CheckResponse {
        let mut response = check(self.doc(), self.validator(), R::rules(), news);
        if let Some(olds) = olds {
            // Normalized like the news, so that a default is not mistaken for a change.
            let (olds, _) = unwrap_all(check(self.doc(), self.validator(), &[], olds).inputs);
            let (news, _) = unwrap_all(response.inputs.clone());
            response.failures.extend(R::check_change(&olds, &news));
        }
        response
    }

    async fn diff(
        &self,
        ctx: &super::LazyContext<'_>,
        id: &str,
        olds: PropertyMap,
        news: PropertyMap,
        ignore_changes: &[String],
    ) -> Result<DiffResponse, ProviderError> {
        let mut response = diff(
            self.doc(),
            &olds,
            &news,
            ignore_changes,
            R::absent_agrees,
            R::delete_before_replace,
        );
        self.resource
            .diff_in_cloud(ctx, id, &olds, &news, &mut response)
            .await?;
        Ok(response)
    }

    async fn create(&self, ctx: &Context, inputs: PropertyMap, preview: bool) -> Result<CreateResponse, ProviderError> {
        if preview {
            let mut outputs = self.checked(inputs)?;
            for name in self.doc().outputs.keys() {
                outputs.entry(name.clone()).or_insert_with(unknown);
            }
            return Ok(CreateResponse {
                id: String::new(),
                outputs,
            });
        }
        let (typed, wrapped) = self.typed_inputs(inputs)?;
        let (id, outputs) = self
            .resource
            .create(ctx, typed)
            .await
            .map_err(|err| self.failure(err, "created", &wrapped).flag_may_exist())?;
        Ok(CreateResponse {
            id,
            outputs: self.wire_outputs(&outputs, &wrapped)?,
        })
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<PropertyMap>,
        outputs: Option<PropertyMap>,
    ) -> Result<Option<ReadResponse>, ProviderError> {
        let wrapped = outputs.clone().map(|o| unwrap_all(o).1).unwrap_or_default();
        let inputs = inputs.map(|m| from_map::<R::Inputs>(m, "inputs")).transpose()?;
        let outputs = outputs.map(|m| from_map::<R::Outputs>(m, "outputs")).transpose()?;
        let Some(found) = self.resource.read(ctx, id, inputs, outputs).await? else {
            return Ok(None);
        };
        Ok(Some(ReadResponse {
            id: found.id,
            inputs: self.wire_inputs(&found.inputs)?,
            outputs: self.wire_outputs(&found.outputs, &wrapped)?,
        }))
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: PropertyMap,
        news: PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, ProviderError> {
        if preview {
            let mut outputs = olds;
            outputs.extend(self.checked(news)?);
            return Ok(outputs);
        }
        let wrapped_olds = unwrap_all(olds.clone()).1;
        let (typed_news, mut wrapped) = self.typed_inputs(news)?;
        wrapped.extend(wrapped_olds);
        let typed_olds = from_map::<R::Outputs>(olds, "olds")?;
        let outputs = self
            .resource
            .update(ctx, id, typed_olds, typed_news)
            .await
            .map_err(|err| self.failure(err, "updated", &wrapped))?;
        self.wire_outputs(&outputs, &wrapped)
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: PropertyMap) -> Result<(), ProviderError> {
        let typed = from_map::<R::Outputs>(outputs, "outputs")?;
        self.resource.delete(ctx, id, typed).await
    }
}
