//! References: `{"$credplane": "ref", "resource": NAME, "property": PROP}` in an input stands for
//! another resource's output. The engine resolves them, so an SDK never waits to register.

use crate::protocol::envelope::{ENVELOPE_KEY, is_secret, unknown, wrap_secret};
use serde_json::{Map, Value};

/// A reference found in an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    /// The resource referred to.
    pub resource: String,
    /// Its output property (`id` allowed).
    pub property: String,
}

fn as_ref(value: &Value) -> Option<Result<Ref, String>> {
    let map = value.as_object()?;
    if map.get(ENVELOPE_KEY)?.as_str()? != "ref" {
        return None;
    }
    let field = |k: &str| {
        map.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(match (field("resource"), field("property")) {
        (Some(resource), Some(property)) => Ok(Ref { resource, property }),
        _ => Err("a reference needs a non-empty \"resource\" and \"property\"".into()),
    })
}

/// Every reference in `value`, with the path where it sits.
pub fn collect(value: &Value, path: &str, out: &mut Vec<(String, Result<Ref, String>)>) {
    if let Some(r) = as_ref(value) {
        out.push((path.to_string(), r));
        return;
    }
    match value {
        Value::Object(m) => m.iter().for_each(|(k, v)| collect(v, &join(path, k), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect(v, &join(path, &i.to_string()), out)),
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Replaces every reference by `lookup(ref)`; a secret stays a secret, also when it is the
/// value of a reference nested in a secret envelope.
pub fn substitute(value: &Value, lookup: &dyn Fn(&Ref) -> Value) -> Value {
    if let Some(Ok(r)) = as_ref(value) {
        return lookup(&r);
    }
    match value {
        Value::Object(m) if is_secret(value) => {
            let inner = substitute(m.get("value").unwrap_or(&Value::Null), lookup);
            if is_secret(&inner) || crate::protocol::envelope::is_unknown(&inner) {
                inner
            } else {
                wrap_secret(inner)
            }
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), substitute(v, lookup)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| substitute(v, lookup)).collect()),
        other => other.clone(),
    }
}

/// The value of `property` in a resource's outputs (`id` falls back to the id).
pub fn output(outputs: &Map<String, Value>, id: &str, property: &str, preview_unknown: bool) -> Value {
    match outputs.get(property) {
        Some(v) => v.clone(),
        None if property == "id" && !id.is_empty() => Value::String(id.to_string()),
        None if preview_unknown => unknown(),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_and_substituted_secret_ness_kept() {
        let v = json!({"a": {"$credplane": "ref", "resource": "k", "property": "secret"}, "b": [1, {"$credplane": "ref", "resource": "k", "property": "id"}]});
        let mut found = Vec::new();
        collect(&v, "", &mut found);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].0, "b.1");
        let out = substitute(&v, &|r| {
            if r.property == "id" {
                json!("AK1")
            } else {
                json!({"$credplane": "secret", "value": "s"})
            }
        });
        assert_eq!(
            out,
            json!({"a": {"$credplane": "secret", "value": "s"}, "b": [1, "AK1"]})
        );
    }
}
