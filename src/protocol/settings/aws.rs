//! What `configure {aws: ...}` accepts.

use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// AWS settings. Unset fields fall back to `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), then to `~/.aws/credentials` and
/// `~/.aws/config` with `AWS_PROFILE`.
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
    /// Region. Also the region of `ses_smtp_password_v4`.
    #[serde(default)]
    pub region: Option<String>,
    /// Profile of the shared config files.
    #[serde(default)]
    pub profile: Option<String>,
    /// IAM endpoint URL, to point the provider at a local or private endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
}
