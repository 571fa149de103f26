//! `alicloud_ram_access_key`: an AccessKey of an Alibaba Cloud RAM user.

use super::access_key::{self, KeyApi, KeyInfo, KeyStatus, Minted, NewKey, pgp_key_form};
use super::rotation::{self, Known, ROTATE_AFTER_RULE, Rotation};
use super::rules::{Rule, str_prop};
use super::sinks::{self, Delivered, Delivery};
use super::{Context, CreateResult, Found, Resource, ResourceError, ResourceInfo, Timeouts};
use crate::cloud::alicloud::ram::RamClient;
use crate::cloud::error::CloudError;
use crate::protocol::PropertyMap;
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use crate::secrets::pgp_source::resolve_pgp_key;
use crate::secrets::secret_file::{check_writable, write_private};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Provides a RAM Access Key resource. The access key secret is returned in `secret`, flagged
/// secret, and so kept (encrypted) in the state; set `pgp_key` to keep only its PGP-encrypted form
/// instead. `secret_file` writes it to a file as well: it does not keep it out of the state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
// Unknown properties are refused by the schema (`check`), not by serde: the flattened rotation
// and sink arguments make serde hand every state field to the inputs of a flattened state.
#[schemars(deny_unknown_fields)]
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
    /// The name of a file that saves the access key id and access key secret, as JSON with the
    /// fields the Terraform provider writes (`{"AccessKeyId", "AccessKeySecret", "Status",
    /// "CreateDate"}`), so that existing scripts read it. Strongly suggest you to specify it when
    /// you create the access key, otherwise you would not get its secret ever. credplane writes it
    /// atomically with mode 0600, and checks that it can be written before the key is created; a
    /// symlink or a non-regular file is refused. Deleting the resource removes the file too (when
    /// it still holds this key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true), length(min = 1))]
    pub secret_file: Option<String>,
    /// Either a base-64 encoded PGP public key, an ASCII-armored public key, a keybase username in
    /// the form `keybase:some_person_that_exists`, or `external:<name>|<url>`. When set, the
    /// secret is returned only encrypted, in `encrypted_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub pgp_key: Option<String>,
    /// Built-in rotation: `rotate_after` and `keepers`.
    #[serde(flatten)]
    pub rotation: Rotation,
    /// Secret sinks and `store_secret_in_state`.
    #[serde(flatten)]
    pub delivery: Delivery,
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
    /// Whether the secret attributes were available to this state: `false` after an import, as
    /// RAM never returns a secret again (as `aws_iam_access_key`'s `secrets_available`).
    #[serde(default = "yes")]
    #[schemars(extend("x-computed" = true))]
    pub secrets_available: bool,
    /// What the sinks leave in the state.
    #[serde(flatten)]
    pub delivered: Delivered,
}

fn yes() -> bool {
    true
}

/// The `alicloud_ram_access_key` resource.
pub struct AlicloudRamAccessKey;

const RULES: &[Rule] = &[
    Rule {
        name: "pgp_key form",
        property: "pgp_key",
        check: pgp_key_form,
    },
    Rule {
        name: "secret_file is a file path",
        property: "secret_file",
        check: secret_file_path,
    },
    ROTATE_AFTER_RULE,
    sinks::RULES[0],
    sinks::RULES[1],
    sinks::RULES[2],
    sinks::RULES[3],
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
            import: "`<user_name>:<access_key_id>` (or the key id alone for the provider's own identity). The secret is not available for imported resources; the program's `pgp_key` and `secret_file` are taken as they are, without a change.",
            timeouts: Timeouts::FIVE_MINUTES,
        }
    }

    /// An imported key (`secrets_available` false) holds no secret: the create-time `pgp_key`
    /// and `secret_file` of the program have nothing to differ from, and are taken as they are.
    fn absent_agrees(olds: &PropertyMap, property: &str, _value: &serde_json::Value) -> bool {
        olds.get("secrets_available") == Some(&serde_json::Value::Bool(false))
            && matches!(property, "pgp_key" | "secret_file")
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    async fn diff_in_cloud(
        &self,
        ctx: &super::LazyContext<'_>,
        id: &str,
        olds: &PropertyMap,
        news: &PropertyMap,
        diff: &mut crate::protocol::DiffResponse,
    ) -> Result<(), ProviderError> {
        let user = rotation::known_str(news, "user_name");
        // The key id alone: an imported id is `<user>:<key>`.
        let key = id.rsplit(':').next().unwrap_or(id);
        rotation::plan(ctx, key, olds, news, "create_time", diff, |ctx| async move {
            let user = match user {
                Known::Unknown => return Ok(None),
                Known::Absent => None,
                Known::Value(user) => Some(user),
            };
            let ram = ctx.clouds.alicloud_ram()?;
            rotation::access_keys(&ctx, &ram, user.as_deref(), "user_name")
                .await
                .map(Some)
        })
        .await
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> CreateResult<Self::Outputs> {
        // Everything that can fail without the cloud fails before a key exists.
        if let Some(path) = &inputs.secret_file {
            check_writable(Path::new(path))
                .map_err(|e| ProviderError::invalid("secret_file", format!("cannot write {path}: {e}")))?;
        }
        let recipient = match &inputs.pgp_key {
            Some(arg) => Some(
                resolve_pgp_key(arg, &ctx.clouds.pgp_fetch())
                    .await
                    .map_err(|e| ProviderError::invalid("pgp_key", e.message().to_string()))?,
            ),
            None => None,
        };
        sinks::precheck(&inputs.delivery)?;
        let ram = ctx.clouds.alicloud_ram()?;
        let user = inputs.user_name.as_deref();
        let key = match access_key::create(ctx, &ram, user).await? {
            Minted::Key(key) => key,
            Minted::Adopted(info) => {
                let mut outputs = AlicloudRamAccessKeyOutputs::imported(inputs.clone(), info.id.clone());
                outputs.create_time = info.created;
                outputs.inputs.status = KeyStatus::parse(RamClient::SERVICE, &info.status).ok();
                let reason = access_key::adopted_reason(RamClient::SERVICE);
                return Err(ResourceError::partial(info.id, outputs, reason));
            }
        };
        let id = key.info.id.clone();
        let secret = key.secret;
        let mut outputs = AlicloudRamAccessKeyOutputs {
            inputs: inputs.clone(),
            id: id.clone(),
            create_time: key.info.created.clone(),
            secret: Some(secret.clone()),
            key_fingerprint: None,
            encrypted_secret: None,
            secrets_available: true,
            delivered: Delivered::default(),
        };
        outputs.inputs.status = Some(KeyStatus::parse(RamClient::SERVICE, &key.info.status)?);
        if let Some(recipient) = &recipient {
            // Until it is encrypted, the plaintext is the only copy: a partial result keeps it.
            let encrypted = recipient.encrypt(secret.expose().as_bytes()).map_err(|e| {
                ResourceError::partial(
                    id.clone(),
                    outputs.clone(),
                    format!("encrypting the secret failed: {}", e.message()),
                )
            })?;
            outputs.secret = None;
            outputs.key_fingerprint = Some(recipient.fingerprint().to_string());
            outputs.encrypted_secret = Some(encrypted);
        }
        if let Some(path) = &inputs.secret_file {
            // The status the key ends with: the argument's, else the one it was created with.
            let status = inputs.status.or(outputs.inputs.status).map(|s| s.as_str());
            let contents = serde_json::json!({"AccessKeyId": id, "AccessKeySecret": secret.expose(),
                                              "Status": status, "CreateDate": outputs.create_time});
            if let Err(e) = write_private(Path::new(path), contents.to_string().as_bytes()) {
                let mut partial = outputs.clone();
                partial.secret = partial.encrypted_secret.is_none().then(|| secret.clone());
                let reason = format!("writing secret_file {path} failed: {e}");
                return Err(ResourceError::partial(id, partial, reason));
            }
        }
        if let Err(reason) = sinks::deliver(ctx, &inputs.delivery, sinks::ALICLOUD, &id, &secret).await {
            let mut partial = outputs.clone();
            partial.secret = partial.encrypted_secret.is_none().then(|| secret.clone());
            return Err(ResourceError::partial(id, partial, reason));
        }
        if !sinks::seal(&inputs.delivery, &secret, &mut outputs.delivered) {
            outputs.secret = None;
        }
        if inputs.status == Some(KeyStatus::Inactive) {
            if let Err(e) = ram.set_status(ctx, user, &id, KeyStatus::Inactive).await {
                let reason = format!("setting its status to Inactive failed: {e}");
                return Err(ResourceError::partial(id, outputs, reason));
            }
            outputs.inputs.status = Some(KeyStatus::Inactive);
        }
        Ok((id, outputs))
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<Self::Inputs>,
        outputs: Option<Self::Outputs>,
    ) -> Result<Option<Found<Self::Inputs, Self::Outputs>>, ProviderError> {
        let (user_from_id, key_id) = match id.split_once(':') {
            Some((user, key)) => (Some(user.to_string()), key.to_string()),
            None => (None, id.to_string()),
        };
        let mut base = outputs.map(|o| o.with_inputs(inputs.clone())).unwrap_or_else(|| {
            AlicloudRamAccessKeyOutputs::imported(inputs.unwrap_or_else(empty_inputs), key_id.clone())
        });
        if user_from_id.is_some() {
            base.inputs.user_name = user_from_id;
        }
        let ram = ctx.clouds.alicloud_ram()?;
        let keys = match ram.list_access_keys(ctx, base.inputs.user_name.as_deref()).await {
            Ok(keys) => keys,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(key) = keys.into_iter().find(|k| k.access_key_id == key_id) else {
            return Ok(None);
        };
        base.id = key.access_key_id.clone();
        base.inputs.status = Some(KeyStatus::parse(RamClient::SERVICE, &key.status)?);
        base.create_time = key.create_date.or(base.create_time);
        Ok(Some(Found {
            id: key.access_key_id,
            inputs: base.inputs.clone(),
            outputs: base,
        }))
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError<Self::Outputs>> {
        let mut outputs = olds.clone();
        outputs.inputs = news.clone();
        match news.status {
            Some(status) if olds.inputs.status != Some(status) => {
                let ram = ctx.clouds.alicloud_ram()?;
                ram.set_status(ctx, news.user_name.as_deref(), id, status).await?;
            }
            // Unset status keeps the cloud's value (it is computed).
            None => outputs.inputs.status = olds.inputs.status,
            _ => {}
        }
        Ok(outputs)
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let ram = ctx.clouds.alicloud_ram()?;
        match ram
            .delete_access_key(ctx, outputs.inputs.user_name.as_deref(), id)
            .await
        {
            Err(e) if e.is_not_found() => {}
            other => other?,
        }
        sinks::withdraw(&outputs.inputs.delivery, id);
        // The key is gone, so is the file that held its secret (kept if rewritten for another key).
        if let Some(path) = &outputs.inputs.secret_file
            && let Err(e) = crate::secrets::secret_file::remove_private(Path::new(path), id)
        {
            tracing::warn!(path = %path, error = %e, "the access key is deleted but its secret_file was not removed");
        }
        Ok(())
    }
}

impl AlicloudRamAccessKeyOutputs {
    /// These outputs with the inputs replaced, when the caller sent inputs.
    fn with_inputs(mut self, inputs: Option<AlicloudRamAccessKeyInputs>) -> Self {
        if let Some(inputs) = inputs {
            self.inputs = inputs;
        }
        self
    }

    /// The state of an imported key: no secret, no file.
    fn imported(inputs: AlicloudRamAccessKeyInputs, id: String) -> Self {
        AlicloudRamAccessKeyOutputs {
            inputs,
            id,
            create_time: None,
            secret: None,
            key_fingerprint: None,
            encrypted_secret: None,
            secrets_available: false,
            delivered: Delivered::default(),
        }
    }
}

fn empty_inputs() -> AlicloudRamAccessKeyInputs {
    AlicloudRamAccessKeyInputs {
        user_name: None,
        status: None,
        secret_file: None,
        pgp_key: None,
        rotation: Rotation::default(),
        delivery: Delivery::default(),
    }
}

#[async_trait]
impl KeyApi for RamClient {
    const SERVICE: &'static str = "RAM";
    const LIMIT_CODE: &'static str = "LimitExceeded.User.AccessKey";

    fn owner(&self, user: Option<&str>) -> String {
        match user {
            Some(user) => format!("RAM user {user:?}"),
            None => "the provider's own RAM identity".into(),
        }
    }

    /// RAM's client does not expose its identity; serializing one user name across accounts
    /// only costs a little concurrency.
    fn account(&self) -> String {
        String::new()
    }

    async fn create_key(&self, ctx: &Context, user: Option<&str>) -> Result<NewKey, CloudError> {
        let key = self.create_access_key(ctx, user).await?;
        let secret = key.access_key_secret.ok_or_else(|| CloudError::Decode {
            service: Self::SERVICE,
            detail: format!("CreateAccessKey returned no secret for {}", key.access_key_id),
        })?;
        Ok(NewKey {
            info: KeyInfo {
                id: key.access_key_id,
                status: key.status,
                created: key.create_date,
            },
            secret,
        })
    }

    async fn list_keys(&self, ctx: &Context, user: Option<&str>) -> Result<Vec<KeyInfo>, CloudError> {
        let keys = self.list_access_keys(ctx, user).await?;
        Ok(keys
            .into_iter()
            .map(|k| KeyInfo {
                id: k.access_key_id,
                status: k.status,
                created: k.create_date,
            })
            .collect())
    }

    async fn set_status(
        &self,
        ctx: &Context,
        user: Option<&str>,
        id: &str,
        status: KeyStatus,
    ) -> Result<(), CloudError> {
        self.update_access_key(ctx, user, id, status.as_str()).await
    }

    async fn delete_key(&self, ctx: &Context, user: Option<&str>, id: &str) -> Result<(), CloudError> {
        self.delete_access_key(ctx, user, id).await
    }
}
