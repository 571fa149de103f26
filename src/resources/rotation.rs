//! Built-in key rotation, shared by the four key types (`aws_iam_access_key`,
//! `alicloud_ram_access_key`, `oci_identity_auth_token`, `oci_identity_customer_secret_key`).
//!
//! Two arguments, flattened into each type's inputs as [`Rotation`]:
//! - `rotate_after` (`90d`, `12h`, ...): once the key is older, `diff` plans a replacement, with
//!   the reason in `detailedDiff.rotate_after.reason`. The age is the cloud's creation time (read
//!   by listing the owner's keys), so a key made or re-dated outside this state still counts.
//! - `keepers` (a map of strings, ForceNew): any change replaces the key, as in
//!   terraform-provider-random.
//!
//! A replacement creates the new key before deleting the old one. A user holding the most keys
//! the cloud allows would make that create fail half way through a deployment, so for a key that
//! sets either argument `diff` lists the owner's keys whenever it plans a create-before-delete
//! replacement, and refuses early, naming the keys that exist. A key that sets neither keeps a
//! diff that never calls the cloud.

use super::Context;
use super::access_key::KeyApi;
use super::oci_credential;
use super::rules::{self, Rule, str_prop};
use super::window::parse_time;
use crate::cloud::oci::client::CredentialKind;
use crate::protocol::{DiffKind, DiffResponse, Failure, PropertyDiff, PropertyMap};
use crate::resources::error::ProviderError;
use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// The rotation arguments of a key type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rotation {
    /// Rotate the key once it is older than this: a whole number and a unit, `m` (minutes), `h`
    /// (hours), `d` (days) or `w` (weeks), e.g. `90d`. The age is the cloud's creation time. When
    /// the key is older, `diff` plans a replacement (create the new key, update what depends on it,
    /// then delete the old key) with the reason in the detailed diff. Changing it alone changes
    /// nothing in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-updatable" = true))]
    pub rotate_after: Option<String>,
    /// Arbitrary map of values that, when changed, will trigger recreation of the key (as
    /// terraform-provider-random's `keepers`): for example a date, or the version of a policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-forceNew" = true))]
    pub keepers: Option<BTreeMap<String, String>>,
}

/// The `rotate_after` rule: a duration this module understands.
pub const ROTATE_AFTER_RULE: Rule = Rule {
    name: "rotate_after is a duration",
    property: "rotate_after",
    check: rotate_after_form,
};

fn rotate_after_form(inputs: &PropertyMap) -> Option<String> {
    parse_duration(str_prop(inputs, "rotate_after")?).err()
}

/// The units of `rotate_after`, one row each.
const UNITS: &[(char, i64)] = &[('m', 60), ('h', 3600), ('d', 86_400), ('w', 604_800)];

/// Parses `90d`, `12h`, `30m`, `2w`. The error is the rule, never the value.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const RULE: &str = "must be a whole number followed by m, h, d or w (minutes, hours, days, weeks), e.g. 90d";
    let unit = text.chars().last().ok_or(RULE)?;
    let seconds = UNITS.iter().find(|(u, _)| *u == unit).map(|(_, s)| *s).ok_or(RULE)?;
    let number = &text[..text.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RULE.into());
    }
    match number.parse::<i64>().ok().and_then(|n| n.checked_mul(seconds)) {
        Some(0) => Err("must be longer than zero".into()),
        // Ten years: anything longer is a typo, and would overflow a date.
        Some(s) if s <= 10 * 366 * 86_400 => Ok(Duration::seconds(s)),
        _ => Err("must be at most ten years".into()),
    }
}

/// One key the owner holds, as the cloud lists it.
#[derive(Debug, Clone)]
pub struct HeldKey {
    /// Its id.
    pub id: String,
    /// When the cloud created it, as the cloud wrote it.
    pub created: Option<String>,
}

/// The keys of the owner a new key would be created for.
#[derive(Debug, Clone)]
pub struct Holder {
    /// Who, for messages: `IAM user "bob"`.
    pub owner: String,
    /// The input naming the owner, where a refusal is reported (`user`, `user_id`).
    pub property: &'static str,
    /// What, for messages: `access keys`.
    pub noun: &'static str,
    /// The most the cloud allows.
    pub max: usize,
    /// The keys that exist now.
    pub keys: Vec<HeldKey>,
}

/// What a diff of a key type adds from the cloud: the rotation it is due and the key limit.
///
/// `created_prop` is the output holding the creation time (the fallback when the cloud does not
/// list the key); `list` lists the keys of the owner named by the *new* inputs, or `None` when
/// that owner is not known yet (a preview).
pub async fn plan<F, Fut>(
    ctx: &super::LazyContext<'_>,
    id: &str,
    olds: &PropertyMap,
    news: &PropertyMap,
    created_prop: &str,
    diff: &mut DiffResponse,
    list: F,
) -> Result<(), ProviderError>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<Option<Holder>, ProviderError>>,
{
    let (news, _) = crate::protocol::envelope::unwrap_all(news.clone());
    let rotate_after = str_prop(&news, "rotate_after").and_then(|t| parse_duration(t).ok());
    // Only a key that opted into rotation costs a cloud call: the others keep a pure diff (their
    // create still names the keys when the cloud refuses one more).
    let replacing = !diff.replaces.is_empty() && !diff.delete_before_replace && rules::is_set(&news, "keepers");
    if rotate_after.is_none() && !replacing {
        return Ok(());
    }
    let Some(holder) = list(ctx.get()?.clone()).await? else {
        return Ok(());
    };
    let (olds, _) = crate::protocol::envelope::unwrap_all(olds.clone());
    if let Some(after) = rotate_after {
        let listed = holder.keys.iter().find(|k| k.id == id).map(|k| k.created.clone());
        let created = match listed {
            Some(created) => created,
            // Not listed: gone, or the owner changed (a replacement already); the state's date.
            None => str_prop(&olds, created_prop).map(str::to_owned),
        };
        if let Some(reason) = created.as_deref().and_then(|c| due(c, after, Utc::now(), &news)) {
            mark_due(diff, reason);
        }
    }
    if !diff.replaces.is_empty() && !diff.delete_before_replace && holder.keys.len() >= holder.max {
        return Err(ProviderError::InvalidParams(vec![Failure::new(
            holder.property,
            limit_reason(&holder),
        )]));
    }
    Ok(())
}

/// A string input that is set and known (not an unknown of a preview), envelopes removed.
pub fn known_str(inputs: &PropertyMap, name: &str) -> Known {
    match inputs
        .get(name)
        .map(|v| crate::protocol::envelope::unwrap_secret(v.clone()).0)
    {
        None | Some(serde_json::Value::Null) => Known::Absent,
        Some(v) if crate::protocol::envelope::is_unknown(&v) => Known::Unknown,
        Some(serde_json::Value::String(s)) => Known::Value(s),
        Some(_) => Known::Unknown,
    }
}

/// An input as a diff sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// Not set.
    Absent,
    /// Set from a value not known yet (a preview).
    Unknown,
    /// Set.
    Value(String),
}

/// The access keys of an IAM or RAM user (`user` `None`: the caller's own identity).
pub async fn access_keys<C: KeyApi>(
    ctx: &Context,
    api: &C,
    user: Option<&str>,
    property: &'static str,
) -> Result<Holder, ProviderError> {
    let keys = api.list_keys(ctx, user).await?;
    Ok(Holder {
        owner: api.owner(user),
        property,
        noun: "access keys",
        max: C::MAX_KEYS,
        keys: keys
            .into_iter()
            .map(|k| HeldKey {
                id: k.id,
                created: k.created,
            })
            .collect(),
    })
}

/// The credentials of one kind an OCI user holds; `None` when the user does not exist.
pub async fn oci_credentials(ctx: &Context, kind: CredentialKind, user: &str) -> Result<Option<Holder>, ProviderError> {
    let client = ctx.clouds.oci_identity()?;
    let Some(list) = client.list_credentials_of_existing_user(ctx, kind, user).await? else {
        return Ok(None);
    };
    Ok(Some(Holder {
        owner: format!("user {user}"),
        property: "user_id",
        noun: match kind {
            CredentialKind::AuthToken => "auth tokens",
            CredentialKind::CustomerSecretKey => "customer secret keys",
        },
        max: oci_credential::PER_USER_LIMIT,
        keys: list
            .into_iter()
            .filter(|c| !oci_credential::is_gone(c.lifecycle_state.as_deref()))
            .map(|c| HeldKey {
                id: c.id,
                created: c.time_created,
            })
            .collect(),
    }))
}

/// The reason a key created at `created` is due at `now`, or `None` when it is not (or the date
/// cannot be read: a rotation is never planned on a guess).
fn due(created: &str, after: Duration, now: DateTime<Utc>, news: &PropertyMap) -> Option<String> {
    let created = parse_time(created)?;
    let age = now - created;
    (age > after).then(|| {
        format!(
            "the key was created {} ago ({}), longer than rotate_after {}: rotating it",
            words(age),
            created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            str_prop(news, "rotate_after").unwrap_or_default()
        )
    })
}

/// Marks the diff as a replacement for rotation.
fn mark_due(diff: &mut DiffResponse, reason: String) {
    if !diff.replaces.iter().any(|r| r == "rotate_after") {
        diff.replaces.push("rotate_after".into());
    }
    diff.detailed_diff.insert(
        "rotate_after".into(),
        PropertyDiff {
            kind: DiffKind::UpdateReplace,
            reason: Some(reason),
        },
    );
    diff.changes = true;
    diff.stables.clear();
}

/// Why a create-before-delete replacement cannot be made, naming the keys.
fn limit_reason(holder: &Holder) -> String {
    let ids: Vec<&str> = holder.keys.iter().map(|k| k.id.as_str()).collect();
    format!(
        "{} already holds the maximum of {} {} ({}): replacing this key creates the new one before deleting the old one, which the cloud would refuse; delete one of them (or import it and let it go) first, or set the delete_before_replace option",
        holder.owner,
        holder.max,
        holder.noun,
        ids.join(", ")
    )
}

/// A whole number of the largest fitting unit: `95 days`, `3 hours`.
fn words(age: Duration) -> String {
    let (n, unit) = match age.num_seconds() {
        s if s >= 86_400 => (s / 86_400, "day"),
        s if s >= 3600 => (s / 3600, "hour"),
        s => (s / 60, "minute"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A diff that no rotation or key limit concerns decides from the state alone: the context
    /// (cancel token, deadline, in-flight count) is never made. One that does asks for it.
    #[test]
    fn plan_makes_the_context_only_for_a_cloud_read() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let asked = AtomicUsize::new(0);
        let refuse = || {
            asked.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::invalid("ctx", "refused by the test"))
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let plan_with = |news: serde_json::Value| {
            let ctx = super::super::LazyContext::new(&refuse);
            let news = news.as_object().unwrap().clone();
            let mut diff = DiffResponse::default();
            let list = |_| async { Ok(None) };
            runtime
                .block_on(plan(&ctx, "k1", &news, &news, "created", &mut diff, list))
                .is_ok()
        };
        assert!(plan_with(json!({"user": "bob"})));
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        // Opted into rotation: the key's age is asked of the cloud, so the context is asked for
        // (and refused here, which the diff reports).
        assert!(!plan_with(json!({"user": "bob", "rotate_after": "90d"})));
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_duration("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("2w"), Ok(Duration::weeks(2)));
        for bad in ["", "d", "90", "90s", "-1d", "1.5d", " 9d", "9 d", "90D", "é"] {
            assert!(parse_duration(bad).unwrap_err().contains("whole number"), "{bad:?}");
        }
        assert!(parse_duration("0d").unwrap_err().contains("longer than zero"));
        assert!(parse_duration("99999w").unwrap_err().contains("ten years"));
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn due_only_past_the_age() {
        let now = parse_time("2026-06-01T00:00:00Z").unwrap();
        let news = json!({"rotate_after": "90d"}).as_object().unwrap().clone();
        let old = due("2026-01-01T00:00:00Z", Duration::days(90), now, &news).unwrap();
        assert!(
            old.contains("151 days ago") && old.contains("rotate_after 90d"),
            "{old}"
        );
        assert_eq!(due("2026-05-01T00:00:00Z", Duration::days(90), now, &news), None);
        assert_eq!(due("garbage", Duration::days(90), now, &news), None);
    }

    #[test]
    fn limit_names_the_keys() {
        let holder = Holder {
            owner: "IAM user \"bob\"".into(),
            property: "user",
            noun: "access keys",
            max: 2,
            keys: vec![
                HeldKey {
                    id: "AKIA1".into(),
                    created: None,
                },
                HeldKey {
                    id: "AKIA2".into(),
                    created: None,
                },
            ],
        };
        let reason = limit_reason(&holder);
        assert!(reason.contains("maximum of 2 access keys (AKIA1, AKIA2)"), "{reason}");
    }
}
