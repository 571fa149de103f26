//! `diff`: compares the recorded state with new inputs, property by property, using the schema's
//! ForceNew flags to decide between an in-place update and a replacement.

use super::rules::property;
use super::schema_doc::SchemaDoc;
use crate::protocol::envelope::{holds_secret, is_unknown, unwrap_all};
use crate::protocol::{DiffKind, DiffResponse, PropertyDiff, PropertyMap};
use std::borrow::Cow;

/// Computes the diff. `olds` are the current outputs (which hold every input), `news` the new
/// inputs; `absent_agrees` says where a property missing from `olds` already agrees with the
/// new value (see [`super::Resource::absent_agrees`]).
pub fn diff(
    doc: &SchemaDoc,
    olds: &PropertyMap,
    news: &PropertyMap,
    ignore_changes: &[String],
    absent_agrees: impl Fn(&PropertyMap, &str, &serde_json::Value) -> bool,
    delete_before_replace: impl FnOnce(&PropertyMap, &PropertyMap) -> bool,
) -> DiffResponse {
    let (olds, news) = (plain(olds), plain(news));
    let mut response = DiffResponse::default();
    for (name, meta) in &doc.inputs {
        // Never in state: a write-only input changes through its companion version property.
        if meta.write_only || ignore_changes.iter().any(|ignored| ignored == name) {
            continue;
        }
        let old = property(&olds, name).filter(|v| !v.is_null());
        let new = property(&news, name).filter(|v| !v.is_null());
        let kind = match (old, new) {
            (None, None) => continue,
            (None, Some(n)) if absent_agrees(&olds, name, n) => continue,
            (None, Some(_)) => DiffKind::Add,
            (Some(_), None) if meta.computed => continue, // the provider keeps what it computed
            (Some(_), None) => DiffKind::Delete,
            (Some(o), Some(n)) if o == n && !is_unknown(n) => continue,
            (Some(o), Some(n)) if meta.json_text && same_json(o, n) => continue,
            (Some(_), Some(_)) => DiffKind::Update,
        };
        let kind = if meta.force_new { replacing(kind) } else { kind };
        if meta.force_new {
            response.replaces.push(name.clone());
        }
        response
            .detailed_diff
            .insert(name.clone(), PropertyDiff { kind, reason: None });
    }
    response.changes = !response.detailed_diff.is_empty();
    if response.replaces.is_empty() {
        let changed = &response.detailed_diff;
        let mut stables = Vec::with_capacity(doc.output_names.len());
        stables.extend(
            doc.output_names
                .iter()
                .filter(|name| !changed.contains_key(**name))
                .map(|name| Cow::Borrowed(*name)),
        );
        response.stables = stables;
    } else {
        response.delete_before_replace = delete_before_replace(&olds, &news);
    }
    response
}

/// `map` without secret envelopes; copied only when it has one (diff compares plain values).
fn plain(map: &PropertyMap) -> Cow<'_, PropertyMap> {
    if holds_secret(map) {
        Cow::Owned(unwrap_all(map.clone()).0)
    } else {
        Cow::Borrowed(map)
    }
}

/// Whether two strings hold the same JSON document.
fn same_json(old: &serde_json::Value, new: &serde_json::Value) -> bool {
    let parse = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
    };
    matches!((parse(old), parse(new)), (Some(a), Some(b)) if a == b)
}

fn replacing(kind: DiffKind) -> DiffKind {
    match kind {
        DiffKind::Add => DiffKind::AddReplace,
        DiffKind::Update => DiffKind::UpdateReplace,
        DiffKind::Delete => DiffKind::DeleteReplace,
        other => other,
    }
}
