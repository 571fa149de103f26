//! `aws_iam_access_key`: an IAM access key, a set of credentials that allow API requests to be made
//! as an IAM user.

use super::rules::{Rule, str_prop};
use super::{Context, Found, Resource, ResourceInfo, Timeouts};
use crate::cloud::aws::client::{AccessKeyMetadata, IamClient, NewAccessKey};
use crate::cloud::error::CloudError;
use crate::protocol::PropertyMap;
use crate::protocol::envelope::wrap_secret;
use crate::provider::error::ProviderError;
use crate::secrets::Secret;
use crate::secrets::pgp::PgpRecipient;
use crate::secrets::pgp_source::resolve_pgp_key;
use crate::secrets::ses::ses_smtp_password_v4;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// Status of an access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum KeyStatus {
    /// The key can sign requests.
    #[default]
    Active,
    /// The key exists but every request signed with it is refused.
    Inactive,
}

impl KeyStatus {
    /// The name the IAM and RAM APIs use (`Active`, `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// Provides an IAM access key. This is a set of credentials that allow API requests to be made as
/// an IAM user.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// output attribute. RSA and Curve25519 keys are accepted. When set, the plaintext `secret` and
    /// `ses_smtp_password_v4` are not returned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub pgp_key: Option<String>,
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
    /// conversion algorithm. The region used is the provider's configured AWS region (`configure`
    /// `aws.region`, else `AWS_REGION`): an SES password only works in the region it was derived
    /// for. SES SMTP regions include `ap-south-1`, `ap-southeast-2`, `eu-central-1`, `eu-west-1`,
    /// `us-east-1` and `us-west-2`. This attribute is not available for imported resources, nor
    /// when `pgp_key` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true, "x-onlyOnCreate" = true))]
    pub ses_smtp_password_v4: Option<Secret<String>>,
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
}

fn yes() -> bool {
    true
}

/// The `aws_iam_access_key` resource.
pub struct AwsIamAccessKey;

const RULES: &[Rule] = &[Rule {
    name: "pgp_key form",
    property: "pgp_key",
    check: pgp_key_form,
}];

/// The `pgp_key` argument must be one of the accepted forms.
pub fn pgp_key_form(inputs: &crate::protocol::PropertyMap) -> Option<String> {
    crate::secrets::pgp_source::classify(str_prop(inputs, "pgp_key")?).err()
}

#[async_trait]
impl Resource for AwsIamAccessKey {
    const TYPE: &'static str = "aws_iam_access_key";
    type Inputs = AwsIamAccessKeyInputs;
    type Outputs = AwsIamAccessKeyOutputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "aws",
            import: "The access key id, e.g. `AKIA1234567890`; the user is found with GetAccessKeyLastUsed. Secret attributes are not available for imported resources.",
            timeouts: Timeouts::FIVE_MINUTES,
        }
    }

    fn rules() -> &'static [Rule] {
        RULES
    }

    async fn create(&self, ctx: &Context, inputs: Self::Inputs) -> Result<(String, Self::Outputs), ProviderError> {
        // A bad pgp_key must fail before a key is minted: its secret could never be shown again.
        let recipient = match &inputs.pgp_key {
            Some(arg) => Some(
                resolve_pgp_key(arg, &ctx.clouds.pgp_fetch())
                    .await
                    .map_err(|e| ProviderError::invalid("pgp_key", e.message()))?,
            ),
            None => None,
        };
        let iam = ctx.clouds.iam()?;
        let user = inputs.user.clone();
        let key = create_key(ctx, &iam, &user).await?;
        let id = key.access_key_id.clone();
        let mut outputs = match new_key_outputs(&iam, &inputs, &key, recipient.as_ref()) {
            Ok(outputs) => outputs,
            Err(err) => {
                // The secret cannot be stored safely: do not leave a key nobody can use.
                let cleanup = iam.delete_access_key(ctx, &user, &id).await;
                let what = match cleanup {
                    Ok(()) => format!("the new key {id} was deleted"),
                    Err(e) => {
                        format!("deleting the new key {id} also failed ({e}): delete it by hand")
                    }
                };
                return Err(ProviderError::Internal(format!(
                    "could not encrypt the secret of access key {id}: {err}; {what}"
                )));
            }
        };
        if inputs.status == KeyStatus::Inactive {
            if let Err(err) = iam
                .update_access_key(ctx, &user, &id, KeyStatus::Inactive.as_str())
                .await
            {
                outputs.inputs.status = KeyStatus::Active;
                return Err(ProviderError::PartiallyCreated {
                    type_name: Self::TYPE,
                    id,
                    outputs: wire_outputs(&outputs)?,
                    reason: format!("setting its status to Inactive failed (it is Active): {err}"),
                });
            }
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
                Err(e) if e.has_code(NO_SUCH_ENTITY) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        let keys = match iam.list_access_keys(ctx, &user).await {
            Ok(keys) => keys,
            Err(e) if e.has_code(NO_SUCH_ENTITY) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(meta) = keys.into_iter().find(|k| k.access_key_id == id) else {
            return Ok(None);
        };
        let status = parse_status(&meta.status)?;
        let create_date = meta.create_date.as_deref().map(rfc3339);
        let outputs = match outputs {
            Some(mut prior) => {
                prior.inputs.status = status;
                prior.id = id.to_string();
                prior.create_date = create_date.or(prior.create_date);
                prior
            }
            None => AwsIamAccessKeyOutputs {
                inputs: AwsIamAccessKeyInputs {
                    user,
                    status,
                    pgp_key: inputs.and_then(|i| i.pgp_key),
                },
                id: id.to_string(),
                create_date,
                secret: None,
                ses_smtp_password_v4: None,
                encrypted_secret: None,
                encrypted_ses_smtp_password_v4: None,
                key_fingerprint: None,
                secrets_available: false,
            },
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
    ) -> Result<Self::Outputs, ProviderError> {
        if news.status != olds.inputs.status {
            let iam = ctx.clouds.iam()?;
            iam.update_access_key(ctx, &olds.inputs.user, id, news.status.as_str())
                .await?;
        }
        let mut outputs = olds;
        outputs.inputs = news;
        Ok(outputs)
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: Self::Outputs) -> Result<(), ProviderError> {
        let iam = ctx.clouds.iam()?;
        match iam.delete_access_key(ctx, &outputs.inputs.user, id).await {
            Ok(()) => Ok(()),
            Err(e) if e.has_code(NO_SUCH_ENTITY) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

const NO_SUCH_ENTITY: &str = "NoSuchEntity";
/// The longest wait for a user that IAM does not see yet (IAM is eventually consistent).
const USER_VISIBILITY_WAIT: Duration = Duration::from_secs(30);

fn parse_status(text: &str) -> Result<KeyStatus, ProviderError> {
    match text {
        "Active" => Ok(KeyStatus::Active),
        "Inactive" => Ok(KeyStatus::Inactive),
        other => Err(CloudError::Decode {
            service: "IAM",
            detail: format!("unknown access key status {other:?}"),
        }
        .into()),
    }
}

/// IAM's ISO 8601 time as RFC 3339 in UTC with whole seconds (`2015-03-09T18:39:23Z`).
fn rfc3339(text: &str) -> String {
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        });
    parsed
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| text.to_string())
}

/// CreateAccessKey, waiting a bounded time for a user IAM does not see yet.
async fn create_key(ctx: &Context, iam: &IamClient, user: &str) -> Result<NewAccessKey, ProviderError> {
    let started = Instant::now();
    let budget = USER_VISIBILITY_WAIT.min(ctx.deadline.saturating_duration_since(started) / 2);
    let mut wait = Duration::from_secs(1);
    loop {
        match create_reconciled(ctx, iam, user).await {
            Err(ProviderError::Cloud(err)) if err.has_code(NO_SUCH_ENTITY) => {
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

/// One CreateAccessKey with its limit error explained and a lost reply reconciled.
async fn create_reconciled(ctx: &Context, iam: &IamClient, user: &str) -> Result<NewAccessKey, ProviderError> {
    let before = iam.list_access_keys(ctx, user).await?;
    let first = match iam.create_access_key(ctx, user).await {
        Ok(key) => return Ok(key),
        Err(err) if err.has_code("LimitExceeded") => return Err(limit_error(user, &before, err)),
        Err(err @ (CloudError::Cancelled | CloudError::Timeout)) => {
            let ids: Vec<&str> = before.iter().map(|k| k.access_key_id.as_str()).collect();
            return Err(ProviderError::create_interrupted(
                &format!("an access key for IAM user {user:?}"),
                &ids,
                err,
            ));
        }
        Err(err) if err.is_ambiguous() => err,
        Err(err) => return Err(err.into()),
    };
    // The reply was lost: a key may exist whose secret we never saw. It cannot be adopted.
    let removed = remove_orphans(ctx, iam, user, &before, &first).await?;
    let done = if removed.is_empty() {
        "no key had been created".to_string()
    } else {
        format!(
            "deleted the key(s) it had created, whose secret was lost: {}",
            removed.join(", ")
        )
    };
    tracing::warn!(user, error = %first, removed = ?removed, "CreateAccessKey lost its reply; {done}; retrying once");
    match iam.create_access_key(ctx, user).await {
        Ok(key) => Ok(key),
        Err(second) => {
            let mut done = done;
            if second.is_ambiguous() {
                let again = remove_orphans(ctx, iam, user, &before, &second).await?;
                if !again.is_empty() {
                    done.push_str(&format!(
                        "; the retry lost its reply too and its key(s) were deleted: {}",
                        again.join(", ")
                    ));
                }
            }
            let message = match &second {
                e if e.has_code("LimitExceeded") => limit_message(user, &before),
                e => e.to_string(),
            };
            Err(ProviderError::Explained {
                message: format!(
                    "CreateAccessKey for IAM user {user:?} lost its reply ({first}); {done}; the retry failed: {message}"
                ),
                source: second,
            })
        }
    }
}

/// Deletes the keys of `user` that are not in `before`; returns their ids.
async fn remove_orphans(
    ctx: &Context,
    iam: &IamClient,
    user: &str,
    before: &[AccessKeyMetadata],
    cause: &CloudError,
) -> Result<Vec<String>, ProviderError> {
    let after = iam.list_access_keys(ctx, user).await.map_err(|err| ProviderError::Explained {
        message: format!(
            "CreateAccessKey for IAM user {user:?} lost its reply ({cause}) and listing the user's keys to reconcile failed: \
             check the user's access keys and delete one you do not manage"
        ),
        source: err,
    })?;
    let mut removed = Vec::new();
    for key in after
        .iter()
        .filter(|k| !before.iter().any(|b| b.access_key_id == k.access_key_id))
    {
        tracing::warn!(user, access_key_id = %key.access_key_id, "deleting an access key created by a CreateAccessKey whose reply was lost");
        match iam.delete_access_key(ctx, user, &key.access_key_id).await {
            Ok(()) => removed.push(key.access_key_id.clone()),
            Err(e) if e.has_code(NO_SUCH_ENTITY) => removed.push(key.access_key_id.clone()),
            Err(err) => {
                return Err(ProviderError::Explained {
                    message: format!(
                        "CreateAccessKey for IAM user {user:?} lost its reply ({cause}); the key it created, {}, could not be deleted: delete it by hand",
                        key.access_key_id
                    ),
                    source: err,
                });
            }
        }
    }
    Ok(removed)
}

fn limit_error(user: &str, keys: &[AccessKeyMetadata], source: CloudError) -> ProviderError {
    ProviderError::Explained {
        message: limit_message(user, keys),
        source,
    }
}

fn limit_message(user: &str, keys: &[AccessKeyMetadata]) -> String {
    let ids: Vec<String> = keys
        .iter()
        .map(|k| format!("{} ({})", k.access_key_id, k.status))
        .collect();
    format!(
        "IAM user {user:?} already has the maximum number of access keys ({}): {}. Delete or import one of them before creating another",
        keys.len(),
        if ids.is_empty() {
            "none listed".to_string()
        } else {
            ids.join(", ")
        }
    )
}

/// The outputs of a key just created: plaintext secrets, or only their encryptions with `pgp_key`.
fn new_key_outputs(
    iam: &IamClient,
    inputs: &AwsIamAccessKeyInputs,
    key: &NewAccessKey,
    recipient: Option<&PgpRecipient>,
) -> Result<AwsIamAccessKeyOutputs, crate::secrets::pgp::PgpError> {
    let secret = key.secret_access_key.expose();
    let ses = ses_smtp_password_v4(secret, iam.region());
    let mut outputs = AwsIamAccessKeyOutputs {
        inputs: inputs.clone(),
        id: key.access_key_id.clone(),
        create_date: key.create_date.as_deref().map(rfc3339),
        secret: None,
        ses_smtp_password_v4: None,
        encrypted_secret: None,
        encrypted_ses_smtp_password_v4: None,
        key_fingerprint: None,
        secrets_available: true,
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

/// Outputs as wire properties, secrets wrapped (for `PartiallyCreated`).
fn wire_outputs(outputs: &AwsIamAccessKeyOutputs) -> Result<PropertyMap, ProviderError> {
    const SECRET: &[&str] = &[
        "secret",
        "ses_smtp_password_v4",
        "encrypted_secret",
        "encrypted_ses_smtp_password_v4",
    ];
    let Value::Object(map) = serde_json::to_value(outputs).map_err(|e| ProviderError::Internal(e.to_string()))? else {
        return Err(ProviderError::Internal("outputs are not an object".into()));
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = if SECRET.contains(&k.as_str()) {
                wrap_secret(v)
            } else {
                v
            };
            (k, v)
        })
        .collect())
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

    #[test]
    fn limit_message_names_user_and_keys() {
        let keys = vec![
            AccessKeyMetadata {
                user_name: "bob".into(),
                access_key_id: "AKIA1".into(),
                status: "Active".into(),
                create_date: None,
            },
            AccessKeyMetadata {
                user_name: "bob".into(),
                access_key_id: "AKIA2".into(),
                status: "Inactive".into(),
                create_date: None,
            },
        ];
        let m = limit_message("bob", &keys);
        assert!(
            m.contains("\"bob\"") && m.contains("AKIA1 (Active)") && m.contains("AKIA2 (Inactive)"),
            "{m}"
        );
    }
}
