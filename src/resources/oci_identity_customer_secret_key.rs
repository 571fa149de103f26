//! `oci_identity_customer_secret_key`: an OCI customer secret key, the credential of Object
//! Storage's Amazon S3 compatible API.

use super::oci_credential::{OciCredential, OciKind, OciLifecycle};
use super::rotation::Rotation;
use crate::cloud::oci::client::CredentialKind;
use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Creates a new secret key for the specified user. Secret keys are used for authentication with
/// the Object Storage Service's Amazon S3 compatible API. You must specify a display name for the
/// secret key (although it can be an empty string). It does not have to be unique, and you can
/// change it anytime with UpdateCustomerSecretKey. A user has at most 2 customer secret keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
// Unknown properties are refused by the schema (`check`), not by serde: the flattened rotation
// and sink arguments make serde hand every state field to the inputs of a flattened state.
#[schemars(deny_unknown_fields)]
pub struct OciIdentityCustomerSecretKeyInputs {
    /// The name you assign to the secret key during creation. Does not have to be unique, and it's
    /// changeable.
    #[schemars(extend("x-updatable" = true), length(max = 255))]
    pub display_name: String,
    /// The OCID of the user.
    #[schemars(extend("x-forceNew" = true))]
    pub user_id: String,
    /// Built-in rotation: `rotate_after` and `keepers`.
    #[serde(flatten)]
    pub rotation: Rotation,
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

/// The `oci_identity_customer_secret_key` resource: the OCI credential resource of this kind.
pub type OciIdentityCustomerSecretKey = OciCredential<CustomerSecretKey>;

/// The CustomerSecretKey kind of OCI credential.
pub struct CustomerSecretKey;

impl OciKind for CustomerSecretKey {
    const TYPE: &'static str = "oci_identity_customer_secret_key";
    const IMPORT: &'static str =
        "`users/{userId}/customerSecretKeys/{id}`. The key itself is not available for imported resources.";
    type Inputs = OciIdentityCustomerSecretKeyInputs;
    type Outputs = OciIdentityCustomerSecretKeyOutputs;
    const KIND: CredentialKind = CredentialKind::CustomerSecretKey;

    fn user_id(inputs: &Self::Inputs) -> &str {
        &inputs.user_id
    }

    fn rotation(inputs: &mut Self::Inputs) -> &mut Rotation {
        &mut inputs.rotation
    }

    fn label(inputs: &Self::Inputs) -> &str {
        &inputs.display_name
    }

    fn new_inputs(user_id: String, label: String) -> Self::Inputs {
        OciIdentityCustomerSecretKeyInputs {
            display_name: label,
            user_id,
            rotation: Rotation::default(),
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
