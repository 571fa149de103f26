//! `oci_identity_auth_token`: an auth token of an OCI user (for Swift, Docker registry and the like).

use super::oci_credential::{OciCredential, OciKind, OciLifecycle};
use super::rotation::Rotation;
use crate::cloud::oci::client::CredentialKind;
use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Creates a new auth token for the specified user. You must specify a description for the auth
/// token (although it can be an empty string). It does not have to be unique, and you can change
/// it anytime with UpdateAuthToken. Every user has permission to create an auth token for their own
/// user ID. A user has at most 2 auth tokens.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
// Unknown properties are refused by the schema (`check`), not by serde: the flattened rotation
// and sink arguments make serde hand every state field to the inputs of a flattened state.
#[schemars(deny_unknown_fields)]
pub struct OciIdentityAuthTokenInputs {
    /// The description you assign to the auth token during creation. Does not have to be unique,
    /// and it's changeable.
    #[schemars(extend("x-updatable" = true), length(max = 400))]
    pub description: String,
    /// The OCID of the user.
    #[schemars(extend("x-forceNew" = true))]
    pub user_id: String,
    /// Built-in rotation: `rotate_after` and `keepers`.
    #[serde(flatten)]
    pub rotation: Rotation,
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

/// The `oci_identity_auth_token` resource: the OCI credential resource of this kind.
pub type OciIdentityAuthToken = OciCredential<AuthToken>;

/// The AuthToken kind of OCI credential.
pub struct AuthToken;

impl OciKind for AuthToken {
    const TYPE: &'static str = "oci_identity_auth_token";
    const IMPORT: &'static str =
        "`users/{userId}/authTokens/{id}`. The token itself is not available for imported resources.";
    type Inputs = OciIdentityAuthTokenInputs;
    type Outputs = OciIdentityAuthTokenOutputs;
    const KIND: CredentialKind = CredentialKind::AuthToken;

    fn user_id(inputs: &Self::Inputs) -> &str {
        &inputs.user_id
    }

    fn rotation(inputs: &mut Self::Inputs) -> &mut Rotation {
        &mut inputs.rotation
    }

    fn label(inputs: &Self::Inputs) -> &str {
        &inputs.description
    }

    fn new_inputs(user_id: String, label: String) -> Self::Inputs {
        OciIdentityAuthTokenInputs {
            description: label,
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
