//! The one access-key lifecycle that `aws_iam_access_key` and `alicloud_ram_access_key` share:
//! create (one cloud call on the happy path), reconcile after an ambiguous create, set status,
//! the limit message, [`KeyStatus`] and the `pgp_key` rule. It is parameterised by the cloud
//! client through [`KeyApi`], which the IAM and RAM clients implement in their resource files.
//!
//! Reconciliation never deletes a credential: it cannot prove which key a lost create made when
//! another client may have created one for the same user at the same time. Creates for one user
//! are serialized on this host (an in-process lock, then the host-wide [`Ledger`] lock file,
//! which also lists the ids recent creates handed out); candidates are the keys created in the
//! request's time window that no create on this host handed out. Exactly one is adopted; several
//! are reported by id. A client on another host creating keys for the same user at the same
//! moment is the one case this cannot rule out: such a key would be reported or adopted, never
//! deleted.

use super::Context;
use super::key_ledger::Ledger;
use super::rules::str_prop;
use super::window::Window;
use crate::cloud::error::CloudError;
use crate::protocol::PropertyMap;
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use chrono::Utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

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

    /// Parses the cloud's status; an unknown one is an unexpected answer, never a guess.
    pub fn parse(service: &'static str, text: &str) -> Result<KeyStatus, CloudError> {
        match text {
            "Active" => Ok(KeyStatus::Active),
            "Inactive" => Ok(KeyStatus::Inactive),
            other => Err(CloudError::Decode {
                service,
                detail: format!("unknown access key status {other:?}"),
            }),
        }
    }
}

/// The `pgp_key` argument must be one of the accepted forms (a rule of both key types).
pub fn pgp_key_form(inputs: &PropertyMap) -> Option<String> {
    crate::secrets::pgp_source::classify(str_prop(inputs, "pgp_key")?).err()
}

/// A key as the cloud lists it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The access key id.
    pub id: String,
    /// The cloud's status text.
    pub status: String,
    /// When the cloud created it, as the cloud wrote it.
    pub created: Option<String>,
}

/// A key just created, with the secret the cloud shows only now.
#[derive(Debug)]
pub struct NewKey {
    /// The key as listed.
    pub info: KeyInfo,
    /// The secret access key.
    pub secret: Secret<String>,
}

/// The access-key API of one cloud. `user` is `None` for the caller's own identity (RAM).
#[async_trait]
pub trait KeyApi: Send + Sync {
    /// The cloud's service name in messages (`IAM`, `RAM`).
    const SERVICE: &'static str;
    /// The error code of the per-user key limit.
    const LIMIT_CODE: &'static str;
    /// The most keys a user may have.
    const MAX_KEYS: usize = 2;
    /// Who owns the keys, for messages: `IAM user "bob"`.
    fn owner(&self, user: Option<&str>) -> String;
    /// What identifies the account, so that creates for one user of one account are serialized.
    fn account(&self) -> String;
    /// CreateAccessKey, never retried after an ambiguous failure.
    async fn create_key(&self, ctx: &Context, user: Option<&str>) -> Result<NewKey, CloudError>;
    /// ListAccessKeys.
    async fn list_keys(&self, ctx: &Context, user: Option<&str>) -> Result<Vec<KeyInfo>, CloudError>;
    /// UpdateAccessKey.
    async fn set_status(
        &self,
        ctx: &Context,
        user: Option<&str>,
        id: &str,
        status: KeyStatus,
    ) -> Result<(), CloudError>;
    /// DeleteAccessKey.
    async fn delete_key(&self, ctx: &Context, user: Option<&str>, id: &str) -> Result<(), CloudError>;
}

/// What a create made.
#[derive(Debug)]
pub enum Minted {
    /// The key and its secret.
    Key(NewKey),
    /// The reply was lost, and listing proved this key is the one the create made: it is ours,
    /// but its secret is gone. The resource records it as partially created.
    Adopted(KeyInfo),
}

/// One async lock per account and user in this process, so that only one task per user waits
/// for the host-wide ledger (its lock blocks a thread).
static USER_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = LazyLock::new(Default::default);

fn user_lock(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = USER_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    // Locks nobody holds or waits for are dropped once the map grows, so it stays small.
    if locks.len() > 1024 {
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
    }
    locks.entry(key.to_owned()).or_default().clone()
}

/// Creates a key: one CreateAccessKey on the happy path. A limit error names the keys that exist;
/// an ambiguous failure (lost reply, unreadable answer) is reconciled by [`reconcile`]; a cancel
/// or timeout is reported as such (the caller flags that the key may exist).
pub async fn create<C: KeyApi>(ctx: &Context, api: &C, user: Option<&str>) -> Result<Minted, ProviderError> {
    let scope = format!("{}\u{0}{}\u{0}{}", C::SERVICE, api.account(), user.unwrap_or(""));
    let lock = user_lock(&scope);
    let _in_process = lock.lock().await;
    let mut known = Ledger::lock(&scope).await;
    let mut retried = false;
    loop {
        let started = Utc::now();
        let err = match api.create_key(ctx, user).await {
            Ok(key) => {
                known.remember(&key.info.id);
                return Ok(Minted::Key(key));
            }
            Err(err) => err,
        };
        if err.has_code(C::LIMIT_CODE) {
            let keys = api.list_keys(ctx, user).await.unwrap_or_default();
            return Err(ProviderError::Explained {
                message: limit_message(C::SERVICE, C::MAX_KEYS, &api.owner(user), &keys),
                source: err,
            });
        }
        if matches!(err, CloudError::Cancelled | CloudError::Timeout) {
            return Err(ProviderError::create_interrupted(&api.owner(user), started, err));
        }
        if !(err.is_ambiguous() || matches!(err, CloudError::Decode { .. })) {
            return Err(err.into());
        }
        let window = Window::since(started);
        match reconcile(ctx, api, user, &known, window, err).await? {
            Reconciled::Adopted(info) => {
                known.remember(&info.id);
                return Ok(Minted::Adopted(info));
            }
            Reconciled::NoneMade(err) if !retried => {
                tracing::warn!(owner = %api.owner(user), error = %err, "CreateAccessKey failed without making a key; trying once more");
                retried = true;
            }
            Reconciled::NoneMade(err) => return Err(err.into()),
        }
    }
}

/// What listing after an ambiguous create proved.
enum Reconciled {
    /// The create made exactly this key.
    Adopted(KeyInfo),
    /// The create made no key: the error stands, and creating again is safe.
    NoneMade(CloudError),
}

/// After an ambiguous create, lists the user's keys. Candidates are the keys created within
/// `window` that this process has not handed out: with this user's creates serialized in this
/// process, exactly one candidate is the key the create made. None means it made no key. Several
/// (another client created one at the same time) cannot be told apart: they are reported as
/// `-32004` with `data.candidates`, and none is deleted.
async fn reconcile<C: KeyApi>(
    ctx: &Context,
    api: &C,
    user: Option<&str>,
    known: &Ledger,
    window: Window,
    cause: CloudError,
) -> Result<Reconciled, ProviderError> {
    let owner = api.owner(user);
    let keys = match api.list_keys(ctx, user).await {
        Ok(keys) => keys,
        Err(err) => {
            return Err(ProviderError::Explained {
                message: format!(
                    "CreateAccessKey for {owner} lost its reply ({cause}) and listing the keys to find the one it made failed: \
                     list the keys of {owner}; one created just now may be an orphan whose secret nobody holds"
                ),
                source: err,
            });
        }
    };
    let mut candidates: Vec<KeyInfo> = keys
        .into_iter()
        .filter(|k| !known.contains(&k.id))
        .filter(|k| window.contains(k.created.as_deref()))
        .collect();
    match candidates.len() {
        0 => Ok(Reconciled::NoneMade(cause)),
        1 => {
            let key = candidates.remove(0);
            tracing::warn!(owner = %owner, access_key_id = %key.id, error = %cause, "CreateAccessKey lost its reply; adopting the one key it made");
            Ok(Reconciled::Adopted(key))
        }
        _ => {
            let ids: Vec<String> = candidates.into_iter().map(|k| k.id).collect();
            Err(ProviderError::Unproven {
                message: format!(
                    "CreateAccessKey for {owner} lost its reply ({cause}), and {} keys were created in that time ({}): another \
                     client created keys for the same user at once, so which one is this resource's cannot be proven. None was \
                     adopted or deleted: delete the one no one uses (its secret was never seen), then create again",
                    ids.len(),
                    ids.join(", ")
                ),
                candidates: ids,
                source: Box::new(cause),
            })
        }
    }
}

/// The reason of a partial create whose key was adopted after a lost reply.
pub fn adopted_reason(service: &str) -> String {
    format!(
        "the reply to {service} CreateAccessKey was lost, so its secret is unknown: the key is recorded so that it is \
         deleted with the resource; replace the resource to get a key whose secret is known"
    )
}

/// The message of the per-user key limit: the owner and every key it has.
pub fn limit_message(service: &str, max: usize, owner: &str, keys: &[KeyInfo]) -> String {
    let ids: Vec<String> = keys.iter().map(|k| format!("{} ({})", k.id, k.status)).collect();
    format!(
        "{owner} already has the most access keys {service} allows ({max}): {}. Delete or import one of them before creating another",
        if ids.is_empty() {
            "none listed".to_string()
        } else {
            ids.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_message_names_owner_and_keys() {
        let key = |id: &str, status: &str| KeyInfo {
            id: id.into(),
            status: status.into(),
            created: None,
        };
        let m = limit_message(
            "IAM",
            2,
            "IAM user \"bob\"",
            &[key("AKIA1", "Active"), key("AKIA2", "Inactive")],
        );
        assert!(
            m.contains("\"bob\"")
                && m.contains("AKIA1 (Active)")
                && m.contains("AKIA2 (Inactive)")
                && m.contains("(2)"),
            "{m}"
        );
    }

    #[test]
    fn status_parse_refuses_unknown() {
        assert_eq!(KeyStatus::parse("RAM", "Inactive").unwrap(), KeyStatus::Inactive);
        assert!(KeyStatus::parse("RAM", "Deleted").is_err());
    }
}
