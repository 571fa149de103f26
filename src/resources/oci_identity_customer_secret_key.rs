//! `oci_identity_customer_secret_key`: an OCI customer secret key, the credential of Object
//! Storage's Amazon S3 compatible API.

use super::oci_shared::{self, OciCredentialType, OciLifecycle, USER_ID_RULE};
use super::rules::Rule;
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::cloud::oci::client::CredentialKind;
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

impl OciCredentialType for OciIdentityCustomerSecretKey {
    const KIND: CredentialKind = CredentialKind::CustomerSecretKey;
    const SECRET_FIELD: &'static str = "key";

    fn user_id(inputs: &Self::Inputs) -> &str {
        &inputs.user_id
    }

    fn label(inputs: &Self::Inputs) -> &str {
        &inputs.display_name
    }

    fn new_inputs(user_id: String, label: String) -> Self::Inputs {
        OciIdentityCustomerSecretKeyInputs {
            display_name: label,
            user_id,
        }
    }

    fn new_outputs(
        inputs: Self::Inputs,
        id: String,
        lifecycle: OciLifecycle,
        secret: Option<Secret<String>>,
    ) -> Self::Outputs {
        OciIdentityCustomerSecretKeyOutputs {
            inputs,
            id,
            lifecycle,
            key: secret,
        }
    }

    fn split_outputs(outputs: Self::Outputs) -> (Self::Inputs, Option<Secret<String>>) {
        (outputs.inputs, outputs.key)
    }
}
