//! What the two OCI Identity credential types share: the user OCID rule and the lifecycle attributes.

use super::rules::{str_prop, Rule};
use crate::protocol::PropertyMap;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// `ocid1.user.<realm>.[region][.future use].<unique id>`.
static USER_OCID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ocid1\.user\.[a-z0-9]+\.[a-z0-9-]*(\.[a-z0-9-]+)?\.[a-z0-9]+$").expect("valid regex"));

/// The `user_id` rule both OCI types use.
pub const USER_ID_RULE: Rule = Rule { name: "user_id is a user OCID", property: "user_id", check: user_ocid };

fn user_ocid(inputs: &PropertyMap) -> Option<String> {
    let value = str_prop(inputs, "user_id")?;
    (!USER_OCID.is_match(value))
        .then(|| "must be a user OCID of the form ocid1.user.<realm>.[region].<unique id>".to_string())
}

/// The lifecycle attributes of an OCI Identity credential.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct OciLifecycle {
    /// The current state: CREATING, ACTIVE, INACTIVE, DELETING or DELETED (from `lifecycleState`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub state: Option<String>,
    /// The detailed status of INACTIVE lifecycleState (from `inactiveStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub inactive_state: Option<String>,
    /// Date and time the object was created, in the format defined by RFC3339. Example:
    /// `2016-08-25T21:10:29.600Z`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub time_created: Option<String>,
    /// Date and time when this credential will expire, in the format defined by RFC3339. Null if
    /// it never expires. Example: `2016-08-25T21:10:29.600Z`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-computed" = true))]
    pub time_expires: Option<String>,
}

// ---- lifecycle helpers shared by both types ----

use super::Context;
use crate::cloud::error::CloudError;
use crate::cloud::oci::client::{CredentialKind, IdentityClient};
use crate::cloud::retry::{with_retries, Idempotency};
use crate::provider::error::ProviderError;
use std::future::Future;
use std::time::Duration;

/// The per-user limit of each credential kind.
pub const PER_USER_LIMIT: usize = 2;
/// First wait between polls for ACTIVE; doubles up to [`MAX_POLL_DELAY`].
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
const MAX_POLL_DELAY: Duration = Duration::from_secs(10);

/// The lifecycle attributes as the provider stores them: RFC 3339 times, the status as text.
pub fn lifecycle(state: Option<&str>, inactive: Option<i64>, created: Option<&str>, expires: Option<&str>) -> OciLifecycle {
    OciLifecycle {
        state: state.map(str::to_owned),
        inactive_state: inactive.map(|n| n.to_string()),
        time_created: created.map(rfc3339),
        time_expires: expires.map(rfc3339),
    }
}

/// Normalizes a timestamp to RFC 3339 with milliseconds and `Z`; passes through what does not parse.
fn rfc3339(value: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|_| value.to_owned())
}

/// Whether a credential in this state no longer exists for the provider.
pub fn is_gone(state: Option<&str>) -> bool {
    matches!(state, Some("DELETED") | Some("DELETING"))
}

/// Splits an import id `users/{userId}/{segment}/{id}` into the user and the credential OCIDs.
pub fn parse_import_id(id: &str, kind: CredentialKind) -> Option<(String, String)> {
    let rest = id.strip_prefix("users/")?;
    let (user, cred) = rest.split_once(&format!("/{}/", kind.segment()))?;
    (!user.is_empty() && !cred.is_empty() && !cred.contains('/')).then(|| (user.to_owned(), cred.to_owned()))
}

/// The user and credential OCIDs of a `read`: from an import id, or from the prior state.
pub fn read_target(id: &str, kind: CredentialKind, user_from_state: Option<&str>) -> Result<(String, String), ProviderError> {
    if let Some(found) = parse_import_id(id, kind) {
        return Ok(found);
    }
    match user_from_state {
        Some(user) if !id.contains('/') => Ok((user.to_owned(), id.to_owned())),
        _ => Err(ProviderError::invalid(
            "id",
            format!("to import, give the id as users/{{userId}}/{}/{{id}}", kind.segment()),
        )),
    }
}

/// Human words for a kind.
pub fn noun(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::AuthToken => "auth token",
        CredentialKind::CustomerSecretKey => "customer secret key",
    }
}

/// Lists a user's credentials with retries; `None` when the user is not found.
pub async fn list_or_none<T, F, Fut>(ctx: &Context, list: F) -> Result<Option<Vec<T>>, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<T>, CloudError>>,
{
    match with_retries(ctx, Idempotency::Idempotent, list).await {
        Ok(items) => Ok(Some(items)),
        Err(CloudError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns a create failure into what a user can act on: the per-user limit (naming the user and
/// the credentials that exist) and an unknown user. Other errors pass through.
pub async fn explain_create_error(
    ctx: &Context,
    client: &IdentityClient,
    kind: CredentialKind,
    user_id: &str,
    err: CloudError,
) -> ProviderError {
    if err.has_code("LimitExceeded") {
        let existing = match kind {
            CredentialKind::AuthToken => list_or_none(ctx, || client.list_auth_tokens(user_id))
                .await
                .ok()
                .flatten()
                .map(|v| v.into_iter().filter(|t| !is_gone(t.lifecycle_state.as_deref())).map(|t| t.id).collect::<Vec<_>>()),
            CredentialKind::CustomerSecretKey => list_or_none(ctx, || client.list_customer_secret_keys(user_id))
                .await
                .ok()
                .flatten()
                .map(|v| v.into_iter().filter(|t| !is_gone(t.lifecycle_state.as_deref())).map(|t| t.id).collect::<Vec<_>>()),
        };
        let existing = match existing {
            Some(ids) if !ids.is_empty() => format!(" (existing: {})", ids.join(", ")),
            _ => String::new(),
        };
        return ProviderError::Explained {
            message: format!(
                "user {user_id} already has the maximum of {PER_USER_LIMIT} {}s{existing}: delete one, or import it with id users/{user_id}/{}/<id>",
                noun(kind),
                kind.segment()
            ),
            source: err,
        };
    }
    if matches!(err, CloudError::Api { status: 404, .. }) {
        return ProviderError::Explained {
            message: format!(
                "user {user_id} was not found, or the configured API key is not authorized to manage its {}s",
                noun(kind)
            ),
            source: err,
        };
    }
    ProviderError::Cloud(err)
}

/// Polls (a list, via `poll`) until the credential is ACTIVE; bounded by the context's deadline
/// and stopped by its cancellation. Returns the last seen item.
pub async fn wait_active<T, F, Fut>(ctx: &Context, mut poll: F, state_of: fn(&T) -> Option<&str>) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, CloudError>>,
{
    let mut delay = FIRST_POLL_DELAY;
    loop {
        match with_retries(ctx, Idempotency::Idempotent, &mut poll).await? {
            Some(item) if state_of(&item) == Some("ACTIVE") => return Ok(item),
            Some(item) if is_gone(state_of(&item)) => {
                return Err(CloudError::Decode { service: "Identity", detail: "the credential was deleted while it was being created".into() });
            }
            _ => {}
        }
        ctx.sleep(delay).await?;
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
}

/// The outputs of a half-done create for `PartiallyCreated`: the secret field wrapped.
pub fn partial_outputs<O: Serialize>(outputs: &O, secret_field: &str) -> crate::protocol::PropertyMap {
    let mut map = match serde_json::to_value(outputs) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => Default::default(),
    };
    if let Some(v) = map.remove(secret_field) {
        map.insert(secret_field.to_owned(), crate::protocol::envelope::wrap_secret(v));
    }
    map.retain(|_, v| !v.is_null());
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("users/ocid1.user.oc1..a/authTokens/ocid1.credential.oc1..b", CredentialKind::AuthToken),
            Some(("ocid1.user.oc1..a".into(), "ocid1.credential.oc1..b".into()))
        );
        assert_eq!(parse_import_id("users/u/customerSecretKeys/k", CredentialKind::AuthToken), None);
        assert_eq!(parse_import_id("ocid1.credential.oc1..b", CredentialKind::AuthToken), None);
        assert!(read_target("x", CredentialKind::CustomerSecretKey, None).is_err());
        assert_eq!(read_target("k", CredentialKind::CustomerSecretKey, Some("u")).unwrap(), ("u".into(), "k".into()));
    }

    #[test]
    fn lifecycle_is_normalized() {
        let l = lifecycle(Some("INACTIVE"), Some(4), Some("2016-08-25T21:10:29.6+00:00"), None);
        assert_eq!(l.inactive_state.as_deref(), Some("4"));
        assert_eq!(l.time_created.as_deref(), Some("2016-08-25T21:10:29.600Z"));
        assert_eq!(l.time_expires, None);
    }
}
