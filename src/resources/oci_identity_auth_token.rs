//! `oci_identity_auth_token`: an auth token of an OCI user (for Swift, Docker registry and the like).

use super::oci_shared::{self, OciCredentialType, OciLifecycle, USER_ID_RULE};
use super::rules::Rule;
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::cloud::oci::client::CredentialKind;
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
            timeouts: Timeouts {
                create: 1200,
                read: 300,
                update: 1200,
                delete: 1200,
            },
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> Result<(String, Self::Outputs), ProviderError> {
        oci_shared::create::<Self>(ctx, inputs).await
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError> {
        oci_shared::read::<Self>(ctx, id, inputs, outputs).await
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ProviderError> {
        oci_shared::update::<Self>(ctx, id, olds, news).await
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        oci_shared::delete::<Self>(ctx, id, outputs).await
    }
}

impl OciCredentialType for OciIdentityAuthToken {
    const KIND: CredentialKind = CredentialKind::AuthToken;
    const SECRET_FIELD: &'static str = "token";

    fn user_id(inputs: &Self::Inputs) -> &str {
        &inputs.user_id
    }

    fn label(inputs: &Self::Inputs) -> &str {
        &inputs.description
    }

    fn new_inputs(user_id: String, label: String) -> Self::Inputs {
        OciIdentityAuthTokenInputs {
            description: label,
            user_id,
        }
    }

    fn new_outputs(
        inputs: Self::Inputs,
        id: String,
        lifecycle: OciLifecycle,
        secret: Option<Secret<String>>,
    ) -> Self::Outputs {
        OciIdentityAuthTokenOutputs {
            inputs,
            id,
            lifecycle,
            token: secret,
        }
    }

    fn split_outputs(outputs: Self::Outputs) -> (Self::Inputs, Option<Secret<String>>) {
        (outputs.inputs, outputs.token)
    }
}
