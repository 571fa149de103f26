//! What `configure {alicloud: ...}` accepts.

use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Alibaba Cloud settings. Unset credentials fall back to the official SDKs' chain: the
/// `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` variables, the
/// Terraform-style `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` / `ALICLOUD_SECURITY_TOKEN`, the
/// OIDC role (`ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`), the `~/.aliyun/config.json` profile, then the ECS instance RAM
/// role when `ALIBABA_CLOUD_ECS_METADATA` names it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlicloudSettings {
    /// AccessKey id.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// AccessKey secret.
    #[serde(default)]
    pub access_key_secret: Option<Secret<String>>,
    /// STS security token, with an `STS.` AccessKey pair (sent as `SecurityToken`).
    #[serde(default)]
    pub security_token: Option<Secret<String>>,
    /// Region, such as `cn-hangzhou`; KMS is regional (`kms.<region>.aliyuncs.com`).
    #[serde(default)]
    pub region: Option<String>,
    /// Profile of `~/.aliyun/config.json`.
    #[serde(default)]
    pub profile: Option<String>,
    /// RAM endpoint URL (default `https://ram.aliyuncs.com`).
    #[serde(default)]
    pub ram_endpoint: Option<String>,
    /// KMS endpoint URL (default `https://kms.<region>.aliyuncs.com`).
    #[serde(default)]
    pub kms_endpoint: Option<String>,
    /// STS endpoint URL for AssumeRole and AssumeRoleWithOIDC (default from `ALIBABA_CLOUD_STS_ENDPOINT`,
    /// else `https://sts.<ALIBABA_CLOUD_STS_REGION>.aliyuncs.com`, else `https://sts.aliyuncs.com`).
    #[serde(default)]
    pub sts_endpoint: Option<String>,
    /// ECS metadata service URL for the instance RAM role (default from `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`,
    /// else `http://100.100.100.200`).
    #[serde(default)]
    pub ecs_metadata_endpoint: Option<String>,
}
