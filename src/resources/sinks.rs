//! Secret sinks of the access key types (`aws_iam_access_key`, `alicloud_ram_access_key`): a new
//! key's secret goes straight to where it is used (a file, an AWS credentials profile, an Alibaba
//! Cloud KMS secret), and with `store_secret_in_state: false` the state keeps only the key id and
//! a fingerprint of the secret (Crossplane's connection secrets, for credentials).
//!
//! Order of a create: [`precheck`] (files writable, before a key exists), the key is minted,
//! [`deliver`] to every sink, then [`seal`] drops the secret from the outputs. A sink that fails
//! leaves the key partially created *with* its secret in the outputs, since that copy is then the
//! only one. Deleting the key withdraws it from the file and the profile ([`withdraw`]) when they
//! still hold it; a KMS secret keeps its versions (it is the destination, and outlives the key).

use super::Context;
use super::rules::{Rule, bool_prop, is_set, str_prop};
use crate::protocol::PropertyMap;
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use crate::secrets::secret_file::{self, Credential, Format};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where a new key's secret goes, and whether the state keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    /// Write the new key (id and secret) to this file, atomically with mode 0600, in
    /// `sink_file_format`. Checked writable before the key is created; a symlink or a non-regular
    /// file is refused. Deleting the key removes the file when it still holds this key. Changing
    /// it replaces the key (the old secret may not be in the state to write again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1))]
    pub sink_file: Option<String>,
    /// The layout of `sink_file`: `json` (default: `{"AccessKeyId", "SecretAccessKey"}` for AWS,
    /// `{"AccessKeyId", "AccessKeySecret"}` for Alibaba Cloud), `dotenv` (`AWS_ACCESS_KEY_ID=...`,
    /// or `ALIBABA_CLOUD_ACCESS_KEY_ID=...`), or `aws-credentials` (a shared credentials file with
    /// the one profile `default`; to add a profile to a file with others, use `sink_aws_profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub sink_file_format: Option<SinkFormat>,
    /// Put the new key into this profile of an AWS shared credentials file
    /// (`sink_aws_credentials_file`), keeping the file's other profiles and the profile's other
    /// settings (comments are not kept); written atomically with mode 0600. Deleting the key
    /// removes its two lines when the profile still holds this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 128))]
    pub sink_aws_profile: Option<String>,
    /// The credentials file of `sink_aws_profile`. Default: `$AWS_SHARED_CREDENTIALS_FILE`, else
    /// `~/.aws/credentials`, as the provider process sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1))]
    pub sink_aws_credentials_file: Option<String>,
    /// Store the new key in this Alibaba Cloud KMS secret (Secrets Manager), as the JSON of
    /// `sink_file_format` `json`, under a version named after the key id (a rotation adds a
    /// version, which becomes `ACSCurrent`). A secret that does not exist is created (`Generic`,
    /// with the provider's default KMS key). Deleting the key leaves the KMS secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 192))]
    pub sink_kms_secret: Option<String>,
    /// Whether the state (and every reply) holds the secret. Default `true`. With `false`, at least
    /// one sink is needed, and the state keeps only the key id and `secret_fingerprint`: the
    /// secret attributes are absent, so dependents must read the secret from its sink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub store_secret_in_state: Option<bool>,
}

/// The layout of a sink file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SinkFormat {
    /// A JSON object with the key id and secret.
    #[serde(rename = "json")]
    Json,
    /// `NAME=value` lines.
    #[serde(rename = "dotenv")]
    Dotenv,
    /// An AWS shared credentials file with one profile.
    #[serde(rename = "aws-credentials")]
    AwsCredentials,
}

/// What the sinks left in the state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Delivered {
    /// With a sink or `store_secret_in_state: false`: `sha256:` and the first 16 hex digits of the
    /// SHA-256 of the secret, to tell which key a sink holds without the secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub secret_fingerprint: Option<String>,
}

/// The names a cloud's tools give a key's id and secret.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// JSON field names.
    pub json: (&'static str, &'static str),
    /// Environment variable names.
    pub env: (&'static str, &'static str),
}

/// AWS's names (the CLI's and the SDKs').
pub const AWS: Names = Names {
    json: ("AccessKeyId", "SecretAccessKey"),
    env: ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
};

/// Alibaba Cloud's names (its credentials SDK's).
pub const ALICLOUD: Names = Names {
    json: ("AccessKeyId", "AccessKeySecret"),
    env: ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
};

/// The sink rules, one row each.
pub const RULES: [Rule; 4] = [
    Rule {
        name: "sink_file_format needs sink_file",
        property: "sink_file_format",
        check: format_needs_file,
    },
    Rule {
        name: "sink_aws_credentials_file needs sink_aws_profile",
        property: "sink_aws_credentials_file",
        check: credentials_file_needs_profile,
    },
    Rule {
        name: "sink_aws_profile is a profile name",
        property: "sink_aws_profile",
        check: profile_name,
    },
    Rule {
        name: "store_secret_in_state false needs a sink",
        property: "store_secret_in_state",
        check: unstored_needs_a_sink,
    },
];

fn format_needs_file(inputs: &PropertyMap) -> Option<String> {
    (is_set(inputs, "sink_file_format") && !inputs.contains_key("sink_file"))
        .then(|| "is set but sink_file is not: give the file to write".into())
}

fn credentials_file_needs_profile(inputs: &PropertyMap) -> Option<String> {
    (is_set(inputs, "sink_aws_credentials_file") && !inputs.contains_key("sink_aws_profile"))
        .then(|| "is set but sink_aws_profile is not: name the profile to write".into())
}

fn profile_name(inputs: &PropertyMap) -> Option<String> {
    let name = str_prop(inputs, "sink_aws_profile")?;
    (name.trim() != name || name.contains(['[', ']', '\n', '\r', '=', ';', '#']))
        .then(|| "must be a profile name: no surrounding spaces, brackets, '=', ';', '#' or line breaks".into())
}

fn unstored_needs_a_sink(inputs: &PropertyMap) -> Option<String> {
    let sinks = ["sink_file", "sink_aws_profile", "sink_kms_secret", "secret_file"];
    (bool_prop(inputs, "store_secret_in_state") == Some(false) && !sinks.iter().any(|s| inputs.contains_key(*s)))
        .then(|| "is false but no sink is set (sink_file, sink_aws_profile or sink_kms_secret): nobody could ever read the secret".into())
}

impl Delivery {
    /// Whether any sink is set.
    fn any(&self) -> bool {
        self.sink_file.is_some() || self.sink_aws_profile.is_some() || self.sink_kms_secret.is_some()
    }

    /// Whether the state keeps the secret.
    pub fn keeps_secret(&self) -> bool {
        self.store_secret_in_state != Some(false)
    }

    fn credentials_file(&self) -> Option<PathBuf> {
        self.sink_aws_profile.as_ref()?;
        match &self.sink_aws_credentials_file {
            Some(path) => Some(PathBuf::from(path)),
            None => default_credentials_file(),
        }
    }
}

/// `$AWS_SHARED_CREDENTIALS_FILE`, else `$HOME/.aws/credentials` (the AWS CLI's order).
fn default_credentials_file() -> Option<PathBuf> {
    match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => std::env::var_os("HOME").map(|home| Path::new(&home).join(".aws").join("credentials")),
    }
}

/// Fails, naming the input, when a sink file could not be written: run before a key is minted.
pub fn precheck(delivery: &Delivery) -> Result<(), ProviderError> {
    if let Some(path) = &delivery.sink_file {
        secret_file::check_writable(Path::new(path))
            .map_err(|e| ProviderError::invalid("sink_file", format!("cannot write {path}: {e}")))?;
    }
    if delivery.sink_aws_profile.is_some() {
        let path = delivery.credentials_file().ok_or_else(|| {
            ProviderError::invalid(
                "sink_aws_credentials_file",
                "is not set, and neither AWS_SHARED_CREDENTIALS_FILE nor HOME names a default",
            )
        })?;
        secret_file::check_writable(&path).map_err(|e| {
            ProviderError::invalid(
                "sink_aws_credentials_file",
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}

/// Delivers the new key `id` with `secret` to every sink. The error is the reason, for a partial
/// result; it never holds the secret.
pub async fn deliver(
    ctx: &Context,
    delivery: &Delivery,
    names: Names,
    id: &str,
    secret: &Secret<String>,
) -> Result<(), String> {
    let profile = delivery.sink_aws_profile.as_deref().unwrap_or("default");
    let whole_file = Credential {
        id,
        secret: secret.expose(),
        json_names: names.json,
        env_names: names.env,
        profile: "default",
    };
    let credential = Credential {
        id,
        secret: secret.expose(),
        json_names: names.json,
        env_names: names.env,
        profile,
    };
    if let Some(path) = &delivery.sink_file {
        let format = match delivery.sink_file_format.unwrap_or(SinkFormat::Json) {
            SinkFormat::Json => Format::Json,
            SinkFormat::Dotenv => Format::Dotenv,
            SinkFormat::AwsCredentials => Format::AwsCredentials,
        };
        secret_file::render(format, &whole_file)
            .and_then(|text| secret_file::write_private(Path::new(path), text.as_bytes()))
            .map_err(|e| format!("writing sink_file {path} failed: {e}"))?;
    }
    if let Some(path) = delivery.credentials_file() {
        secret_file::upsert_profile(&path, &credential)
            .map_err(|e| format!("writing profile {profile} of {} failed: {e}", path.display()))?;
    }
    if let Some(name) = &delivery.sink_kms_secret {
        let value = Secret::new(
            secret_file::render(Format::Json, &credential)
                .map_err(|e| format!("rendering the KMS value failed: {e}"))?,
        );
        put_kms(ctx, name, id, &value)
            .await
            .map_err(|e| format!("storing the key in KMS secret {name} failed: {e}"))?;
    }
    Ok(())
}

/// Puts `value` as version `id` of the KMS secret `name` (the current one), creating the secret
/// when it does not exist.
async fn put_kms(ctx: &Context, name: &str, id: &str, value: &Secret<String>) -> Result<(), ProviderError> {
    let kms = ctx.clouds.alicloud_kms()?;
    match kms.describe_secret(ctx, name).await {
        Ok(_) => Ok(kms
            .put_secret_value(ctx, name, id, value.expose(), "text", None)
            .await?),
        Err(e) if e.is_not_found() => {
            let new = crate::cloud::alicloud::kms::NewSecret {
                secret_name: name,
                secret_data: value,
                version_id: id,
                secret_type: "Generic",
                secret_data_type: "text",
                encryption_key_id: None,
                dkms_instance_id: None,
                extended_config: None,
                enable_automatic_rotation: false,
                rotation_interval: None,
                policy: None,
                description: Some("an access key delivered by credplane"),
                tags: None,
            };
            kms.create_secret(ctx, &new).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// After delivery: the fingerprint to record (with a sink or an unstored secret), and whether the
/// outputs keep the secret.
pub fn seal(delivery: &Delivery, secret: &Secret<String>, delivered: &mut Delivered) -> bool {
    if delivery.any() || !delivery.keeps_secret() {
        delivered.secret_fingerprint = Some(secret.fingerprint());
    }
    delivery.keeps_secret()
}

/// On delete: removes the key `id` from the sink file and the profile when they still hold it.
/// Failures are logged, not raised: the key itself is gone.
pub fn withdraw(delivery: &Delivery, id: &str) {
    if let Some(path) = &delivery.sink_file
        && let Err(e) = secret_file::remove_private(Path::new(path), id)
    {
        tracing::warn!(path = %path, error = %e, "the key is deleted but its sink_file was not removed");
    }
    if let (Some(profile), Some(path)) = (&delivery.sink_aws_profile, delivery.credentials_file())
        && let Err(e) = secret_file::remove_profile(&path, profile, id)
    {
        tracing::warn!(path = %path.display(), error = %e, "the key is deleted but its profile was not removed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failures(inputs: serde_json::Value) -> Vec<&'static str> {
        let map = inputs.as_object().unwrap().clone();
        RULES
            .iter()
            .filter(|r| (r.check)(&map).is_some())
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn rules() {
        assert!(failures(json!({"sink_file": "/tmp/k", "sink_file_format": "dotenv"})).is_empty());
        assert_eq!(
            failures(json!({"sink_file_format": "dotenv"})),
            ["sink_file_format needs sink_file"]
        );
        assert_eq!(
            failures(json!({"sink_aws_credentials_file": "/c"})),
            ["sink_aws_credentials_file needs sink_aws_profile"]
        );
        assert_eq!(
            failures(json!({"sink_aws_profile": "a]b"})),
            ["sink_aws_profile is a profile name"]
        );
        assert_eq!(
            failures(json!({"store_secret_in_state": false})),
            ["store_secret_in_state false needs a sink"]
        );
        assert!(failures(json!({"store_secret_in_state": false, "sink_kms_secret": "s"})).is_empty());
        assert!(failures(json!({"store_secret_in_state": true})).is_empty());
    }

    #[test]
    fn sealing() {
        let secret = Secret::new("abc".to_string());
        let mut delivered = Delivered::default();
        assert!(seal(&Delivery::default(), &secret, &mut delivered));
        assert_eq!(delivered.secret_fingerprint, None, "no sink, nothing new in the state");
        let unstored = Delivery {
            sink_kms_secret: Some("s".into()),
            store_secret_in_state: Some(false),
            ..Default::default()
        };
        assert!(!seal(&unstored, &secret, &mut delivered));
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(delivered.secret_fingerprint.as_deref(), Some("sha256:ba7816bf8f01cfea"));
    }
}
