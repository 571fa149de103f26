//! What `configure {oci: ...}` accepts.

use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// OCI settings. Unset fields fall back to the OCI config file (`OCI_CONFIG_FILE` or
/// `~/.oci/config`, profile `OCI_CLI_PROFILE` or `DEFAULT`), then to environment overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OciSettings {
    /// Tenancy OCID.
    #[serde(default)]
    pub tenancy: Option<String>,
    /// OCID of the user whose API key signs requests.
    #[serde(default)]
    pub user: Option<String>,
    /// Fingerprint of the API key.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The API private key itself, PEM.
    #[serde(default)]
    pub private_key: Option<Secret<String>>,
    /// Path of the API private key, PEM.
    #[serde(default)]
    pub key_file: Option<String>,
    /// Pass phrase of an encrypted private key.
    #[serde(default)]
    pub pass_phrase: Option<Secret<String>>,
    /// Region, such as `us-ashburn-1`, or its key (`iad`); the endpoint is
    /// `https://identity.<region>.<realm domain>` (`oraclecloud.com`, `oraclegovcloud.com`, ...).
    #[serde(default)]
    pub region: Option<String>,
    /// Identity endpoint URL, overriding the one derived from the region. May hold `{region}`,
    /// replaced by the region, so that writes can still go to the home region.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// How to authenticate: `api_key` (the default), `security_token` (a profile written by
    /// `oci session authenticate`), `resource_principal` (the v2.2 environment) or
    /// `instance_principal` (the instance certificate, federated; `OCI_METADATA_BASE_URL` and
    /// `OCI_SDK_AUTH_CLIENT_REGION_URL` override the metadata and Auth endpoints); default from
    /// `OCI_CLI_AUTH`. A profile with `security_token_file` and a set `OCI_RESOURCE_PRINCIPAL_VERSION`
    /// are also recognised without it.
    #[serde(default)]
    pub auth: Option<String>,
    /// Config file path.
    #[serde(default)]
    pub config_file: Option<String>,
    /// Config file profile.
    #[serde(default)]
    pub profile: Option<String>,
}
