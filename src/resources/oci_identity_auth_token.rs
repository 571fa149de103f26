//! `oci_identity_auth_token`: an auth token of an OCI user (for Swift, Docker registry and the like).

use super::oci_shared::{
    explain_create_error, is_gone, lifecycle, list_or_none, partial_outputs, read_target, wait_active, OciLifecycle, USER_ID_RULE,
};
use crate::cloud::oci::client::{AuthToken, CredentialKind};
use crate::cloud::retry::{with_retries, Idempotency};
use super::rules::Rule;
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::provider::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Creates a new auth token for the specified user. You must specify a description for the auth
/// token (although it can be an empty string). It does not have to be unique, and you can change
/// it anytime with UpdateAuthToken. Every user has permission to create an auth token for their own
/// user ID. A user has at most 2 auth tokens.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OciIdentityAuthTokenInputs {
    /// The description you assign to the auth token during creation. Does not have to be unique,
    /// and it's changeable.
    #[schemars(extend("x-updatable" = true), length(max = 400))]
    pub description: String,
    /// The OCID of the user.
    #[schemars(extend("x-forceNew" = true))]
    pub user_id: String,
}

/// The state of an `oci_identity_auth_token`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OciIdentityAuthTokenOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: OciIdentityAuthTokenInputs,
    /// The OCID of the auth token.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// The lifecycle attributes.
    #[serde(flatten)]
    pub lifecycle: OciLifecycle,
    /// The auth token. The value is available only in the response for `CreateAuthToken`, and not
    /// for `ListAuthTokens` or `UpdateAuthToken`: credplane carries it forward in the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub token: Option<Secret<String>>,
}

/// The `oci_identity_auth_token` resource.
pub struct OciIdentityAuthToken;

const RULES: &[Rule] = &[USER_ID_RULE];

#[async_trait]
impl Resource for OciIdentityAuthToken {
    const TYPE: &'static str = "oci_identity_auth_token";
    type Inputs = OciIdentityAuthTokenInputs;
    type Outputs = OciIdentityAuthTokenOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "oci",
            import: "`users/{userId}/authTokens/{id}`. The token itself is not available for imported resources.",
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
            client.create_auth_token(&user, &inputs.description, &retry_token)
        })
        .await
        {
            Ok(created) => created,
            Err(err) => return Err(explain_create_error(ctx, &client, KIND, &user, err).await),
        };
        let id = created.id.clone();
        let mut outputs = outputs_of(inputs, &created, created.token.clone().map(Secret::new));
        let waited = wait_active(
            ctx,
            || async { Ok(client.list_auth_tokens(&user).await?.into_iter().find(|t| t.id == id)) },
            |t: &AuthToken| t.lifecycle_state.as_deref(),
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
                outputs: partial_outputs(&outputs, "token"),
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
        let (user, token_id) = read_target(id, KIND, known_user.as_deref())?;
        let client = ctx.clouds.oci_identity()?;
        let Some(list) = list_or_none(ctx, || client.list_auth_tokens(&user)).await? else {
            return Ok(None);
        };
        let Some(found) = list.into_iter().find(|t| t.id == token_id) else { return Ok(None) };
        if is_gone(found.lifecycle_state.as_deref()) {
            return Ok(None);
        }
        let found_inputs = OciIdentityAuthTokenInputs {
            description: found.description.clone().unwrap_or_default(),
            user_id: found.user_id.clone(),
        };
        // The cloud never shows the token again: keep the one from the state.
        let token = outputs.and_then(|o| o.token);
        let found_outputs = outputs_of(found_inputs.clone(), &found, token);
        Ok(Some(Found { id: token_id, inputs: found_inputs, outputs: found_outputs }))
    }

    async fn update(&self, ctx: &Context, id: &str, olds: Self::Outputs, news: Self::Inputs) -> Result<Self::Outputs, ProviderError> {
        let client = ctx.clouds.oci_identity()?;
        let user = olds.inputs.user_id.clone();
        let updated = with_retries(ctx, Idempotency::Idempotent, || client.update_auth_token(&user, id, &news.description)).await?;
        Ok(outputs_of(news, &updated, olds.token))
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let client = ctx.clouds.oci_identity()?;
        let user = outputs.inputs.user_id;
        with_retries(ctx, Idempotency::Idempotent, || client.delete_credential(KIND, &user, id)).await?;
        Ok(())
    }
}

const KIND: CredentialKind = CredentialKind::AuthToken;

fn lifecycle_of(t: &AuthToken) -> OciLifecycle {
    lifecycle(t.lifecycle_state.as_deref(), t.inactive_status, t.time_created.as_deref(), t.time_expires.as_deref())
}

fn outputs_of(inputs: OciIdentityAuthTokenInputs, t: &AuthToken, token: Option<Secret<String>>) -> OciIdentityAuthTokenOutputs {
    OciIdentityAuthTokenOutputs { inputs, id: t.id.clone(), lifecycle: lifecycle_of(t), token }
}
