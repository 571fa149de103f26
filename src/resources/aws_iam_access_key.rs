//! `aws_iam_access_key`: an IAM access key, a set of credentials that allow API requests to be made
//! as an IAM user.

use super::access_key::{self, KeyApi, KeyInfo, KeyStatus, Minted, NewKey, pgp_key_form};
use super::rotation::{self, Known, ROTATE_AFTER_RULE, Rotation};
use super::rules::Rule;
use super::sinks::{self, Delivered, Delivery};
use super::{Context, CreateResult, Found, Resource, ResourceError, ResourceInfo, Timeouts};
use crate::cloud::aws::client::{AccessKeyMetadata, IamClient};
use crate::cloud::error::CloudError;
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use crate::secrets::pgp::PgpRecipient;
use crate::secrets::pgp_source::resolve_pgp_key;
use crate::secrets::ses::ses_smtp_password_v4;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// Provides an IAM access key. This is a set of credentials that allow API requests to be made as
/// an IAM user.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
// Unknown properties are refused by the schema (`check`), not by serde: the flattened rotation
// and sink arguments make serde hand every state field to the inputs of a flattened state.
#[schemars(deny_unknown_fields)]
pub struct AwsIamAccessKeyInputs {
    /// IAM user to associate with this access key.
    #[schemars(extend("x-forceNew" = true), length(min = 1, max = 64))]
    pub user: String,
    /// Access key status to apply. Defaults to `Active`. Valid values are `Active` and `Inactive`.
    #[serde(default)]
    #[schemars(extend("x-updatable" = true))]
    pub status: KeyStatus,
    /// Either a base-64 encoded PGP public key, an ASCII-armored PGP public key, an external url in
    /// the form `external:some_person_that_exists|url_to_fetch_his_key` (the url can also be a
    /// formatable url which will use the username like: `https://github.com/%s.gpg`) or a keybase
    /// username in the form `keybase:some_person_that_exists`, for use in the `encrypted_secret`
    /// output attribute. RSA, Curve25519 and NIST P-256/P-384/P-521 keys are accepted. When set, the plaintext `secret` and
    /// `ses_smtp_password_v4` are not returned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub pgp_key: Option<String>,
    /// The AWS region whose SES accepts `ses_smtp_password_v4` (an SES password works only in the
    /// region it was derived for), such as `eu-west-1`. Default: the provider's AWS region. Beyond
    /// Terraform, where a second region needs a second provider configuration. Changes in place
    /// by deriving the password again from the secret held in state; with `pgp_key` set the
    /// secret is not held, so the region can then change only with a new key (`check` says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true), length(min = 1, max = 32))]
    pub ses_region: Option<String>,
    /// Built-in rotation: `rotate_after` and `keepers`.
    #[serde(flatten)]
    pub rotation: Rotation,
    /// Secret sinks and `store_secret_in_state`.
    #[serde(flatten)]
    pub delivery: Delivery,
}

/// The state of an `aws_iam_access_key`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AwsIamAccessKeyOutputs {
    /// The arguments.
    #[serde(flatten)]
    pub inputs: AwsIamAccessKeyInputs,
    /// Access key ID.
    #[schemars(extend("x-computed" = true))]
    pub id: String,
    /// Date and time in RFC3339 format that the access key was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub create_date: Option<String>,
    /// Secret access key. This attribute is not available for imported resources, nor when
    /// `pgp_key` is set. Note that this will be written to the state file. If you use this, please
    /// protect your backend state file judiciously. Alternatively, you may supply a `pgp_key`
    /// instead, which will prevent the secret from being stored in plaintext, at the cost of
    /// preventing the use of the secret key in automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub secret: Option<Secret<String>>,
    /// Secret access key converted into an SES SMTP password by applying AWS's documented Sigv4
    /// conversion algorithm. The region used is `ses_region`, else the provider's configured AWS
    /// region (`configure` `aws.region`, else `AWS_REGION`): an SES password only works in the
    /// region it was derived for. SES SMTP regions include `ap-south-1`, `ap-southeast-2`, `eu-central-1`, `eu-west-1`,
    /// `us-east-1` and `us-west-2`. This attribute is not available for imported resources, nor
    /// when `pgp_key` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub ses_smtp_password_v4: Option<Secret<String>>,
    /// The region `ses_smtp_password_v4` (or its encryption) was derived for: `ses_region`, else
    /// the provider's AWS region at the time. Recorded, so that state says where the password
    /// works even after the provider's region changes (which does not derive it again). Unset
    /// when no password is held (an import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub ses_smtp_password_region: Option<String>,
    /// Encrypted secret, base64 encoded (a binary OpenPGP message), if `pgp_key` was specified.
    /// This attribute is not available for imported resources. The encrypted secret may be
    /// decrypted using the command line, for example: `base64 --decode | gpg --decrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true, "x-secret" = true))]
    pub encrypted_secret: Option<String>,
    /// Encrypted SES SMTP password, base64 encoded, if `pgp_key` was specified. This attribute is
    /// not available for imported resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true, "x-secret" = true))]
    pub encrypted_ses_smtp_password_v4: Option<String>,
    /// Fingerprint (lowercase hex) of the primary PGP key used to encrypt the secret. This
    /// attribute is not available for imported resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub key_fingerprint: Option<String>,
    /// Whether the secret attributes are held in this state. `false` after an import: the IAM API
    /// never returns a secret again, so `secret`, `ses_smtp_password_v4`, `encrypted_secret`,
    /// `encrypted_ses_smtp_password_v4` and `key_fingerprint` are absent.
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

/// The `aws_iam_access_key` resource.
pub struct AwsIamAccessKey;

const RULES: &[Rule] = &[
    Rule {
        name: "pgp_key form",
        property: "pgp_key",
        check: pgp_key_form,
    },
    Rule {
        name: "ses_region form",
        property: "ses_region",
        check: ses_region_form,
    },
    ROTATE_AFTER_RULE,
    sinks::RULES[0],
    sinks::RULES[1],
    sinks::RULES[2],
    sinks::RULES[3],
];

/// An AWS region name: lowercase words and a number, joined by dashes (`us-east-1`, `us-gov-west-1`).
fn ses_region_form(inputs: &crate::protocol::PropertyMap) -> Option<String> {
    let region = super::rules::str_prop(inputs, "ses_region")?;
    let parts: Vec<&str> = region.split('-').collect();
    let valid = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok();
    (!valid).then(|| "must be an AWS region name such as eu-west-1".to_string())
}

#[async_trait]
impl Resource for AwsIamAccessKey {
    const TYPE: &'static str = "aws_iam_access_key";
    type Inputs = AwsIamAccessKeyInputs;
    type Outputs = AwsIamAccessKeyOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "aws",
            import: "The access key id, e.g. `AKIA1234567890`; the user is found with GetAccessKeyLastUsed. Secret attributes are not available for imported resources; the program's `pgp_key` and `ses_region` are taken as they are, without a change.",
            timeouts: Timeouts::FIVE_MINUTES,
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    /// With `pgp_key`, state holds no secret to derive a password for another SES region from.
    /// An imported key holds no secret (`secrets_available` false): the create-time `pgp_key`
    /// and `ses_region` of the program have nothing to differ from, and are taken as they are.
    fn absent_agrees(olds: &crate::protocol::PropertyMap, property: &str, _value: &serde_json::Value) -> bool {
        olds.get("secrets_available") == Some(&serde_json::Value::Bool(false))
            && matches!(property, "pgp_key" | "ses_region")
    }

    fn check_change(
        olds: &crate::protocol::PropertyMap,
        news: &crate::protocol::PropertyMap,
    ) -> Vec<crate::protocol::Failure> {
        let encrypted = super::rules::is_set(news, "pgp_key");
        if encrypted && olds.get("ses_region") != news.get("ses_region") && olds.get("pgp_key") == news.get("pgp_key") {
            return vec![crate::protocol::Failure::new(
                "ses_region",
                "cannot change in place while pgp_key is set: the secret is not held in state, so no SES password can be derived for the new region; change it together with a new key",
            )];
        }
        vec![]
    }

    async fn diff_in_cloud(
        &self,
        ctx: &super::LazyContext<'_>,
        id: &str,
        olds: &crate::protocol::PropertyMap,
        news: &crate::protocol::PropertyMap,
        diff: &mut crate::protocol::DiffResponse,
    ) -> Result<(), ProviderError> {
        let user = rotation::known_str(news, "user");
        rotation::plan(ctx, id, olds, news, "create_date", diff, |ctx| async move {
            let Known::Value(user) = user else { return Ok(None) };
            let iam = ctx.clouds.iam()?;
            rotation::access_keys(&ctx, &iam, Some(&user), "user").await.map(Some)
        })
        .await
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> CreateResult<Self::Outputs> {
        // A bad pgp_key must fail before a key is minted: its secret could never be shown again.
        let recipient = match &inputs.pgp_key {
            Some(arg) => Some(
                resolve_pgp_key(arg, &ctx.clouds.pgp_fetch())
                    .await
                    .map_err(|e| ProviderError::invalid("pgp_key", e.message()))?,
            ),
            None => None,
        };
        sinks::precheck(&inputs.delivery)?;
        let iam = ctx.clouds.iam()?;
        let user = inputs.user.clone();
        let key = match create_key(ctx, &iam, &user).await? {
            Minted::Key(key) => key,
            Minted::Adopted(info) => {
                let status = KeyStatus::parse(IamClient::SERVICE, &info.status).unwrap_or_default();
                let created = info.created.as_deref().map(rfc3339);
                let inputs = AwsIamAccessKeyInputs { status, ..inputs };
                let outputs = AwsIamAccessKeyOutputs::without_secrets(inputs, info.id.clone(), created);
                return Err(ResourceError::partial(
                    info.id,
                    outputs,
                    access_key::adopted_reason(IamClient::SERVICE),
                ));
            }
        };
        let id = key.info.id.clone();
        let mut outputs = match new_key_outputs(&iam, &inputs, &key, recipient.as_ref()) {
            Ok(outputs) => outputs,
            Err(err) => {
                // The secret cannot be stored safely: do not leave a key nobody can use. This
                // key's reply came back, so it is provably ours to delete.
                let cleanup = iam.delete_key(ctx, Some(user.as_str()), &id).await;
                let what = match cleanup {
                    Ok(()) => format!("the new key {id} was deleted"),
                    Err(e) => {
                        format!("deleting the new key {id} also failed ({e}): delete it by hand")
                    }
                };
                return Err(ProviderError::Internal(format!(
                    "could not encrypt the secret of access key {id}: {err}; {what}"
                ))
                .into());
            }
        };
        if let Err(reason) = sinks::deliver(ctx, &inputs.delivery, sinks::AWS, &id, &key.secret).await {
            return Err(ResourceError::partial(id, outputs, reason));
        }
        if !sinks::seal(&inputs.delivery, &key.secret, &mut outputs.delivered) {
            outputs.secret = None;
            outputs.ses_smtp_password_v4 = None;
            outputs.secrets_available = false;
        }
        if inputs.status == KeyStatus::Inactive
            && let Err(err) = iam.set_status(ctx, Some(user.as_str()), &id, KeyStatus::Inactive).await
        {
            outputs.inputs.status = KeyStatus::Active;
            let reason = format!("setting its status to Inactive failed (it is Active): {err}");
            return Err(ResourceError::partial(id, outputs, reason));
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
        let iam = ctx.clouds.iam()?;
        let known_user = outputs
            .as_ref()
            .map(|o| o.inputs.user.clone())
            .or_else(|| inputs.as_ref().map(|i| i.user.clone()));
        let user = match known_user {
            Some(user) => user,
            // An import: the key id alone names its user through GetAccessKeyLastUsed.
            None => match iam.access_key_user(ctx, id).await {
                Ok(Some(user)) => user,
                Ok(None) => return Ok(None),
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        let keys = match iam.list_access_keys(ctx, &user).await {
            Ok(keys) => keys,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(meta) = keys.into_iter().find(|k| k.access_key_id == id) else {
            return Ok(None);
        };
        let status = KeyStatus::parse(IamClient::SERVICE, &meta.status)?;
        let create_date = meta.create_date.as_deref().map(rfc3339);
        let outputs = match outputs {
            Some(mut prior) => {
                prior.inputs.status = status;
                prior.id = id.to_string();
                prior.create_date = create_date.or(prior.create_date);
                prior
            }
            None => AwsIamAccessKeyOutputs::without_secrets(
                AwsIamAccessKeyInputs {
                    user,
                    status,
                    pgp_key: inputs.as_ref().and_then(|i| i.pgp_key.clone()),
                    rotation: inputs.as_ref().map(|i| i.rotation.clone()).unwrap_or_default(),
                    delivery: inputs.as_ref().map(|i| i.delivery.clone()).unwrap_or_default(),
                    ses_region: inputs.and_then(|i| i.ses_region),
                },
                id.to_string(),
                create_date,
            ),
        };
        Ok(Some(Found {
            id: id.to_string(),
            inputs: outputs.inputs.clone(),
            outputs,
        }))
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError<Self::Outputs>> {
        if news.status != olds.inputs.status {
            let iam = ctx.clouds.iam()?;
            iam.set_status(ctx, Some(olds.inputs.user.as_str()), id, news.status)
                .await?;
        }
        let mut outputs = olds;
        if let (true, Some(secret)) = (news.ses_region != outputs.inputs.ses_region, &outputs.secret) {
            let region = match &news.ses_region {
                Some(region) => region.clone(),
                None => ctx.clouds.iam()?.region().to_string(),
            };
            outputs.ses_smtp_password_v4 = Some(Secret::new(ses_smtp_password_v4(secret.expose(), &region)));
            outputs.ses_smtp_password_region = Some(region);
        }
        outputs.inputs = news;
        Ok(outputs)
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let iam = ctx.clouds.iam()?;
        match iam.delete_access_key(ctx, &outputs.inputs.user, id).await {
            Err(e) if !e.is_not_found() => return Err(e.into()),
            _ => {}
        }
        sinks::withdraw(&outputs.inputs.delivery, id);
        Ok(())
    }
}

/// The longest wait for a user that IAM does not see yet (IAM is eventually consistent).
const USER_VISIBILITY_WAIT: Duration = Duration::from_secs(30);

/// IAM's ISO 8601 time as RFC 3339 in UTC with whole seconds (`2015-03-09T18:39:23Z`).
fn rfc3339(text: &str) -> String {
    super::window::parse_time(text)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| text.to_string())
}

/// CreateAccessKey through the shared lifecycle, waiting a bounded time for a user IAM does not
/// see yet (IAM is eventually consistent).
async fn create_key(ctx: &Context, iam: &IamClient, user: &str) -> Result<Minted, ProviderError> {
    let started = Instant::now();
    let budget = USER_VISIBILITY_WAIT.min(ctx.deadline.saturating_duration_since(started) / 2);
    let mut wait = Duration::from_secs(1);
    loop {
        match access_key::create(ctx, iam, Some(user)).await {
            Err(ProviderError::Cloud(err)) if err.is_not_found() => {
                if started.elapsed() + wait <= budget {
                    tracing::info!(
                        user,
                        wait_ms = wait.as_millis() as u64,
                        "IAM does not see the user yet; waiting"
                    );
                    ctx.sleep(wait).await?;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    continue;
                }
                return Err(ProviderError::Explained {
                    message: format!(
                        "IAM user {user:?} does not exist (IAM still answered NoSuchEntity after {}s): create the user first, or fix `user`",
                        started.elapsed().as_secs()
                    ),
                    source: err,
                });
            }
            other => return other,
        }
    }
}

#[async_trait]
impl KeyApi for IamClient {
    const SERVICE: &'static str = "IAM";
    const LIMIT_CODE: &'static str = "LimitExceeded";

    fn owner(&self, user: Option<&str>) -> String {
        format!("IAM user {:?}", user.unwrap_or_default())
    }

    fn account(&self) -> String {
        // The credentials resolve lazily; the endpoint is known now, and a wider lock scope
        // only serializes more.
        self.endpoint().to_owned()
    }

    async fn create_key(&self, ctx: &Context, user: Option<&str>) -> Result<NewKey, CloudError> {
        let key = self.create_access_key(ctx, user.unwrap_or_default()).await?;
        Ok(NewKey {
            info: KeyInfo {
                id: key.access_key_id,
                status: key.status,
                created: key.create_date,
            },
            secret: key.secret_access_key,
        })
    }

    async fn list_keys(&self, ctx: &Context, user: Option<&str>) -> Result<Vec<KeyInfo>, CloudError> {
        let keys = self.list_access_keys(ctx, user.unwrap_or_default()).await?;
        Ok(keys.into_iter().map(KeyInfo::from).collect())
    }

    async fn set_status(
        &self,
        ctx: &Context,
        user: Option<&str>,
        id: &str,
        status: KeyStatus,
    ) -> Result<(), CloudError> {
        self.update_access_key(ctx, user.unwrap_or_default(), id, status.as_str())
            .await
    }

    async fn delete_key(&self, ctx: &Context, user: Option<&str>, id: &str) -> Result<(), CloudError> {
        self.delete_access_key(ctx, user.unwrap_or_default(), id).await
    }
}

impl From<AccessKeyMetadata> for KeyInfo {
    fn from(k: AccessKeyMetadata) -> Self {
        KeyInfo {
            id: k.access_key_id,
            status: k.status,
            created: k.create_date,
        }
    }
}

impl AwsIamAccessKeyOutputs {
    /// The state of a key whose secret this provider does not hold: imported, or adopted after
    /// a lost reply.
    fn without_secrets(inputs: AwsIamAccessKeyInputs, id: String, create_date: Option<String>) -> Self {
        AwsIamAccessKeyOutputs {
            inputs,
            id,
            create_date,
            secret: None,
            ses_smtp_password_v4: None,
            ses_smtp_password_region: None,
            encrypted_secret: None,
            encrypted_ses_smtp_password_v4: None,
            key_fingerprint: None,
            secrets_available: false,
            delivered: Delivered::default(),
        }
    }
}

/// The outputs of a key just created: plaintext secrets, or only their encryptions with `pgp_key`.
fn new_key_outputs(
    iam: &IamClient,
    inputs: &AwsIamAccessKeyInputs,
    key: &NewKey,
    recipient: Option<&PgpRecipient>,
) -> Result<AwsIamAccessKeyOutputs, crate::secrets::pgp::PgpError> {
    let secret = key.secret.expose();
    let ses_region = inputs.ses_region.as_deref().unwrap_or(iam.region());
    let ses = ses_smtp_password_v4(secret, ses_region);
    let mut outputs = AwsIamAccessKeyOutputs {
        inputs: inputs.clone(),
        id: key.info.id.clone(),
        create_date: key.info.created.as_deref().map(rfc3339),
        secret: None,
        ses_smtp_password_v4: None,
        ses_smtp_password_region: Some(ses_region.to_string()),
        encrypted_secret: None,
        encrypted_ses_smtp_password_v4: None,
        key_fingerprint: None,
        secrets_available: true,
        delivered: Delivered::default(),
    };
    match recipient {
        Some(r) => {
            outputs.encrypted_secret = Some(r.encrypt(secret.as_bytes())?);
            outputs.encrypted_ses_smtp_password_v4 = Some(r.encrypt(ses.as_bytes())?);
            outputs.key_fingerprint = Some(r.fingerprint().to_string());
        }
        None => {
            outputs.secret = Some(Secret::new(secret.clone()));
            outputs.ses_smtp_password_v4 = Some(Secret::new(ses));
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_rfc3339_utc_seconds() {
        assert_eq!(rfc3339("2015-03-09T18:39:23Z"), "2015-03-09T18:39:23Z");
        assert_eq!(rfc3339("2015-03-09T18:39:23.123+00:00"), "2015-03-09T18:39:23Z");
        assert_eq!(rfc3339("2015-03-09T20:39:23+02:00"), "2015-03-09T18:39:23Z");
        assert_eq!(rfc3339("2015-03-09T18:39:23.5"), "2015-03-09T18:39:23Z");
        assert_eq!(rfc3339("garbage"), "garbage");
    }
}
