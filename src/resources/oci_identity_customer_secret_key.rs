//! `oci_identity_customer_secret_key`: an OCI customer secret key, the credential of Object
//! Storage's Amazon S3 compatible API.

use super::oci_shared::{
    explain_create_error, is_gone, lifecycle, list_or_none, partial_outputs, read_target, wait_active, OciLifecycle, USER_ID_RULE,
};
use crate::cloud::oci::client::{CredentialKind, CustomerSecretKey};
use crate::cloud::retry::{with_retries, Idempotency};
use super::rules::Rule;
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::provider::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Creates a new secret key for the specified user. Secret keys are used for authentication with
/// the Object Storage Service's Amazon S3 compatible API. You must specify a display name for the
/// secret key (although it can be an empty string). It does not have to be unique, and you can
/// change it anytime with UpdateCustomerSecretKey. A user has at most 2 customer secret keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OciIdentityCustomerSecretKeyInputs {
    /// The name you assign to the secret key during creation. Does not have to be unique, and it's
    /// changeable.
    #[schemars(extend("x-updatable" = true), length(max = 255))]
    pub display_name: String,
    /// The OCID of the user.
    #[schemars(extend("x-forceNew" = true))]
    pub user_id: String,
}

/// The state of an `oci_identity_customer_secret_key`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OciIdentityCustomerSecretKeyOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: OciIdentityCustomerSecretKeyInputs,
    /// The OCID of the secret key. This is also the **access key id** of the S3-compatible key
    /// pair: use it as `aws_access_key_id`, with `key` as `aws_secret_access_key`.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// The lifecycle attributes.
    #[serde(flatten)]
    pub lifecycle: OciLifecycle,
    /// The secret key (the S3-compatible secret access key). The value is available only in the
    /// response for `CreateCustomerSecretKey`: credplane carries it forward in the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub key: Option<Secret<String>>,
}

/// The `oci_identity_customer_secret_key` resource.
pub struct OciIdentityCustomerSecretKey;

const RULES: &[Rule] = &[USER_ID_RULE];

#[async_trait]
impl Resource for OciIdentityCustomerSecretKey {
    const TYPE: &'static str = "oci_identity_customer_secret_key";
    type Inputs = OciIdentityCustomerSecretKeyInputs;
    type Outputs = OciIdentityCustomerSecretKeyOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "oci",
            import: "`users/{userId}/customerSecretKeys/{id}`. The key itself is not available for imported resources.",
            timeouts: Timeouts { create: 1200, update: 1200, delete: 1200 },
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> Result<(String, Self::Outputs), ProviderError> {
        let client = ctx.clouds.oci_identity()?;
        let user = inputs.user_id.clone();
        // One retry token per create: a retry after a lost answer gets the same token back.
        let retry_token = uuid::Uuid::new_v4().to_string();
        let created = match with_retries(ctx, Idempotency::Idempotent, || {
            client.create_customer_secret_key(&user, &inputs.display_name, &retry_token)
        })
        .await
        {
            Ok(created) => created,
            Err(err) => return Err(explain_create_error(ctx, &client, KIND, &user, err).await),
        };
        let id = created.id.clone();
        let mut outputs = outputs_of(inputs, &created, created.key.clone().map(Secret::new));
        let waited = wait_active(
            ctx,
            || async { Ok(client.list_customer_secret_keys(&user).await?.into_iter().find(|t| t.id == id)) },
            |t: &CustomerSecretKey| t.lifecycle_state.as_deref(),
        )
        .await;
        match waited {
            Ok(active) => {
                outputs.lifecycle = lifecycle_of(&active);
                Ok((id, outputs))
            }
            Err(err) => Err(ProviderError::PartiallyCreated {
                type_name: Self::TYPE,
                id,
                outputs: partial_outputs(&outputs, "key"),
                reason: format!("it did not become ACTIVE: {err}"),
            }),
        }
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError> {
        let known_user = outputs.as_ref().map(|o| o.inputs.user_id.clone()).or_else(|| inputs.as_ref().map(|i| i.user_id.clone()));
        let (user, key_id) = read_target(id, KIND, known_user.as_deref())?;
        let client = ctx.clouds.oci_identity()?;
        let Some(list) = list_or_none(ctx, || client.list_customer_secret_keys(&user)).await? else {
            return Ok(None);
        };
        let Some(found) = list.into_iter().find(|t| t.id == key_id) else { return Ok(None) };
        if is_gone(found.lifecycle_state.as_deref()) {
            return Ok(None);
        }
        let found_inputs = OciIdentityCustomerSecretKeyInputs {
            display_name: found.display_name.clone().unwrap_or_default(),
            user_id: found.user_id.clone(),
        };
        // The cloud never shows the key again: keep the one from the state.
        let key = outputs.and_then(|o| o.key);
        let found_outputs = outputs_of(found_inputs.clone(), &found, key);
        Ok(Some(Found { id: key_id, inputs: found_inputs, outputs: found_outputs }))
    }

    async fn update(&self, ctx: &Context, id: &str, olds: Self::Outputs, news: Self::Inputs) -> Result<Self::Outputs, ProviderError> {
        let client = ctx.clouds.oci_identity()?;
        let user = olds.inputs.user_id.clone();
        let updated = with_retries(ctx, Idempotency::Idempotent, || client.update_customer_secret_key(&user, id, &news.display_name)).await?;
        Ok(outputs_of(news, &updated, olds.key))
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let client = ctx.clouds.oci_identity()?;
        let user = outputs.inputs.user_id;
        with_retries(ctx, Idempotency::Idempotent, || client.delete_credential(KIND, &user, id)).await?;
        Ok(())
    }
}

const KIND: CredentialKind = CredentialKind::CustomerSecretKey;

fn lifecycle_of(t: &CustomerSecretKey) -> OciLifecycle {
    lifecycle(t.lifecycle_state.as_deref(), t.inactive_status, t.time_created.as_deref(), t.time_expires.as_deref())
}

fn outputs_of(inputs: OciIdentityCustomerSecretKeyInputs, t: &CustomerSecretKey, key: Option<Secret<String>>) -> OciIdentityCustomerSecretKeyOutputs {
    OciIdentityCustomerSecretKeyOutputs { inputs, id: t.id.clone(), lifecycle: lifecycle_of(t), key }
}
