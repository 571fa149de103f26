//! `alicloud_kms_secret`: a KMS secret (Secrets Manager) with its versions, policy, rotation and tags.
//!
//! Where the Terraform flags cannot work against the real cloud, this type differs on purpose, and
//! each field's description says so: `secret_data` and `version_id` change in place through
//! PutSecretValue (a replacement would collide with the old secret, which sits in its recovery
//! window under the same name); `tags`, `rotation_interval` change in place through
//! TagResource/UntagResource and UpdateSecretRotationPolicy. The other replacing arguments change
//! only together with `secret_name`, for the same reason (see `check_change`).

use super::rules::{Rule, bool_prop, is_set, is_unknown_prop, str_prop};
use super::window::Window;
use super::{Context, CreateResult, Found, Resource, ResourceError, ResourceInfo, Timeouts};
use crate::cloud::alicloud::kms::{KmsClient, NewSecret, SecretValue};
use crate::cloud::error::CloudError;
use crate::protocol::{Failure, PropertyMap};
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The kind of secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum SecretType {
    /// Normal credentials: any value, rotated by hand with new versions.
    #[default]
    Generic,
    /// Managed RDS credentials.
    Rds,
    /// Managed RAM credentials.
    #[serde(rename = "RAMCredentials")]
    RamCredentials,
    /// Managed ECS credentials.
    #[serde(rename = "ECS")]
    Ecs,
}

/// The type of the secret value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretDataType {
    /// Text.
    #[default]
    Text,
    /// Binary, sent base64-encoded.
    Binary,
}

/// Provides a KMS Secret resource: a named secret whose value is encrypted by KMS and kept in
/// versions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlicloudKmsSecretInputs {
    /// The credential name. Changing it replaces the secret. The other replacing arguments
    /// (`secret_type`, `secret_data_type`, `encryption_key_id`, `dkms_instance_id`,
    /// `extended_config`) can only change together with a new name: the old secret stays in its
    /// recovery window under its name, so KMS refuses a replacement of the same name.
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 192))]
    pub secret_name: String,
    /// The credential value. The length does not exceed 30720 bytes (30KB). KMS uses the specified
    /// key to encrypt it and stores it in the initial version. For `Generic` secrets any value; for
    /// `Rds` `{"Accounts":[{"AccountName":"","AccountPassword":""}]}`; for `RAMCredentials`
    /// `{"AccessKeys":[{"AccessKeyId":"","AccessKeySecret":""}]}` (all the access keys of the RAM
    /// user); for `ECS` with SecretSubType `Password` `{"UserName":"","Password":""}` and with
    /// `SSHKey` `{"UserName":"","PublicKey":"","PrivateKey":""}`. Changing it stores a new version
    /// (PutSecretValue) in place, together with a new `version_id`: the Terraform resource forces a
    /// replacement, which the cloud refuses while the old secret is in its recovery window.
    /// Exactly one of `secret_data` and `secret_data_wo` is set. For the managed types (`Rds`,
    /// `RAMCredentials`, `ECS`) KMS rotates the value itself: `read` then keeps this value and
    /// `version_id` as the program gave them rather than the rotated ones (as Terraform ignores
    /// those changes), so a rotation never shows as drift and the next update never undoes it; an
    /// import still reads the cloud's current value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub secret_data: Option<Secret<String>>,
    /// Write-only credential value, as Terraform 1.11's `*_wo` arguments: sent to KMS (CreateSecret,
    /// then PutSecretValue whenever `secret_data_wo_version` changes) and never stored in state or
    /// outputs, nor returned by any call; `read` does not put the cloud's value back either. A
    /// change of the value alone is not a diff: change `secret_data_wo_version` (and `version_id`,
    /// as KMS never reuses a version id) to store it. Exclusive with `secret_data`.
    #[serde(default, skip_serializing)]
    #[schemars(extend("x-writeOnly" = true))]
    pub secret_data_wo: Option<Secret<String>>,
    /// The version of `secret_data_wo`: changing it stores the current `secret_data_wo` as a new
    /// version (PutSecretValue under the new `version_id`). Stored in state, unlike the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub secret_data_wo_version: Option<i64>,
    /// The credential version number. Changing it (with `secret_data`) stores a new version in place.
    #[schemars(extend("x-updatable" = true), length(min = 1, max = 64))]
    pub version_id: String,
    /// The credential type: `Generic` (normal credentials), `Rds` (managed RDS credentials),
    /// `RAMCredentials` (managed RAM credentials) or `ECS` (managed ECS credentials).
    #[serde(default)]
    #[schemars(extend("x-forceNew" = true))]
    pub secret_type: SecretType,
    /// Credential value type: `text` (default) or `binary` (base64-encoded `secret_data`). When the
    /// value of `secret_type` is `Rds`, `RAMCredentials`, or `ECS`, it can only be `text`.
    #[serde(default)]
    #[schemars(extend("x-forceNew" = true, "x-computed" = true))]
    pub secret_data_type: SecretDataType,
    /// Description information for the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub description: Option<String>,
    /// The identifier of the KMS user master key used to encrypt the credential value. Unset, KMS
    /// uses a key of its own; `read` reports the key DescribeSecret names (computed), so that an
    /// imported secret under a customer key keeps it and a program that does not set it sees no diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true, "x-computed" = true))]
    pub encryption_key_id: Option<String>,
    /// The ID of the dedicated KMS instance. Computed like `encryption_key_id`: `read` reports
    /// the instance DescribeSecret names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true, "x-computed" = true))]
    pub dkms_instance_id: Option<String>,
    /// Expanding configuration of credentials, a JSON object such as
    /// `{"SecretSubType":"Password","InstanceId":"i-...","RegionId":"cn-hangzhou"}`. Only managed
    /// RDS, RAM or ECS credentials use it; ECS credentials need its `SecretSubType`.
    /// Compared as JSON (`contentMediaType`), so key order and spacing are not a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true, "contentMediaType" = "application/json"))]
    pub extended_config: Option<String>,
    /// Expand the custom data in the configuration. If this parameter is specified, the existing
    /// expansion configuration of the credential will be updated (UpdateSecret). Normal
    /// (`Generic`) credentials do not support setting this parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub extended_config_custom_data: Option<BTreeMap<String, String>>,
    /// Expand the custom data in the configuration. Deprecated: use `extended_config_custom_data`,
    /// of which this is an alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "deprecated" = true))]
    pub custom_data: Option<BTreeMap<String, String>>,
    /// Whether to enable automatic rotation: `true` turns it on, `false` (default) does not. Valid
    /// only when `secret_type` is `Rds`, `RAMCredentials` or `ECS`; `Generic` secrets are rotated
    /// by hand with a new `secret_data` and `version_id`. Changed in place (UpdateSecretRotationPolicy).
    #[serde(default)]
    #[schemars(extend("x-updatable" = true))]
    pub enable_automatic_rotation: bool,
    /// The period of automatic rotation of credentials, `<integer>s` in seconds: a 7-day cycle is
    /// `604800s`, from `21600s` (6 hours) to `31536000s` (365 days), as KMS takes; `check` refuses
    /// others rather than let the update fail. Needs `enable_automatic_rotation`. Changed in place
    /// (UpdateSecretRotationPolicy); the Terraform resource forces a replacement, which the
    /// recovery window would block. Computed: left unset while rotation stays on, the secret
    /// keeps the period it has (UpdateSecretRotationPolicy without one keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "x-computed" = true))]
    pub rotation_interval: Option<String>,
    /// The resource policy of the secret, a JSON document (SetSecretPolicy; secrets in a KMS
    /// instance). Unset means KMS's default policy, the one a new secret gets (every RAM identity
    /// of the account may use the secret): removing `policy` puts the default back, where the
    /// Terraform resource leaves the old policy in place, and `read` reports a secret holding the
    /// default as having no `policy`, so an import of it diffs clean and a policy set behind the
    /// program's back shows as drift. Compared as JSON, so key order and spacing are not a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "contentMediaType" = "application/json"))]
    pub policy: Option<String>,
    /// The name of the policy. Default `default`.
    #[serde(default = "default_policy_name")]
    #[schemars(extend("x-updatable" = true))]
    pub policy_name: String,
    /// The recoverable window, in days, when the secret is deleted (DeleteSecret's
    /// RecoveryWindowInDays). Default value: 30. A change takes effect at deletion. No cloud call
    /// reports it, so an imported secret's state lacks it (and `force_delete_without_recovery`,
    /// `move_to_version`, `remove_from_version`) until the program's value is recorded: `diff`
    /// then takes the program's value without a change, so an import diffs clean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "default" = 30), range(min = 7, max = 30))]
    pub recovery_window_in_days: Option<u32>,
    /// The stage labels of the version `version_id` (at most 7), as Terraform's and Pulumi's
    /// `version_stages`: given to PutSecretValue when a new version is stored, and moved onto the
    /// current version with UpdateSecretVersionStage when only the list changes (at create too,
    /// where CreateSecret itself takes no stages). Unlike Terraform, the list must contain
    /// `ACSCurrent`: this resource reads its secret's current version, so a version without it
    /// would show as a perpetual diff. Default (computed): what GetSecretValue reports for the
    /// current version, `["ACSCurrent"]` for a new secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "x-computed" = true), length(min = 1, max = 7))]
    pub version_stages: Option<Vec<String>>,
    /// Whether `delete` removes the secret at once and for good (DeleteSecret with
    /// ForceDeleteWithoutRecovery=true), so that its name can be used again right away. Default
    /// `false`: the secret waits `recovery_window_in_days` days, restorable, and its name stays
    /// taken meanwhile. When `true`, `recovery_window_in_days` is ignored. A change takes effect at
    /// deletion (an update only records it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true, "default" = false))]
    pub force_delete_without_recovery: Option<bool>,
    /// Moves the `ACSCurrent` stage to this version (UpdateSecretVersionStage MoveToVersion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub move_to_version: Option<String>,
    /// Removes the `ACSCurrent` stage from this version (UpdateSecretVersionStage
    /// RemoveFromVersion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub remove_from_version: Option<String>,
    /// The resource labels of the secret. Changed in place with TagResource and UntagResource,
    /// which address the secret by its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub tags: Option<BTreeMap<String, String>>,
    /// The key ID of TagResource/UntagResource. Those calls take exactly one of KeyId, SecretName
    /// and CertificateId; this resource tags its secret by `secret_name`, so `key_id` must stay unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The certificate ID of TagResource/UntagResource; like `key_id`, it must stay unset, because
    /// the secret is tagged by `secret_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
}

fn default_policy_name() -> String {
    "default".into()
}

/// DeleteSecret's default recovery window, in days.
const DEFAULT_RECOVERY_WINDOW: u32 = 30;

/// What no KMS call reports back: delete-time settings and the one-off stage moves. An import
/// writes a state without them.
const NOT_READ: [&str; 4] = [
    "recovery_window_in_days",
    "force_delete_without_recovery",
    "move_to_version",
    "remove_from_version",
];

/// The state of an `alicloud_kms_secret`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlicloudKmsSecretOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: AlicloudKmsSecretInputs,
    /// The ID of the secret: its name.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// The time when the credential was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub create_time: Option<String>,
    /// The ARN of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub arn: Option<String>,
    /// The time when the secret is scheduled to be deleted, from DescribeSecret. A secret in its
    /// deletion window counts as deleted (`read` reports it gone, so that a refresh drops it), so
    /// for a live secret this stays unset, as in Terraform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub planned_delete_time: Option<String>,
    /// The region the secret lives in (KMS is regional), recorded at create (an import records
    /// the provider's region). `read`, `update` and `delete` go to this region whatever the
    /// provider's region is now, so a reconfigured region never makes a refresh report the secret
    /// gone. Unset in state written before it was recorded: the provider's region then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub region: Option<String>,
    /// The KMS endpoint the secret was reached at, recorded with `region`. It is used while the
    /// provider is configured for another region; in the secret's own region the provider's
    /// endpoint setting wins, so that a moved endpoint (a VPC endpoint, say) takes effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub endpoint: Option<String>,
}

impl AlicloudKmsSecretOutputs {
    /// The KMS client of the secret's recorded region.
    fn kms(&self, ctx: &Context) -> Result<KmsClient, CloudError> {
        ctx.clouds
            .alicloud_kms_in(self.region.as_deref(), self.endpoint.as_deref())
    }
}

/// The `alicloud_kms_secret` resource.
pub struct AlicloudKmsSecret;

/// The arguments whose change replaces the secret (besides its name).
const REPLACING_FIELDS: [&str; 5] = [
    "secret_type",
    "secret_data_type",
    "encryption_key_id",
    "dkms_instance_id",
    "extended_config",
];

/// The replacing arguments that `read` fills in from the cloud when the program leaves them unset.
const COMPUTED_REPLACING: [&str; 2] = ["encryption_key_id", "dkms_instance_id"];

/// The stage every version this resource manages carries.
const CURRENT_STAGE: &str = "ACSCurrent";

/// The secret types whose value has a fixed JSON layout and which KMS rotates itself.
const MANAGED: [&str; 3] = ["Rds", "RAMCredentials", "ECS"];

const RULES: &[Rule] = &[
    Rule {
        name: "exactly one of secret_data and secret_data_wo",
        property: "secret_data",
        check: one_data_source,
    },
    Rule {
        name: "secret_data_wo has a version",
        property: "secret_data_wo_version",
        check: wo_needs_version,
    },
    Rule {
        name: "secret_data at most 30720 bytes",
        property: "secret_data",
        check: data_size,
    },
    Rule {
        name: "binary secret_data is base64",
        property: "secret_data",
        check: binary_is_base64,
    },
    Rule {
        name: "managed types take text data",
        property: "secret_data_type",
        check: managed_text_only,
    },
    Rule {
        name: "rotation only for managed types",
        property: "enable_automatic_rotation",
        check: rotation_managed_only,
    },
    Rule {
        name: "rotation_interval is <integer>s",
        property: "rotation_interval",
        check: interval_format,
    },
    Rule {
        name: "rotation_interval from 6 hours to 365 days",
        property: "rotation_interval",
        check: interval_range,
    },
    Rule {
        name: "rotation_interval needs rotation",
        property: "rotation_interval",
        check: interval_needs_rotation,
    },
    Rule {
        name: "Rds secret_data layout",
        property: "secret_data",
        check: rds_layout,
    },
    Rule {
        name: "RAMCredentials secret_data layout",
        property: "secret_data",
        check: ram_layout,
    },
    Rule {
        name: "ECS secret_data layout",
        property: "secret_data",
        check: ecs_layout,
    },
    Rule {
        name: "ECS needs SecretSubType",
        property: "extended_config",
        check: ecs_sub_type,
    },
    Rule {
        name: "extended_config is a JSON object",
        property: "extended_config",
        check: extended_config_json,
    },
    Rule {
        name: "policy is a JSON object",
        property: "policy",
        check: policy_json,
    },
    Rule {
        name: "custom data not for Generic",
        property: "extended_config_custom_data",
        check: custom_data_managed_only,
    },
    Rule {
        name: "custom_data not for Generic",
        property: "custom_data",
        check: legacy_custom_data_managed_only,
    },
    Rule {
        name: "version_stages holds ACSCurrent",
        property: "version_stages",
        check: stages_hold_current,
    },
    Rule {
        name: "exactly one of key_id, secret_name, certificate_id (key_id)",
        property: "key_id",
        check: no_key_id,
    },
    Rule {
        name: "exactly one of key_id, secret_name, certificate_id (certificate_id)",
        property: "certificate_id",
        check: no_certificate_id,
    },
];

fn secret_type(inputs: &PropertyMap) -> &str {
    str_prop(inputs, "secret_type").unwrap_or("Generic")
}

fn is_managed(inputs: &PropertyMap) -> bool {
    MANAGED.contains(&secret_type(inputs))
}

fn data_size(inputs: &PropertyMap) -> Option<String> {
    let len = data_of(inputs)?.len();
    (len > 30720).then(|| format!("must be at most 30720 bytes; it is {len} bytes"))
}

fn binary_is_base64(inputs: &PropertyMap) -> Option<String> {
    if str_prop(inputs, "secret_data_type") != Some("binary") {
        return None;
    }
    let data = data_of(inputs)?;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .is_err()
        .then(|| "must be base64 when secret_data_type is binary".to_string())
}

fn managed_text_only(inputs: &PropertyMap) -> Option<String> {
    (is_managed(inputs) && str_prop(inputs, "secret_data_type") == Some("binary"))
        .then(|| format!("must be text when secret_type is {}", secret_type(inputs)))
}

fn rotation_managed_only(inputs: &PropertyMap) -> Option<String> {
    (bool_prop(inputs, "enable_automatic_rotation") == Some(true) && !is_managed(inputs))
        .then(|| "automatic rotation is only supported when secret_type is Rds, RAMCredentials or ECS".to_string())
}

fn interval_format(inputs: &PropertyMap) -> Option<String> {
    let interval = str_prop(inputs, "rotation_interval")?;
    let valid = interval
        .strip_suffix('s')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    (!valid).then(|| "must be a whole number of seconds followed by s, such as 604800s".to_string())
}

/// KMS rotates at most every 6 hours and at least every 365 days (UpdateSecretRotationPolicy).
fn interval_range(inputs: &PropertyMap) -> Option<String> {
    let seconds: u64 = str_prop(inputs, "rotation_interval")?.strip_suffix('s')?.parse().ok()?;
    (!(6 * 3600..=365 * 24 * 3600).contains(&seconds))
        .then(|| "must be from 21600s (6 hours) to 31536000s (365 days)".to_string())
}

fn interval_needs_rotation(inputs: &PropertyMap) -> Option<String> {
    (is_set(inputs, "rotation_interval") && bool_prop(inputs, "enable_automatic_rotation") == Some(false))
        .then(|| "needs enable_automatic_rotation = true".to_string())
}

/// The value, from `secret_data` or `secret_data_wo`.
fn data_of(inputs: &PropertyMap) -> Option<&str> {
    str_prop(inputs, "secret_data").or_else(|| str_prop(inputs, "secret_data_wo"))
}

fn one_data_source(inputs: &PropertyMap) -> Option<String> {
    let (plain, write_only) = (
        inputs.contains_key("secret_data"),
        inputs.contains_key("secret_data_wo"),
    );
    match (plain, write_only) {
        (true, true) => Some("secret_data and secret_data_wo are exclusive: set only one".into()),
        (false, false) => Some("one of secret_data and secret_data_wo is required".into()),
        _ => None,
    }
}

fn wo_needs_version(inputs: &PropertyMap) -> Option<String> {
    (inputs.contains_key("secret_data_wo") && !inputs.contains_key("secret_data_wo_version"))
        .then(|| "secret_data_wo needs secret_data_wo_version, whose change stores a new value".to_string())
}

/// A new `secret_data` needs a new `version_id` (KMS never reuses a version id): refused in
/// `check`, before a preview promises an update that would fail.
fn new_data_needs_new_version(olds: &PropertyMap, news: &PropertyMap) -> Vec<Failure> {
    let changed = |field: &str| olds.get(field) != news.get(field);
    // A switch between secret_data and secret_data_wo stores a new version too.
    let known = |field: &str| !is_unknown_prop(news, field);
    if !(known("secret_data") && known("version_id") && changed("secret_data") && !changed("version_id")) {
        return vec![];
    }
    let reason = "secret_data changed but version_id did not: KMS stores each value as a new version, and version ids are never reused; change version_id together with secret_data";
    vec![Failure::new("secret_data", reason), Failure::new("version_id", reason)]
}

/// As [`new_data_needs_new_version`], for a new `secret_data_wo_version`.
fn new_wo_version_needs_new_version(olds: &PropertyMap, news: &PropertyMap) -> Vec<Failure> {
    let changed = |field: &str| olds.get(field) != news.get(field);
    if !(news.contains_key("secret_data_wo_version") && changed("secret_data_wo_version") && !changed("version_id")) {
        return vec![];
    }
    let reason = "secret_data_wo_version changed but version_id did not: the new value is stored as a new version, and version ids are never reused; change version_id too";
    vec![
        Failure::new("secret_data_wo_version", reason),
        Failure::new("version_id", reason),
    ]
}

/// The secret data as JSON, for the managed types whose layout is fixed.
fn data_json(inputs: &PropertyMap, wanted_type: &str) -> Option<Result<Value, ()>> {
    if secret_type(inputs) != wanted_type {
        return None;
    }
    Some(serde_json::from_str(data_of(inputs)?).map_err(|_| ()))
}

/// Whether `value[list]` is a non-empty array of objects each holding string `fields`.
fn list_of_records(value: &Value, list: &str, fields: &[&str]) -> bool {
    value[list]
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(|item| fields.iter().all(|f| item[*f].is_string())))
}

fn has_fields(value: &Value, fields: &[&str]) -> bool {
    fields.iter().all(|f| value[*f].is_string())
}

fn rds_layout(inputs: &PropertyMap) -> Option<String> {
    let ok =
        data_json(inputs, "Rds")?.is_ok_and(|v| list_of_records(&v, "Accounts", &["AccountName", "AccountPassword"]));
    (!ok).then(|| {
        r#"must be JSON of the form {"Accounts":[{"AccountName":"","AccountPassword":""}]} when secret_type is Rds"#
            .to_string()
    })
}

fn ram_layout(inputs: &PropertyMap) -> Option<String> {
    let ok = data_json(inputs, "RAMCredentials")?
        .is_ok_and(|v| list_of_records(&v, "AccessKeys", &["AccessKeyId", "AccessKeySecret"]));
    (!ok).then(|| r#"must be JSON of the form {"AccessKeys":[{"AccessKeyId":"","AccessKeySecret":""}]} when secret_type is RAMCredentials"#.to_string())
}

/// The `SecretSubType` of `extended_config`, if it parses.
fn ecs_sub_type_of(inputs: &PropertyMap) -> Option<String> {
    let config: Value = serde_json::from_str(str_prop(inputs, "extended_config")?).ok()?;
    config["SecretSubType"].as_str().map(str::to_owned)
}

fn ecs_layout(inputs: &PropertyMap) -> Option<String> {
    let parsed = data_json(inputs, "ECS")?;
    let (fields, shape): (&[&str], &str) = match ecs_sub_type_of(inputs).as_deref() {
        Some("SSHKey") => (
            &["UserName", "PublicKey", "PrivateKey"],
            r#"{"UserName":"","PublicKey":"","PrivateKey":""}"#,
        ),
        Some("Password") => (&["UserName", "Password"], r#"{"UserName":"","Password":""}"#),
        _ => return None, // ecs_sub_type reports the missing sub type
    };
    (!parsed.is_ok_and(|v| has_fields(&v, fields)))
        .then(|| format!("must be JSON of the form {shape} for ECS secrets of this SecretSubType"))
}

fn ecs_sub_type(inputs: &PropertyMap) -> Option<String> {
    if secret_type(inputs) != "ECS" || is_unknown_prop(inputs, "extended_config") {
        return None;
    }
    match ecs_sub_type_of(inputs).as_deref() {
        Some("Password" | "SSHKey") => None,
        _ => Some(r#"ECS secrets need extended_config with "SecretSubType" set to "Password" or "SSHKey""#.to_string()),
    }
}

fn json_object(inputs: &PropertyMap, name: &str) -> Option<String> {
    let text = str_prop(inputs, name)?;
    (!serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_object())).then(|| "must be a JSON object".to_string())
}

fn extended_config_json(inputs: &PropertyMap) -> Option<String> {
    json_object(inputs, "extended_config")
}

fn policy_json(inputs: &PropertyMap) -> Option<String> {
    json_object(inputs, "policy")
}

fn managed_only(inputs: &PropertyMap, name: &str) -> Option<String> {
    (is_set(inputs, name) && !is_managed(inputs)).then(|| {
        "normal (Generic) credentials do not support custom data; it needs secret_type Rds, RAMCredentials or ECS"
            .to_string()
    })
}

fn custom_data_managed_only(inputs: &PropertyMap) -> Option<String> {
    managed_only(inputs, "extended_config_custom_data")
}

fn legacy_custom_data_managed_only(inputs: &PropertyMap) -> Option<String> {
    managed_only(inputs, "custom_data")
}

fn exactly_one_of(inputs: &PropertyMap, name: &str) -> Option<String> {
    is_set(inputs, name).then(|| {
        format!("exactly one of key_id, secret_name and certificate_id may be set; this resource always sets secret_name, so {name} must be unset")
    })
}

fn stages_hold_current(inputs: &PropertyMap) -> Option<String> {
    let stages = inputs.get("version_stages")?.as_array()?;
    (!stages.iter().any(|s| s.as_str() == Some(CURRENT_STAGE))).then(|| {
        "must contain ACSCurrent: this resource reads its secret's current version, so a version without ACSCurrent would never match".to_string()
    })
}

fn no_key_id(inputs: &PropertyMap) -> Option<String> {
    exactly_one_of(inputs, "key_id")
}

fn no_certificate_id(inputs: &PropertyMap) -> Option<String> {
    exactly_one_of(inputs, "certificate_id")
}

#[async_trait]
impl Resource for AlicloudKmsSecret {
    const TYPE: &'static str = "alicloud_kms_secret";
    type Inputs = AlicloudKmsSecretInputs;
    type Outputs = AlicloudKmsSecretOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "alicloud",
            import: "The secret name. The secret value is read with GetSecretValue.",
            timeouts: Timeouts::FIVE_MINUTES,
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    /// An imported state lacks the recovery window, which every created state holds (`check`
    /// fills in its default): then none of [`NOT_READ`] is known, and the program's values are
    /// taken. A state without `policy` holds KMS's default one, which a program may spell out.
    fn absent_agrees(olds: &PropertyMap, property: &str, value: &Value) -> bool {
        let imported = olds.get("recovery_window_in_days").is_none_or(Value::is_null);
        let default_policy = || {
            let arn = str_prop(olds, "arn");
            property == "policy" && value.as_str().is_some_and(|p| is_default_policy(p, arn))
        };
        (imported && NOT_READ.contains(&property)) || default_policy()
    }

    /// KMS keeps a deleted secret's name through its recovery window, so a replacement under the
    /// same name would be refused: the ForceNew arguments change only together with the name.
    fn check_change(olds: &PropertyMap, news: &PropertyMap) -> Vec<Failure> {
        let mut failures = new_data_needs_new_version(olds, news);
        failures.extend(new_wo_version_needs_new_version(olds, news));
        if olds.get("secret_name") != news.get("secret_name") {
            return failures;
        }
        // JSON text (extended_config) is compared as JSON: KMS reformats what it stores.
        let set = |map: &PropertyMap, field: &str| {
            let value = map.get(field).filter(|v| !v.is_null())?;
            let json = value.as_str().and_then(|text| serde_json::from_str::<Value>(text).ok());
            Some(json.unwrap_or_else(|| value.clone()))
        };
        failures.extend(REPLACING_FIELDS
            .iter()
            // A computed argument the program leaves unset keeps what the cloud reported.
            .filter(|field| !(COMPUTED_REPLACING.contains(field) && set(news, field).is_none()))
            .filter(|field| set(olds, field) != set(news, field))
            .map(|field| {
                Failure::new(
                    *field,
                    "can only change together with secret_name: replacing the secret under the same name fails while the old one is in its recovery window; choose a new secret_name",
                )
            }));
        failures
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> CreateResult<Self::Outputs> {
        let kms = ctx.clouds.alicloud_kms()?;
        let name = inputs.secret_name.as_str();
        let data = inputs.value().map_err(ResourceError::from)?;
        let new = NewSecret {
            secret_name: name,
            secret_data: data,
            version_id: &inputs.version_id,
            secret_type: type_name(inputs.secret_type),
            secret_data_type: data_type_name(inputs.secret_data_type),
            encryption_key_id: inputs.encryption_key_id.as_deref(),
            dkms_instance_id: inputs.dkms_instance_id.as_deref(),
            extended_config: extended_config_with_custom_data(&inputs),
            enable_automatic_rotation: inputs.enable_automatic_rotation,
            rotation_interval: inputs.rotation_interval.as_deref(),
            policy: inputs.policy.as_deref(),
            description: inputs.description.as_deref(),
            tags: inputs.tags.as_ref(),
        };
        let started = chrono::Utc::now();
        let arn = match kms.create_secret(ctx, &new).await {
            Ok(arn) => arn,
            Err(e) if e.has_code("Rejected.ResourceExist") || e.has_code("Rejected.ResourceInDeleteWindow") => {
                return Err(name_taken(ctx, &kms, name, e).await.into());
            }
            // A lost or unreadable reply: the secret exists now if the call took effect. Someone
            // else may have created one of that name meanwhile: adopt it only if it is provably
            // this create's (our version, our data, created within the request's window).
            Err(e) if e.is_ambiguous() || matches!(e, CloudError::Decode { .. }) => {
                let window = Window::since(started);
                match made_by_this_create(ctx, &kms, &inputs, window).await {
                    Some(true) => None,
                    Some(false) => {
                        return Err(ProviderError::Explained {
                            message: format!(
                                "CreateSecret for {name} lost its reply, and the secret {name} that exists now differs from \
                                 this create's (version, data or creation time): someone else created it, so it was not \
                                 adopted; import it (id {name}) if it is yours, or choose another secret_name"
                            ),
                            source: e,
                        }
                        .into());
                    }
                    None => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let mut outputs = AlicloudKmsSecretOutputs {
            inputs: inputs.clone(),
            id: name.to_string(),
            create_time: None,
            arn,
            planned_delete_time: None,
            region: Some(kms.region().to_string()),
            endpoint: Some(kms.endpoint().to_string()),
        };
        let after_create = async {
            if let Some(policy) = &inputs.policy {
                kms.set_secret_policy(ctx, name, policy, &inputs.policy_name).await?;
            }
            // CreateSecret takes no stages: the initial version holds ACSCurrent, the others move onto it.
            for stage in inputs.version_stages.iter().flatten().filter(|s| *s != CURRENT_STAGE) {
                kms.update_version_stage(ctx, name, stage, Some(&inputs.version_id), None)
                    .await?;
            }
            if inputs.move_to_version.is_some() || inputs.remove_from_version.is_some() {
                kms.update_version_stage(
                    ctx,
                    name,
                    CURRENT_STAGE,
                    inputs.move_to_version.as_deref(),
                    inputs.remove_from_version.as_deref(),
                )
                .await?;
            }
            // CreateSecret answers neither the creation time nor the default key: DescribeSecret
            // does. The initial version holds ACSCurrent alone (as documented), so its stages are
            // read back only when this create moved stages; both reads then run at once.
            let moved = inputs.move_to_version.is_some()
                || inputs.remove_from_version.is_some()
                || inputs.version_stages.iter().flatten().any(|s| s != CURRENT_STAGE);
            if moved {
                let (described, value) =
                    futures_util::try_join!(kms.describe_secret(ctx, name), kms.get_secret_value(ctx, name))?;
                Ok::<_, CloudError>((described, value.version_stages.map(|s| s.version_stage)))
            } else {
                Ok((
                    kms.describe_secret(ctx, name).await?,
                    Some(vec![CURRENT_STAGE.to_string()]),
                ))
            }
        };
        match after_create.await {
            Ok((described, cloud_stages)) => {
                outputs.create_time = described.create_time;
                outputs.arn = described.arn.or(outputs.arn);
                outputs.inputs.version_stages = stages_in_our_order(cloud_stages, inputs.version_stages.as_deref());
                let cloud = |v: Option<String>| v.filter(|v| !v.is_empty());
                let (key, instance) = (
                    &mut outputs.inputs.encryption_key_id,
                    &mut outputs.inputs.dkms_instance_id,
                );
                *key = key.take().or_else(|| cloud(described.encryption_key_id));
                *instance = instance.take().or_else(|| cloud(described.dkms_instance_id));
                Ok((name.to_string(), outputs))
            }
            Err(e) => Err(ResourceError::partial(name, outputs, e.to_string())),
        }
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError> {
        let kms = match &outputs {
            Some(recorded) => recorded.kms(ctx)?,
            None => ctx.clouds.alicloud_kms()?,
        };
        let described = match kms.describe_secret(ctx, id).await {
            Ok(d) if d.is_pending_deletion() => return Ok(None),
            Ok(d) => d,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let value = match kms.get_secret_value(ctx, id).await {
            Ok(v) => v,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let importing = outputs.is_none();
        let prior = outputs.map(|o| o.inputs).or(inputs);
        let mut state = prior
            .clone()
            .unwrap_or_else(|| AlicloudKmsSecretInputs::imported(id, &value));
        // The cloud's current value wins: a value changed behind our back shows up as a diff.
        state.secret_name = described.secret_name.clone();
        // Managed types (Rds, RAMCredentials, ECS): the cloud rotates the value itself, so `read`
        // keeps the program's value and version, as Terraform ignores those changes; reporting the
        // rotated value would make the next `up` put the old one back, undoing the rotation.
        let cloud_rotates = !importing && MANAGED.contains(&type_name(state.secret_type));
        if !cloud_rotates {
            // A write-only value stays out of state: the version id alone shows a change behind our back.
            if state.secret_data_wo_version.is_none() {
                state.secret_data = Some(value.secret_data.clone());
            }
            state.version_id = value.version_id.clone();
        }
        if let Some(t) = value.secret_data_type.as_deref() {
            state.secret_data_type = if t == "binary" {
                SecretDataType::Binary
            } else {
                SecretDataType::Text
            };
        }
        if let Some(t) = described
            .secret_type
            .as_deref()
            .and_then(|t| serde_json::from_value(Value::String(t.into())).ok())
        {
            state.secret_type = t;
        }
        state.description = described.description.clone().filter(|d| !d.is_empty());
        state.enable_automatic_rotation = described.automatic_rotation.as_deref() == Some("Enabled");
        state.rotation_interval = described
            .rotation_interval
            .clone()
            .filter(|i| !i.is_empty() && state.enable_automatic_rotation);
        if importing {
            let (config, custom) = split_custom_data(described.extended_config.as_deref());
            state.extended_config = config;
            state.extended_config_custom_data = custom;
        }
        // Computed replacing arguments: the cloud's, where the program left them unset.
        let cloud = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        state.encryption_key_id = state.encryption_key_id.or_else(|| cloud(&described.encryption_key_id));
        state.dkms_instance_id = state.dkms_instance_id.or_else(|| cloud(&described.dkms_instance_id));
        let cloud_stages = value.version_stages.clone().map(|s| s.version_stage);
        state.version_stages = stages_in_our_order(cloud_stages, state.version_stages.as_deref());
        if state.extended_config_custom_data.is_some() || state.custom_data.is_some() {
            let custom = custom_data_of(described.extended_config.as_deref());
            if state.extended_config_custom_data.is_some() {
                state.extended_config_custom_data = custom.clone();
            }
            if state.custom_data.is_some() {
                state.custom_data = custom;
            }
        }
        // No `policy` means KMS's default one, so the default reads as none: a policy set behind
        // the program's back shows as drift, and so does one put back to the default. Policies
        // belong to secrets in a KMS instance; others are read only where the program set one.
        let in_instance = described.dkms_instance_id.as_deref().is_some_and(|i| !i.is_empty());
        if importing || state.policy.is_some() || in_instance {
            let arn = described.arn.as_deref();
            state.policy = match kms.get_secret_policy(ctx, id, &state.policy_name).await {
                Ok(p) => p.filter(|p| !p.is_empty()).and_then(|cloud| {
                    // A program that spells out the default keeps it.
                    let ours = state.policy.as_deref();
                    let kept = same_json_or(cloud, ours);
                    (ours == Some(kept.as_str()) || !is_default_policy(&kept, arn)).then_some(kept)
                }),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            };
        }
        let tags = kms.list_tags(ctx, id).await?;
        state.tags = (!tags.is_empty() || state.tags.is_some()).then_some(tags);
        let outputs = AlicloudKmsSecretOutputs {
            inputs: state.clone(),
            id: described.secret_name.clone(),
            create_time: described.create_time,
            arn: described.arn,
            planned_delete_time: described.planned_delete_time.filter(|t| !t.is_empty()),
            region: Some(kms.region().to_string()),
            endpoint: Some(kms.endpoint().to_string()),
        };
        Ok(Some(Found {
            id: described.secret_name,
            inputs: state,
            outputs,
        }))
    }

    /// Up to seven calls, in order. Each success is copied into `now`, the secret as it is, so
    /// that a call failing after another succeeded answers a partial result (-32004) holding the
    /// outputs as they now are: the state stays true and the next update redoes only the rest.
    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError<Self::Outputs>> {
        let kms = olds.kms(ctx)?;
        let mut news = news;
        // Computed arguments the program leaves unset keep what the cloud reported.
        news.encryption_key_id = news.encryption_key_id.or_else(|| olds.inputs.encryption_key_id.clone());
        news.dkms_instance_id = news.dkms_instance_id.or_else(|| olds.inputs.dkms_instance_id.clone());
        if news.enable_automatic_rotation {
            news.rotation_interval = news.rotation_interval.or_else(|| olds.inputs.rotation_interval.clone());
        }
        let old = &olds.inputs;
        let data_changed =
            old.secret_data != news.secret_data || old.secret_data_wo_version != news.secret_data_wo_version;
        if data_changed && old.version_id == news.version_id {
            return Err(ProviderError::invalid(
                "version_id",
                "a new secret_data needs a new version_id: KMS stores each value as a version, and version ids are never reused",
            )
            .into());
        }
        // Settings no cloud call holds (they act at delete) are true as soon as they are recorded.
        let mut now = AlicloudKmsSecretInputs {
            recovery_window_in_days: news.recovery_window_in_days,
            force_delete_without_recovery: news.force_delete_without_recovery,
            ..old.clone()
        };
        let mut progress = Progress {
            id,
            olds: &olds,
            steps: 0,
        };
        let new_version = data_changed || old.version_id != news.version_id;
        if new_version {
            let data_type = data_type_name(news.secret_data_type);
            let stages = news.version_stages.as_deref();
            let data = news.value()?.expose();
            let put = kms
                .put_secret_value(ctx, id, &news.version_id, data, data_type, stages)
                .await;
            progress.step(&now, put)?;
            now.secret_data = news.secret_data.clone();
            now.secret_data_wo_version = news.secret_data_wo_version;
            now.version_id = news.version_id.clone();
            now.secret_data_type = news.secret_data_type;
            now.version_stages = Some(
                news.version_stages
                    .clone()
                    .unwrap_or_else(|| vec![CURRENT_STAGE.to_string()]),
            );
        }
        match (news.version_stages.clone(), old.version_stages.clone()) {
            (Some(new_stages), Some(old_stages)) if !new_version && new_stages != old_stages => {
                for stage in new_stages.iter().filter(|s| !old_stages.contains(s)) {
                    let moved = kms
                        .update_version_stage(ctx, id, stage, Some(&news.version_id), None)
                        .await;
                    progress.step(&now, moved)?;
                    now.version_stages.get_or_insert_with(Vec::new).push(stage.clone());
                }
                for stage in old_stages.iter().filter(|s| !new_stages.contains(s)) {
                    let removed = kms
                        .update_version_stage(ctx, id, stage, None, Some(&news.version_id))
                        .await;
                    progress.step(&now, removed)?;
                    now.version_stages.get_or_insert_with(Vec::new).retain(|s| s != stage);
                }
                now.version_stages = Some(new_stages);
            }
            (None, Some(_)) if !new_version => news.version_stages = old.version_stages.clone(),
            (None, _) => news.version_stages = Some(vec![CURRENT_STAGE.to_string()]),
            _ => {}
        }
        let custom = news.extended_config_custom_data.as_ref().or(news.custom_data.as_ref());
        let old_custom = old.extended_config_custom_data.as_ref().or(old.custom_data.as_ref());
        let description_changed = old.description != news.description;
        if description_changed || custom != old_custom {
            let description = description_changed.then(|| news.description.as_deref().unwrap_or(""));
            let custom = if custom != old_custom {
                Some(custom.cloned().unwrap_or_default())
            } else {
                None
            };
            let updated = kms.update_secret(ctx, id, description, custom.as_ref()).await;
            progress.step(&now, updated)?;
            now.description = news.description.clone();
            now.extended_config_custom_data = news.extended_config_custom_data.clone();
            now.custom_data = news.custom_data.clone();
        }
        if old.enable_automatic_rotation != news.enable_automatic_rotation
            || old.rotation_interval != news.rotation_interval
        {
            let rotation = kms
                .update_rotation_policy(
                    ctx,
                    id,
                    news.enable_automatic_rotation,
                    news.rotation_interval.as_deref(),
                )
                .await;
            progress.step(&now, rotation)?;
            now.enable_automatic_rotation = news.enable_automatic_rotation;
            now.rotation_interval = news.rotation_interval.clone();
        }
        if old.policy != news.policy || (news.policy.is_some() && old.policy_name != news.policy_name) {
            // No policy is KMS's default policy: removing `policy` puts the default back.
            let policy = match &news.policy {
                Some(policy) => policy.clone(),
                None => default_policy(olds.arn.as_deref()).map_err(ResourceError::from)?,
            };
            let set = kms.set_secret_policy(ctx, id, &policy, &news.policy_name).await;
            progress.step(&now, set)?;
            now.policy = news.policy.clone();
            now.policy_name = news.policy_name.clone();
        }
        let stage_changed =
            old.move_to_version != news.move_to_version || old.remove_from_version != news.remove_from_version;
        if stage_changed && (news.move_to_version.is_some() || news.remove_from_version.is_some()) {
            let moved = kms
                .update_version_stage(
                    ctx,
                    id,
                    CURRENT_STAGE,
                    news.move_to_version.as_deref(),
                    news.remove_from_version.as_deref(),
                )
                .await;
            progress.step(&now, moved)?;
            now.move_to_version = news.move_to_version.clone();
            now.remove_from_version = news.remove_from_version.clone();
        }
        let (old_tags, new_tags) = (
            old.tags.clone().unwrap_or_default(),
            news.tags.clone().unwrap_or_default(),
        );
        let removed: Vec<&String> = old_tags.keys().filter(|k| !new_tags.contains_key(*k)).collect();
        if !removed.is_empty() {
            let untagged = kms.untag_resource(ctx, id, &removed).await;
            progress.step(&now, untagged)?;
            let kept: BTreeMap<String, String> = old_tags
                .iter()
                .filter(|(k, _)| new_tags.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            now.tags = (!kept.is_empty() || news.tags.is_some()).then_some(kept);
        }
        let added: BTreeMap<String, String> = new_tags
            .iter()
            .filter(|(k, v)| old_tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !added.is_empty() {
            let tagged = kms.tag_resource(ctx, id, &added).await;
            progress.step(&now, tagged)?;
        }
        Ok(AlicloudKmsSecretOutputs { inputs: news, ..olds })
    }
    /// Deletes with the recovery window of `recovery_window_in_days`. A replacement always has a
    /// new name (`check_change` refuses one that keeps it), so the recoverable deletion never
    /// blocks the create of its replacement.
    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let kms = outputs.kms(ctx)?;
        let inputs = &outputs.inputs;
        let force = inputs.force_delete_without_recovery.unwrap_or(false);
        let window = inputs.recovery_window_in_days.unwrap_or(DEFAULT_RECOVERY_WINDOW);
        match kms.delete_secret(ctx, id, window, force).await {
            Err(e) if is_gone(&e) => Ok(()),
            other => Ok(other?),
        }
    }
}

/// How far an update got: once one of its calls has succeeded, a failure is a partial result.
struct Progress<'a> {
    id: &'a str,
    olds: &'a AlicloudKmsSecretOutputs,
    /// The calls that succeeded so far.
    steps: usize,
}

impl Progress<'_> {
    /// Counts a call that succeeded. A failed one ends the update: with its error while nothing
    /// has changed yet, else with the partial result whose outputs are `now`.
    fn step(
        &mut self,
        now: &AlicloudKmsSecretInputs,
        result: Result<(), CloudError>,
    ) -> Result<(), ResourceError<AlicloudKmsSecretOutputs>> {
        match result {
            Ok(()) => {
                self.steps += 1;
                Ok(())
            }
            Err(e) if self.steps == 0 => Err(e.into()),
            Err(e) => {
                let outputs = AlicloudKmsSecretOutputs {
                    inputs: now.clone(),
                    ..self.olds.clone()
                };
                let reason = format!("the update stopped after {} of its calls succeeded: {e}", self.steps);
                Err(ResourceError::partial(self.id, outputs, reason))
            }
        }
    }
}

/// The policy KMS gives a new secret (SetSecretPolicy's documented default): every RAM identity
/// of the account that owns the secret, whose id is the fourth field of the secret's ARN
/// (`acs:kms:<region>:<account>:secret/<name>`).
fn default_policy(arn: Option<&str>) -> Result<String, ProviderError> {
    let account = arn
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|account| !account.is_empty())
        .ok_or_else(|| {
            ProviderError::Internal(
                "the default policy needs the account, from the secret's arn, which is unknown".into(),
            )
        })?;
    Ok(
        serde_json::json!({"Version": "1", "Statement": [{"Sid": "kms default secret policy", "Effect": "Allow",
        "Principal": {"RAM": [format!("acs:ram::{account}:*")]}, "Action": ["kms:*"], "Resource": ["*"]}]})
        .to_string(),
    )
}

/// Whether `policy` means KMS's default policy for the secret `arn`.
fn is_default_policy(policy: &str, arn: Option<&str>) -> bool {
    let parse = |s: &str| serde_json::from_str::<Value>(s).ok();
    default_policy(arn).is_ok_and(|default| parse(&default).is_some() && parse(&default) == parse(policy))
}

impl AlicloudKmsSecretInputs {
    /// The value to send: `secret_data`, else the write-only `secret_data_wo`.
    fn value(&self) -> Result<&Secret<String>, ProviderError> {
        self.secret_data
            .as_ref()
            .or(self.secret_data_wo.as_ref())
            .ok_or_else(|| ProviderError::invalid("secret_data", "one of secret_data and secret_data_wo is required"))
    }

    /// The inputs of an imported secret, before the cloud's values fill them.
    fn imported(name: &str, value: &SecretValue) -> Self {
        AlicloudKmsSecretInputs {
            secret_name: name.to_string(),
            secret_data: Some(value.secret_data.clone()),
            secret_data_wo: None,
            secret_data_wo_version: None,
            version_id: value.version_id.clone(),
            secret_type: SecretType::Generic,
            secret_data_type: SecretDataType::Text,
            description: None,
            encryption_key_id: None,
            dkms_instance_id: None,
            extended_config: None,
            extended_config_custom_data: None,
            custom_data: None,
            enable_automatic_rotation: false,
            rotation_interval: None,
            policy: None,
            policy_name: default_policy_name(),
            recovery_window_in_days: None,
            version_stages: None,
            force_delete_without_recovery: None,
            move_to_version: None,
            remove_from_version: None,
            tags: None,
            key_id: None,
            certificate_id: None,
        }
    }
}

fn type_name(t: SecretType) -> &'static str {
    match t {
        SecretType::Generic => "Generic",
        SecretType::Rds => "Rds",
        SecretType::RamCredentials => "RAMCredentials",
        SecretType::Ecs => "ECS",
    }
}

fn data_type_name(t: SecretDataType) -> &'static str {
    match t {
        SecretDataType::Text => "text",
        SecretDataType::Binary => "binary",
    }
}

/// `extended_config` with the custom data merged in as its `CustomData`, as CreateSecret takes it.
fn extended_config_with_custom_data(inputs: &AlicloudKmsSecretInputs) -> Option<String> {
    let custom = inputs
        .extended_config_custom_data
        .as_ref()
        .or(inputs.custom_data.as_ref());
    let Some(custom) = custom else {
        return inputs.extended_config.clone();
    };
    let mut config: serde_json::Map<String, Value> = inputs
        .extended_config
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    config.insert("CustomData".into(), serde_json::to_value(custom).unwrap_or_default());
    Some(Value::Object(config).to_string())
}

/// An extended configuration as the inputs hold it: without its `CustomData`, which is
/// `extended_config_custom_data` (CreateSecret takes both merged; see
/// `extended_config_with_custom_data`).
fn split_custom_data(extended_config: Option<&str>) -> (Option<String>, Option<BTreeMap<String, String>>) {
    let Some(text) = extended_config.filter(|c| !c.is_empty()) else {
        return (None, None);
    };
    let Ok(Value::Object(mut config)) = serde_json::from_str::<Value>(text) else {
        return (Some(text.to_string()), None);
    };
    let custom = config
        .remove("CustomData")
        .and_then(|c| serde_json::from_value::<BTreeMap<String, String>>(c).ok())
        .filter(|c| !c.is_empty());
    let config = (!config.is_empty()).then(|| Value::Object(config).to_string());
    (config, custom)
}

/// The `CustomData` object of an extended configuration.
fn custom_data_of(extended_config: Option<&str>) -> Option<BTreeMap<String, String>> {
    let config: Value = serde_json::from_str(extended_config?).ok()?;
    serde_json::from_value(config.get("CustomData")?.clone()).ok()
}

/// The cloud's stages, in the program's order when they are the same set: a version's stages
/// are a set, which KMS lists in an order of its own.
fn stages_in_our_order(cloud: Option<Vec<String>>, ours: Option<&[String]>) -> Option<Vec<String>> {
    let set = |stages: &[String]| stages.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    match (cloud, ours) {
        (Some(cloud), Some(ours)) if set(&cloud) == set(ours) => Some(ours.to_vec()),
        (cloud, _) => cloud,
    }
}

/// The cloud's JSON text, unless it means the same JSON as `ours` (the cloud may reformat it).
fn same_json_or(cloud: String, ours: Option<&str>) -> String {
    let parse = |s: &str| serde_json::from_str::<Value>(s).ok();
    match ours {
        Some(ours) if parse(ours).is_some() && parse(ours) == parse(&cloud) => ours.to_string(),
        _ => cloud,
    }
}

/// After an ambiguous CreateSecret: whether the secret called `inputs.secret_name` is the one this
/// create made (`None` when there is none, or it cannot be read): its current version is ours,
/// holds our data, and was created within `window`.
async fn made_by_this_create(
    ctx: &Context,
    kms: &KmsClient,
    inputs: &AlicloudKmsSecretInputs,
    window: Window,
) -> Option<bool> {
    let name = inputs.secret_name.as_str();
    let value = kms.get_secret_value(ctx, name).await.ok()?;
    let described = kms.describe_secret(ctx, name).await.ok()?;
    Some(
        value.version_id == inputs.version_id
            && inputs.value().is_ok_and(|data| value.secret_data == *data)
            && window.contains(described.create_time.as_deref()),
    )
}

/// A secret that is gone, or in its deletion window, which counts as gone.
fn is_gone(e: &CloudError) -> bool {
    e.is_not_found() || e.has_code("Rejected.ResourceInDeleteWindow")
}

/// The explained error of a CreateSecret whose name is taken, by a live secret or by one in its
/// deletion window.
async fn name_taken(ctx: &Context, kms: &KmsClient, name: &str, source: CloudError) -> ProviderError {
    let message = match kms.describe_secret(ctx, name).await {
        Ok(d) if d.is_pending_deletion() => format!(
            "secret {name} is scheduled for deletion; restore it with RestoreSecret, wait until {}, or choose another secret_name",
            d.planned_delete_time.unwrap_or_default()
        ),
        Err(e) if e.has_code("Rejected.ResourceInDeleteWindow") => format!(
            "secret {name} is scheduled for deletion; restore it with RestoreSecret, wait until its deletion window ends, or choose another secret_name"
        ),
        _ => format!("secret {name} already exists; import it (id {name}) or choose another secret_name"),
    };
    ProviderError::Explained { message, source }
}
