//! `aws_iam_access_key`: an IAM access key, a set of credentials that allow API requests to be made
//! as an IAM user.

use super::rules::{str_prop, Rule};
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::provider::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Status of an access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum KeyStatus {
    /// The key can sign requests.
    #[default]
    Active,
    /// The key exists but every request signed with it is refused.
    Inactive,
}

/// Provides an IAM access key. This is a set of credentials that allow API requests to be made as
/// an IAM user.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsIamAccessKeyInputs {
    /// IAM user to associate with this access key.
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 64))]
    pub user: String,
    /// Access key status to apply. Defaults to `Active`. Valid values are `Active` and `Inactive`.
    #[serde(default)]
    #[schemars(extend("x-updatable" = true))]
    pub status: KeyStatus,
    /// Either a base-64 encoded PGP public key, an ASCII-armored PGP public key, an external url in
    /// the form `external:some_person_that_exists|url_to_fetch_his_key` (the url can also be a
    /// formatable url which will use the username like: `https://github.com/%s.gpg`) or a keybase
    /// username in the form `keybase:some_person_that_exists`, for use in the `encrypted_secret`
    /// output attribute. RSA and Curve25519 keys are accepted. When set, the plaintext `secret` and
    /// `ses_smtp_password_v4` are not returned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub pgp_key: Option<String>,
}

/// The state of an `aws_iam_access_key`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AwsIamAccessKeyOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: AwsIamAccessKeyInputs,
    /// Access key ID.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// Date and time in RFC3339 format that the access key was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub create_date: Option<String>,
    /// Secret access key. This attribute is not available for imported resources, nor when
    /// `pgp_key` is set. Note that this will be written to the state file. If you use this, please
    /// protect your backend state file judiciously. Alternatively, you may supply a `pgp_key`
    /// instead, which will prevent the secret from being stored in plaintext, at the cost of
    /// preventing the use of the secret key in automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub secret: Option<Secret<String>>,
    /// Secret access key converted into an SES SMTP password by applying AWS's documented Sigv4
    /// conversion algorithm. The region used is the provider's configured AWS region (`configure`
    /// `aws.region`, else `AWS_REGION`): an SES password only works in the region it was derived
    /// for. SES SMTP regions include `ap-south-1`, `ap-southeast-2`, `eu-central-1`, `eu-west-1`,
    /// `us-east-1` and `us-west-2`. This attribute is not available for imported resources, nor
    /// when `pgp_key` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub ses_smtp_password_v4: Option<Secret<String>>,
    /// Encrypted secret, base64 encoded (a binary OpenPGP message), if `pgp_key` was specified.
    /// This attribute is not available for imported resources. The encrypted secret may be
    /// decrypted using the command line, for example: `base64 --decode | gpg --decrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true, "x-secret" = true))]
    pub encrypted_secret: Option<String>,
    /// Encrypted SES SMTP password, base64 encoded, if `pgp_key` was specified. This attribute is
    /// not available for imported resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true, "x-secret" = true))]
    pub encrypted_ses_smtp_password_v4: Option<String>,
    /// Fingerprint (lowercase hex) of the primary PGP key used to encrypt the secret. This
    /// attribute is not available for imported resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub key_fingerprint: Option<String>,
    /// Whether the secret attributes are held in this state. `false` after an import: the IAM API
    /// never returns a secret again, so `secret`, `ses_smtp_password_v4`, `encrypted_secret`,
    /// `encrypted_ses_smtp_password_v4` and `key_fingerprint` are absent.
    #[serde(default = "yes")]
    #[schemars(extend("x-computed" = true))]
    pub secrets_available: bool,
}

fn yes() -> bool {
    true
}

/// The `aws_iam_access_key` resource.
pub struct AwsIamAccessKey;

const RULES: &[Rule] = &[Rule { name: "pgp_key form", property: "pgp_key", check: pgp_key_form }];

/// The `pgp_key` argument must be one of the accepted forms.
pub fn pgp_key_form(inputs: &crate::protocol::PropertyMap) -> Option<String> {
    crate::secrets::pgp_source::classify(str_prop(inputs, "pgp_key")?).err()
}

#[async_trait]
impl Resource for AwsIamAccessKey {
    const TYPE: &'static str = "aws_iam_access_key";
    type Inputs = AwsIamAccessKeyInputs;
    type Outputs = AwsIamAccessKeyOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "aws",
            import: "The access key id, e.g. `AKIA1234567890`; the user is found with GetAccessKeyLastUsed. Secret attributes are not available for imported resources.",
            timeouts: Timeouts::FIVE_MINUTES,
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    async fn create(&self, _ctx: &Context, _inputs: Self::Inputs) -> Result<(String, Self::Outputs), ProviderError> {
        Err(super::pending(Self::TYPE))
    }

    async fn read(
        &self,
        _ctx: &Context,
        _id: &str,
        _inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError> {
        Err(super::pending(Self::TYPE))
    }

    async fn update(&self, _ctx: &Context, _id: &str, _olds: Self::Outputs, _news: Self::Inputs) -> Result<Self::Outputs, ProviderError> {
        Err(super::pending(Self::TYPE))
    }

    async fn delete(&self, _ctx: &Context, _id: &str, _outputs: Self::Outputs) -> Result<(), ProviderError> {
        Err(super::pending(Self::TYPE))
    }
}
