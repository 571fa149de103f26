//! One OCI Identity credential resource, generic over its kind ([`OciKind`]): the user OCID rule,
//! the lifecycle attributes, and the whole create/read/update/delete lifecycle. Each type
//! (`oci_identity_auth_token`, `oci_identity_customer_secret_key`) is a thin declaration of its
//! Inputs and Outputs, its kind and its import form.

use super::rules::{Rule, str_prop};
use super::{Context, CreateResult, Found, Resource, ResourceError, ResourceInfo, Timeouts};
use crate::cloud::error::CloudError;
use crate::cloud::oci::client::{Credential, CredentialKind, IdentityClient};
use crate::protocol::PropertyMap;
use crate::resources::error::ProviderError;
use crate::secrets::Secret;
use async_trait::async_trait;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::LazyLock;
use std::time::Duration;

/// `ocid1.user.<realm>.[region][.future use].<unique id>`.
static USER_OCID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ocid1\.user\.[a-z0-9]+\.[a-z0-9-]*(\.[a-z0-9-]+)?\.[a-z0-9]+$").expect("valid regex")
});

/// The `user_id` rule both OCI types use.
pub const USER_ID_RULE: Rule = Rule {
    name: "user_id is a user OCID",
    property: "user_id",
    check: user_ocid,
};

fn user_ocid(inputs: &PropertyMap) -> Option<String> {
    let value = str_prop(inputs, "user_id")?;
    (!USER_OCID.is_match(value))
        .then(|| "must be a user OCID of the form ocid1.user.<realm>.[region].<unique id>".to_string())
}

/// The lifecycle attributes of an OCI Identity credential.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct OciLifecycle {
    /// The current state: CREATING, ACTIVE, INACTIVE, DELETING or DELETED (from `lifecycleState`).
    /// A create waits until the credential settles: ACTIVE is done; INACTIVE, or the create
    /// timeout, answers a partial result holding what the service last reported (this,
    /// `inactive_state`, `time_expires`). A delete waits for DELETED, bounded by the delete
    /// timeout, as the credential counts against the user's limit until then.
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

/// What one OCI Identity credential kind declares; [`OciCredential`] does the rest.
pub trait OciKind: Send + Sync + 'static {
    /// The Terraform type name.
    const TYPE: &'static str;
    /// The credential kind: the path segment and the label's wire name.
    const KIND: CredentialKind;
    /// How to import, for the docs.
    const IMPORT: &'static str;
    /// The arguments (see [`Resource::Inputs`]).
    type Inputs: Serialize + serde::de::DeserializeOwned + JsonSchema + Clone + Send + Sync + 'static;
    /// The state (see [`Resource::Outputs`]).
    type Outputs: Serialize + serde::de::DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The user OCID of `inputs`.
    fn user_id(inputs: &Self::Inputs) -> &str;
    /// The rotation arguments of `inputs`.
    fn rotation(inputs: &mut Self::Inputs) -> &mut super::rotation::Rotation;
    /// The label of `inputs` (`description`, `display_name`).
    fn label(inputs: &Self::Inputs) -> &str;
    /// The inputs of a credential found in the cloud.
    fn new_inputs(user_id: String, label: String) -> Self::Inputs;
    /// The outputs from their parts.
    fn new_outputs(
        inputs: Self::Inputs,
        id: String,
        lifecycle: OciLifecycle,
        secret: Option<Secret<String>>,
    ) -> Self::Outputs;
    /// The inputs and the secret inside a state.
    fn split_outputs(outputs: Self::Outputs) -> (Self::Inputs, Option<Secret<String>>);
}

/// The OCI Identity credential resource of kind `K`.
pub struct OciCredential<K>(PhantomData<K>);

impl<K> OciCredential<K> {
    /// The resource.
    pub const fn new() -> Self {
        OciCredential(PhantomData)
    }
}

impl<K> Default for OciCredential<K> {
    fn default() -> Self {
        Self::new()
    }
}

const RULES: &[Rule] = &[USER_ID_RULE, super::rotation::ROTATE_AFTER_RULE];

#[async_trait]
impl<K: OciKind> Resource for OciCredential<K> {
    const TYPE: &'static str = K::TYPE;
    type Inputs = K::Inputs;
    type Outputs = K::Outputs;

    fn info() -> ResourceInfo {
        ResourceInfo {
            cloud: "oci",
            import: K::IMPORT,
            // Terraform's OCI provider waits up to 20 minutes for Identity.
            timeouts: Timeouts {
                create: 1200,
                read: 300,
                update: 1200,
                delete: 1200,
            },
        }
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
        use super::rotation::{self, Known};
        let user = rotation::known_str(news, "user_id");
        rotation::plan(ctx, id, olds, news, "time_created", diff, |ctx| async move {
            let Known::Value(user) = user else { return Ok(None) };
            rotation::oci_credentials(&ctx, K::KIND, &user).await
        })
        .await
    }

    async fn create(&self, ctx: &Context, inputs: K::Inputs) -> CreateResult<K::Outputs> {
        create::<K>(ctx, inputs).await
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        inputs: Option<K::Inputs>,
        outputs: Option<K::Outputs>,
    ) -> Result<Option<Found<K::Inputs, K::Outputs>>, ProviderError> {
        read::<K>(ctx, id, inputs, outputs).await
    }

    async fn update(
        &self,
        ctx: &Context,
        id: &str,
        olds: K::Outputs,
        news: K::Inputs,
    ) -> Result<K::Outputs, ResourceError<K::Outputs>> {
        update::<K>(ctx, id, olds, news).await
    }

    async fn delete(&self, ctx: &Context, id: &str, outputs: K::Outputs) -> Result<(), ProviderError> {
        delete::<K>(ctx, id, outputs).await
    }
}

/// Creates a credential and waits for it to settle; if it does not become ACTIVE (it settles
/// INACTIVE, or the create timeout passes first), the resource is partially created with the
/// lifecycle the service last reported (`state`, `inactive_state`, `time_expires`); the secret is
/// shown only now, so it is kept in the partial state too.
async fn create<T: OciKind>(ctx: &Context, inputs: T::Inputs) -> CreateResult<T::Outputs> {
    let client = ctx.clouds.oci_identity()?;
    let user = T::user_id(&inputs).to_owned();
    // One retry token per create: a retry after a lost answer gets the same secret back.
    let retry_token = uuid::Uuid::new_v4().to_string();
    let created = match client
        .create_credential(ctx, T::KIND, &user, T::label(&inputs), &retry_token)
        .await
    {
        Ok(created) => created,
        Err(err) => return Err(explain_create_error(ctx, &client, T::KIND, &user, err).await.into()),
    };
    let id = created.id.clone();
    let secret = created.secret.clone();
    let waited = wait_settled(
        ctx,
        || async {
            Ok(client
                .list_credentials(ctx, T::KIND, &user)
                .await?
                .into_iter()
                .find(|c| c.id == id))
        },
        |c: &Credential| c.lifecycle_state.as_deref(),
    )
    .await;
    match waited {
        Ok(active) if active.lifecycle_state.as_deref() == Some("ACTIVE") => {
            Ok((id, outputs_of::<T>(inputs, &active, secret)))
        }
        Ok(inactive) => {
            let status = inactive
                .inactive_status
                .map_or_else(|| "unknown".to_string(), |n| n.to_string());
            Err(ResourceError::partial(
                id,
                outputs_of::<T>(inputs, &inactive, secret),
                format!("it settled INACTIVE (inactive_state {status}), not ACTIVE"),
            ))
        }
        Err((err, last_seen)) => Err(ResourceError::partial(
            id,
            outputs_of::<T>(inputs, last_seen.as_ref().unwrap_or(&created), secret),
            format!("it did not become ACTIVE: {err}"),
        )),
    }
}

/// Reads a credential by id (with the user from the state) or by import id; `None` when it is gone.
async fn read<T: OciKind>(
    ctx: &Context,
    id: &str,
    inputs: Option<T::Inputs>,
    outputs: Option<T::Outputs>,
) -> Result<Option<Found<T::Inputs, T::Outputs>>, ProviderError> {
    let (old_inputs, secret) = outputs.map(T::split_outputs).unzip();
    let mut prior = old_inputs.or(inputs);
    let known_user = prior.as_ref().map(|i| T::user_id(i).to_owned());
    let (user, cred_id) = read_target(id, T::KIND, known_user.as_deref())?;
    let client = ctx.clouds.oci_identity()?;
    let Some(list) = client.list_credentials_of_existing_user(ctx, T::KIND, &user).await? else {
        return Ok(None);
    };
    let Some(found) = list.into_iter().find(|c| c.id == cred_id) else {
        return Ok(None);
    };
    if is_gone(found.lifecycle_state.as_deref()) {
        return Ok(None);
    }
    let mut found_inputs = T::new_inputs(found.user_id.clone(), found.label.clone().unwrap_or_default());
    // The cloud knows nothing of rotation: the arguments stay as the state has them.
    if let Some(prior) = prior.as_mut() {
        *T::rotation(&mut found_inputs) = std::mem::take(T::rotation(prior));
    }
    // The cloud never shows the secret again: keep the one from the state.
    let found_outputs = outputs_of::<T>(found_inputs.clone(), &found, secret.flatten());
    Ok(Some(Found {
        id: cred_id,
        inputs: found_inputs,
        outputs: found_outputs,
    }))
}

/// Sets the label, the only updatable input.
async fn update<T: OciKind>(
    ctx: &Context,
    id: &str,
    olds: T::Outputs,
    news: T::Inputs,
) -> Result<T::Outputs, ResourceError<T::Outputs>> {
    let client = ctx.clouds.oci_identity()?;
    let (old_inputs, secret) = T::split_outputs(olds);
    let user = T::user_id(&old_inputs);
    let updated = client
        .update_credential(ctx, T::KIND, user, id, T::label(&news))
        .await?;
    Ok(outputs_of::<T>(news, &updated, secret))
}

/// Deletes a credential and waits until the service reports it DELETED (or no longer lists it),
/// bounded by the delete timeout, as the Terraform provider does: until then the credential
/// still counts against the user's limit of two, so a replacement created at once could fail.
/// One already gone counts as deleted.
async fn delete<T: OciKind>(ctx: &Context, id: &str, outputs: T::Outputs) -> Result<(), ProviderError> {
    let client = ctx.clouds.oci_identity()?;
    let (inputs, _) = T::split_outputs(outputs);
    let user = T::user_id(&inputs);
    client.delete_credential(ctx, T::KIND, user, id).await?;
    let mut delay = FIRST_POLL_DELAY;
    loop {
        let listed = client.list_credentials_of_existing_user(ctx, T::KIND, user).await?;
        let found = listed.into_iter().flatten().find(|c| c.id == id);
        if found.is_none_or(|c| c.lifecycle_state.as_deref() == Some("DELETED")) {
            return Ok(());
        }
        ctx.sleep(delay).await?;
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
}

fn outputs_of<T: OciKind>(inputs: T::Inputs, c: &Credential, secret: Option<Secret<String>>) -> T::Outputs {
    let lifecycle = lifecycle(
        c.lifecycle_state.as_deref(),
        c.inactive_status,
        c.time_created.as_deref(),
        c.time_expires.as_deref(),
    );
    T::new_outputs(inputs, c.id.clone(), lifecycle, secret)
}

/// The per-user limit of each credential kind.
pub const PER_USER_LIMIT: usize = 2;
/// First wait between polls for ACTIVE; doubles up to [`MAX_POLL_DELAY`].
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
const MAX_POLL_DELAY: Duration = Duration::from_secs(10);

/// The lifecycle attributes as the provider stores them: RFC 3339 times, the status as text.
pub fn lifecycle(
    state: Option<&str>,
    inactive: Option<i64>,
    created: Option<&str>,
    expires: Option<&str>,
) -> OciLifecycle {
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
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
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
pub fn read_target(
    id: &str,
    kind: CredentialKind,
    user_from_state: Option<&str>,
) -> Result<(String, String), ProviderError> {
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
        let existing = client
            .list_credentials_of_existing_user(ctx, kind, user_id)
            .await
            .ok()
            .flatten()
            .map(|v| {
                v.into_iter()
                    .filter(|c| !is_gone(c.lifecycle_state.as_deref()))
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            });
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
    if err.is_not_found() {
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

/// Polls (a list, via `poll`, which retries itself) until the credential settles, ACTIVE or
/// INACTIVE (which no wait changes); bounded by the context's deadline and stopped by its
/// cancellation. A failure comes with the last item seen, so that the caller reports what the
/// service last said rather than the create's answer.
pub async fn wait_settled<T, F, Fut>(
    ctx: &Context,
    mut poll: F,
    state_of: fn(&T) -> Option<&str>,
) -> Result<T, (CloudError, Option<T>)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, CloudError>>,
{
    let mut delay = FIRST_POLL_DELAY;
    let mut last_seen = None;
    loop {
        match poll().await {
            Ok(Some(item)) if matches!(state_of(&item), Some("ACTIVE" | "INACTIVE")) => return Ok(item),
            Ok(Some(item)) if is_gone(state_of(&item)) => {
                let gone = CloudError::Decode {
                    service: "Identity",
                    detail: "the credential was deleted while it was being created".into(),
                };
                return Err((gone, Some(item)));
            }
            Ok(Some(item)) => last_seen = Some(item),
            Ok(None) => {}
            Err(err) => return Err((err, last_seen)),
        }
        if let Err(err) = ctx.sleep(delay).await {
            return Err((err, last_seen));
        }
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id(
                "users/ocid1.user.oc1..a/authTokens/ocid1.credential.oc1..b",
                CredentialKind::AuthToken
            ),
            Some(("ocid1.user.oc1..a".into(), "ocid1.credential.oc1..b".into()))
        );
        assert_eq!(
            parse_import_id("users/u/customerSecretKeys/k", CredentialKind::AuthToken),
            None
        );
        assert_eq!(
            parse_import_id("ocid1.credential.oc1..b", CredentialKind::AuthToken),
            None
        );
        assert!(read_target("x", CredentialKind::CustomerSecretKey, None).is_err());
        assert_eq!(
            read_target("k", CredentialKind::CustomerSecretKey, Some("u")).unwrap(),
            ("u".into(), "k".into())
        );
    }

    #[test]
    fn lifecycle_is_normalized() {
        let l = lifecycle(Some("INACTIVE"), Some(4), Some("2016-08-25T21:10:29.6+00:00"), None);
        assert_eq!(l.inactive_state.as_deref(), Some("4"));
        assert_eq!(l.time_created.as_deref(), Some("2016-08-25T21:10:29.600Z"));
        assert_eq!(l.time_expires, None);
    }
}
