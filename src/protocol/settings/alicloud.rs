//! What `configure {alicloud: ...}` accepts.

use crate::secrets::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Alibaba Cloud settings. Unset fields fall back to `ALIBABA_CLOUD_ACCESS_KEY_ID` /
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, the Terraform-style `ALICLOUD_ACCESS_KEY` /
/// `ALICLOUD_SECRET_KEY` / `ALICLOUD_REGION`, then the `~/.aliyun/config.json` profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlicloudSettings {
    /// AccessKey id.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// AccessKey secret.
    #[serde(default)]
    pub access_key_secret: Option<Secret<String>>,
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
}
