//! `alicloud_ram_access_key`: an AccessKey of an Alibaba Cloud RAM user.

use super::aws_iam_access_key::{pgp_key_form, KeyStatus};
use super::rules::{str_prop, Rule};
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::protocol::PropertyMap;
use crate::provider::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Provides a RAM Access Key resource. Set `secret_file` or `pgp_key` if you want to keep the
/// access key secret out of the state; otherwise it is returned in `secret`, flagged secret.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlicloudRamAccessKeyInputs {
    /// The RAM user name. When omitted, the key belongs to the identity whose credentials the
    /// provider uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 64))]
    pub user_name: Option<String>,
    /// The status of the AccessKey: `Active` (activated) or `Inactive` (disabled). When omitted,
    /// the cloud's value (`Active` for a new key) is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "x-computed" = true))]
    pub status: Option<KeyStatus>,
    /// The name of a file that saves the access key id and access key secret, as JSON
    /// (`{"AccessKeyId": ..., "AccessKeySecret": ...}`). Strongly suggest you to specify it when
    /// you create the access key, otherwise you would not get its secret ever. credplane writes it
    /// atomically with mode 0600, and checks that it can be written before the key is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1))]
    pub secret_file: Option<String>,
    /// Either a base-64 encoded PGP public key, an ASCII-armored public key, a keybase username in
    /// the form `keybase:some_person_that_exists`, or `external:<name>|<url>`. When set, the
    /// secret is returned only encrypted, in `encrypted_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub pgp_key: Option<String>,
}

/// The state of an `alicloud_ram_access_key`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlicloudRamAccessKeyOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: AlicloudRamAccessKeyInputs,
    /// The AccessKey id.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// The create time of the AccessKey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub create_time: Option<String>,
    /// The secret access key, when no `pgp_key` is set. Note that this will be written to the
    /// state file. Alternatively, you may supply a `pgp_key` instead, which will prevent the
    /// secret from being stored in plaintext, at the cost of preventing the use of the secret key
    /// in automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub secret: Option<Secret<String>>,
    /// The fingerprint (lowercase hex) of the PGP key used to encrypt the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub key_fingerprint: Option<String>,
    /// The encrypted secret, base64 encoded (a binary OpenPGP message). It may be decrypted with
    /// `base64 --decode | gpg --decrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true, "x-secret" = true))]
    pub encrypted_secret: Option<String>,
}

/// The `alicloud_ram_access_key` resource.
pub struct AlicloudRamAccessKey;

const RULES: &[Rule] = &[
    Rule { name: "pgp_key form", property: "pgp_key", check: pgp_key_form },
    Rule { name: "secret_file is a file path", property: "secret_file", check: secret_file_path },
];

fn secret_file_path(inputs: &PropertyMap) -> Option<String> {
    let path = str_prop(inputs, "secret_file")?;
    (path.trim().is_empty() || path.ends_with('/'))
        .then(|| "must be the path of a file, not empty and not a directory".to_string())
}

#[async_trait]
impl Resource for AlicloudRamAccessKey {
    const TYPE: &'static str = "alicloud_ram_access_key";
    type Inputs = AlicloudRamAccessKeyInputs;
    type Outputs = AlicloudRamAccessKeyOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "alicloud",
            import: "`<user_name>:<access_key_id>` (or the key id alone for the provider's own identity). The secret is not available for imported resources.",
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
