//! KMS (2016-01-20): the secret (Secrets Manager) calls.

use super::client::{Params, RpcClient};
use crate::cloud::call::Call;
use crate::cloud::error::CloudError;
use crate::cloud::retry::Idempotency;
use crate::secrets::Secret;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The KMS API.
#[derive(Clone)]
pub struct KmsClient {
    rpc: RpcClient,
}

/// The DescribeSecret answer, only the fields we read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretDescription {
    /// The name.
    pub secret_name: String,
    /// The ARN.
    pub arn: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// `Generic`, `Rds`, `RAMCredentials` or `ECS`.
    pub secret_type: Option<String>,
    /// When it was created.
    pub create_time: Option<String>,
    /// Set while the secret sits in its deletion (recovery) window.
    pub planned_delete_time: Option<String>,
    /// `Enabled`, `Disabled` or `Invalid`.
    pub automatic_rotation: Option<String>,
    /// `<n>s`.
    pub rotation_interval: Option<String>,
    /// The extended configuration, a JSON object in a string.
    pub extended_config: Option<String>,
    /// The KMS key that encrypts the value.
    pub encryption_key_id: Option<String>,
    /// The dedicated KMS instance.
    #[serde(rename = "DKMSInstanceId")]
    pub dkms_instance_id: Option<String>,
}

impl SecretDescription {
    /// Whether the secret is scheduled for deletion.
    pub fn is_pending_deletion(&self) -> bool {
        self.planned_delete_time.as_deref().is_some_and(|t| !t.is_empty())
    }
}

/// The GetSecretValue answer, only the fields we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretValue {
    /// The version id.
    pub version_id: String,
    /// The value.
    pub secret_data: Secret<String>,
    /// `text` or `binary`.
    #[serde(default)]
    pub secret_data_type: Option<String>,
    /// The stages of the version.
    #[serde(default)]
    pub version_stages: Option<VersionStages>,
}

/// The `VersionStages` of a GetSecretValue answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionStages {
    /// The stage labels.
    #[serde(default)]
    pub version_stage: Vec<String>,
}

/// Everything CreateSecret takes.
#[derive(Debug, Clone)]
pub struct NewSecret<'a> {
    /// SecretName.
    pub secret_name: &'a str,
    /// SecretData.
    pub secret_data: &'a Secret<String>,
    /// VersionId.
    pub version_id: &'a str,
    /// SecretType.
    pub secret_type: &'a str,
    /// SecretDataType.
    pub secret_data_type: &'a str,
    /// EncryptionKeyId.
    pub encryption_key_id: Option<&'a str>,
    /// DKMSInstanceId.
    pub dkms_instance_id: Option<&'a str>,
    /// ExtendedConfig, a JSON object in a string.
    pub extended_config: Option<String>,
    /// EnableAutomaticRotation.
    pub enable_automatic_rotation: bool,
    /// RotationInterval.
    pub rotation_interval: Option<&'a str>,
    /// Policy.
    pub policy: Option<&'a str>,
    /// Description.
    pub description: Option<&'a str>,
    /// Tags.
    pub tags: Option<&'a BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateSecretResponse {
    #[serde(default)]
    arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyResponse {
    #[serde(default)]
    policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourcesResponse {
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    tag_resources: Option<TagResourceList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceList {
    #[serde(default)]
    tag_resource: Vec<TagResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResource {
    tag_key: String,
    #[serde(default)]
    tag_value: String,
}

#[derive(Deserialize)]
struct Ignored {}

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// Tags as KMS takes them: a JSON array of `{TagKey, TagValue}`.
pub fn tags_json(tags: &BTreeMap<String, String>) -> String {
    Value::Array(tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect()).to_string()
}

impl KmsClient {
    /// A KMS client over `rpc`.
    pub fn new(rpc: RpcClient) -> Self {
        KmsClient { rpc }
    }

    /// The region it calls (KMS is regional: a secret lives in one region).
    pub fn region(&self) -> &str {
        self.rpc.region()
    }

    /// The endpoint it calls.
    pub fn endpoint(&self) -> &str {
        self.rpc.endpoint()
    }

    async fn ok(&self, call: &Call, action: &str, params: Params) -> Result<(), CloudError> {
        self.rpc
            .call::<Ignored>(call, Idempotency::Idempotent, action, &params)
            .await
            .map(drop)
    }

    /// CreateSecret; returns the ARN. Not retried after an ambiguous failure (the caller checks
    /// with DescribeSecret).
    pub async fn create_secret(&self, call: &Call, new: &NewSecret<'_>) -> Result<Option<String>, CloudError> {
        let mut params = vec![
            p("SecretName", new.secret_name),
            p("SecretData", new.secret_data.expose()),
            p("VersionId", new.version_id),
            p("SecretType", new.secret_type),
            p("SecretDataType", new.secret_data_type),
            p("EnableAutomaticRotation", new.enable_automatic_rotation.to_string()),
        ];
        let optional = [
            ("EncryptionKeyId", new.encryption_key_id.map(str::to_owned)),
            ("DKMSInstanceId", new.dkms_instance_id.map(str::to_owned)),
            ("ExtendedConfig", new.extended_config.clone()),
            ("RotationInterval", new.rotation_interval.map(str::to_owned)),
            ("Policy", new.policy.map(str::to_owned)),
            ("Description", new.description.map(str::to_owned)),
            ("Tags", new.tags.filter(|t| !t.is_empty()).map(tags_json)),
        ];
        params.extend(optional.into_iter().filter_map(|(k, v)| Some(p(k, v?))));
        let out: CreateSecretResponse = self
            .rpc
            .call(call, Idempotency::NotIdempotent, "CreateSecret", &params)
            .await?;
        Ok(out.arn)
    }

    /// DescribeSecret with its tags.
    pub async fn describe_secret(&self, call: &Call, name: &str) -> Result<SecretDescription, CloudError> {
        let params = vec![p("SecretName", name), p("FetchTags", "true")];
        self.rpc
            .call(call, Idempotency::Idempotent, "DescribeSecret", &params)
            .await
    }

    /// GetSecretValue of the `ACSCurrent` version.
    pub async fn get_secret_value(&self, call: &Call, name: &str) -> Result<SecretValue, CloudError> {
        let params = vec![p("SecretName", name), p("VersionStage", "ACSCurrent")];
        self.rpc
            .call(call, Idempotency::Idempotent, "GetSecretValue", &params)
            .await
    }

    /// PutSecretValue: a new version, which becomes `ACSCurrent`. Retrying is safe: the same
    /// version id with the same data is accepted again.
    pub async fn put_secret_value(
        &self,
        call: &Call,
        name: &str,
        version_id: &str,
        data: &str,
        data_type: &str,
        stages: Option<&[String]>,
    ) -> Result<(), CloudError> {
        let mut params = vec![
            p("SecretName", name),
            p("VersionId", version_id),
            p("SecretData", data),
            p("SecretDataType", data_type),
        ];
        if let Some(stages) = stages {
            params.push(p("VersionStages", serde_json::to_string(stages).unwrap_or_default()));
        }
        self.ok(call, "PutSecretValue", params).await
    }

    /// UpdateSecret: the description and/or the extended configuration's custom data.
    pub async fn update_secret(
        &self,
        call: &Call,
        name: &str,
        description: Option<&str>,
        custom_data: Option<&BTreeMap<String, String>>,
    ) -> Result<(), CloudError> {
        let mut params = vec![p("SecretName", name)];
        if let Some(description) = description {
            params.push(p("Description", description));
        }
        if let Some(data) = custom_data {
            params.push(p(
                "ExtendedConfig.CustomData",
                serde_json::to_string(data).unwrap_or_default(),
            ));
        }
        self.ok(call, "UpdateSecret", params).await
    }

    /// UpdateSecretRotationPolicy.
    pub async fn update_rotation_policy(
        &self,
        call: &Call,
        name: &str,
        enabled: bool,
        interval: Option<&str>,
    ) -> Result<(), CloudError> {
        let mut params = vec![p("SecretName", name), p("EnableAutomaticRotation", enabled.to_string())];
        if let Some(interval) = interval {
            params.push(p("RotationInterval", interval));
        }
        self.ok(call, "UpdateSecretRotationPolicy", params).await
    }

    /// SetSecretPolicy.
    pub async fn set_secret_policy(
        &self,
        call: &Call,
        name: &str,
        policy: &str,
        policy_name: &str,
    ) -> Result<(), CloudError> {
        let params = vec![p("SecretName", name), p("Policy", policy), p("PolicyName", policy_name)];
        self.ok(call, "SetSecretPolicy", params).await
    }

    /// GetSecretPolicy.
    pub async fn get_secret_policy(
        &self,
        call: &Call,
        name: &str,
        policy_name: &str,
    ) -> Result<Option<String>, CloudError> {
        let params = vec![p("SecretName", name), p("PolicyName", policy_name)];
        let out: PolicyResponse = self
            .rpc
            .call(call, Idempotency::Idempotent, "GetSecretPolicy", &params)
            .await?;
        Ok(out.policy)
    }

    /// UpdateSecretVersionStage of `stage` (`ACSCurrent` for the resource's move/remove arguments).
    pub async fn update_version_stage(
        &self,
        call: &Call,
        name: &str,
        stage: &str,
        move_to: Option<&str>,
        remove_from: Option<&str>,
    ) -> Result<(), CloudError> {
        let mut params = vec![p("SecretName", name), p("VersionStage", stage)];
        if let Some(v) = move_to {
            params.push(p("MoveToVersion", v));
        }
        if let Some(v) = remove_from {
            params.push(p("RemoveFromVersion", v));
        }
        self.ok(call, "UpdateSecretVersionStage", params).await
    }

    /// TagResource, addressing the secret by name.
    pub async fn tag_resource(
        &self,
        call: &Call,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        self.ok(
            call,
            "TagResource",
            vec![p("SecretName", name), p("Tags", tags_json(tags))],
        )
        .await
    }

    /// UntagResource, addressing the secret by name.
    pub async fn untag_resource(&self, call: &Call, name: &str, keys: &[&String]) -> Result<(), CloudError> {
        let keys = serde_json::to_string(keys).unwrap_or_default();
        self.ok(call, "UntagResource", vec![p("SecretName", name), p("TagKeys", keys)])
            .await
    }

    /// ListTagResources of one secret, every page.
    pub async fn list_tags(&self, call: &Call, name: &str) -> Result<BTreeMap<String, String>, CloudError> {
        let mut tags = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = vec![p("ResourceType", "secret"), p("ResourceId.1", name)];
            if let Some(t) = &token {
                params.push(p("NextToken", t.clone()));
            }
            let out: TagResourcesResponse = self
                .rpc
                .call(call, Idempotency::Idempotent, "ListTagResources", &params)
                .await?;
            tags.extend(
                out.tag_resources
                    .into_iter()
                    .flat_map(|l| l.tag_resource)
                    .map(|t| (t.tag_key, t.tag_value)),
            );
            match out.next_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(tags),
            }
        }
    }

    /// DeleteSecret with a recovery window, or at once and for good with `force` (the window is
    /// then not sent: KMS ignores it).
    pub async fn delete_secret(
        &self,
        call: &Call,
        name: &str,
        recovery_window_in_days: u32,
        force: bool,
    ) -> Result<(), CloudError> {
        let mut params = vec![p("SecretName", name)];
        if force {
            params.push(p("ForceDeleteWithoutRecovery", "true"));
        } else {
            params.push(p("RecoveryWindowInDays", recovery_window_in_days.to_string()));
        }
        self.ok(call, "DeleteSecret", params).await
    }
}
