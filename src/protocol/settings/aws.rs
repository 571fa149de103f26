//! What `configure {aws: ...}` accepts.

use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// AWS settings. Static keys given here win; without them credentials come from the AWS SDKs'
/// standard chain: the environment (`AWS_ACCESS_KEY_ID`, ...), the shared config and credentials
/// profiles (static keys, `credential_process`, IAM Identity Center, `role_arn` with
/// `source_profile` or `credential_source`), web identity (`AWS_ROLE_ARN` +
/// `AWS_WEB_IDENTITY_TOKEN_FILE`), ECS container credentials, then EC2 instance metadata (IMDSv2).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    /// Access key id.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// Secret access key.
    #[serde(default)]
    pub secret_access_key: Option<Secret<String>>,
    /// Session token, for temporary credentials.
    #[serde(default)]
    pub session_token: Option<Secret<String>>,
    /// Region (else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, `us-east-1`). Its
    /// partition picks the IAM endpoint and signing region; also the region of
    /// `ses_smtp_password_v4`.
    #[serde(default)]
    pub region: Option<String>,
    /// Profile of the shared config files (else `AWS_PROFILE`, then `default`).
    #[serde(default)]
    pub profile: Option<String>,
    /// IAM endpoint URL, to point the provider at a local or private endpoint (else
    /// `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL`, the partition's endpoint).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The region IAM requests are signed for. Defaults to the partition's (`us-east-1`,
    /// `cn-north-1`, `us-gov-west-1`, ...), also when `endpoint` is overridden.
    #[serde(default)]
    pub signing_region: Option<String>,
    /// A role to assume (STS AssumeRole) with the credentials found above.
    #[serde(default)]
    pub assume_role: Option<AssumeRoleSettings>,
}

/// `configure {aws: {assume_role: ...}}`: the role the provider works as.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssumeRoleSettings {
    /// The ARN of the role.
    pub role_arn: String,
    /// The role session name (default: one the AWS SDK derives from the time).
    #[serde(default)]
    pub session_name: Option<String>,
    /// The external id the role's trust policy requires, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    /// How long each session lasts, 900 to 43200 seconds (default: STS's, one hour).
    #[serde(default)]
    #[schemars(range(min = 900, max = 43200))]
    pub duration_seconds: Option<u32>,
}
