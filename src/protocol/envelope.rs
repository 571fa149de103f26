//! Two reserved JSON shapes that may stand in place of any property value.
//!
//! - **Secret**: `{"$credplane": "secret", "value": <v>}`. Every secret value travels wrapped, in
//!   both directions, so a front-end can mask or encrypt it without knowing the resource type.
//!   Inputs may also be sent unwrapped; the provider wraps what the schema flags `x-secret`.
//! - **Unknown**: `{"$credplane": "unknown"}`. In a preview, a computed output whose value will only
//!   be known after the real operation. A front-end may also send it as an input that depends on
//!   another resource's unknown output.
//!
//! A key that starts with `$` cannot be a resource property name, so the shapes never collide.

use serde_json::{Map, Value, json};

/// The reserved key of both shapes.
pub const ENVELOPE_KEY: &str = "$credplane";

/// Wraps a value in the secret envelope (idempotent).
pub fn wrap_secret(value: Value) -> Value {
    if is_secret(&value) || is_unknown(&value) {
        return value;
    }
    json!({ ENVELOPE_KEY: "secret", "value": value })
}

/// Whether a value is a secret envelope.
pub fn is_secret(value: &Value) -> bool {
    tag(value) == Some("secret")
}

/// The unknown sentinel.
pub fn unknown() -> Value {
    json!({ ENVELOPE_KEY: "unknown" })
}

/// Whether a value is the unknown sentinel.
pub fn is_unknown(value: &Value) -> bool {
    tag(value) == Some("unknown")
}

fn tag(value: &Value) -> Option<&str> {
    value.as_object()?.get(ENVELOPE_KEY)?.as_str()
}

/// Removes the secret envelope from a value, if it has one: returns the inner value and whether it
/// was wrapped.
pub fn unwrap_secret(value: Value) -> (Value, bool) {
    match value {
        Value::Object(mut map) if map.get(ENVELOPE_KEY).and_then(Value::as_str) == Some("secret") => {
            (map.remove("value").unwrap_or(Value::Null), true)
        }
        other => (other, false),
    }
}

/// Unwraps every secret envelope found anywhere inside `value`, returning the plain value. The
/// second element lists the top-level property names that held a secret (wrapped at any depth).
pub fn unwrap_all(mut map: Map<String, Value>) -> (Map<String, Value>, Vec<String>) {
    // In place: every call's inputs pass through here, and rebuilding each map cost a rehash of
    // every key (a hot path of check and diff).
    let secret_props = map
        .iter_mut()
        .filter_map(|(key, value)| unwrap_in_place(value).then(|| key.clone()))
        .collect();
    (map, secret_props)
}

/// Whether any value in `map`, at any depth, is a secret envelope.
pub fn holds_secret(map: &Map<String, Value>) -> bool {
    fn any(value: &Value) -> bool {
        match value {
            Value::Object(map) => is_secret(value) || (!is_unknown(value) && map.values().any(any)),
            Value::Array(items) => items.iter().any(any),
            _ => false,
        }
    }
    map.values().any(any)
}

/// Unwraps `value` and everything inside it; whether an envelope was found.
fn unwrap_in_place(value: &mut Value) -> bool {
    let mut found = false;
    if is_secret(value) {
        let inner = match value {
            Value::Object(envelope) => envelope.remove("value").unwrap_or(Value::Null),
            _ => unreachable!("a secret envelope is an object"),
        };
        *value = inner;
        found = true;
    }
    if is_unknown(value) {
        return found;
    }
    match value {
        Value::Object(map) => map.values_mut().fold(found, |found, v| unwrap_in_place(v) | found),
        Value::Array(items) => items.iter_mut().fold(found, |found, v| unwrap_in_place(v) | found),
        _ => found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_is_idempotent_and_unwraps() {
        let w = wrap_secret(json!("s3cr3t"));
        assert_eq!(w, json!({"$credplane": "secret", "value": "s3cr3t"}));
        assert_eq!(wrap_secret(w.clone()), w);
        assert_eq!(unwrap_secret(w), (json!("s3cr3t"), true));
        assert_eq!(unwrap_secret(json!(1)), (json!(1), false));
    }

    #[test]
    fn unwrap_all_finds_envelopes_at_any_depth_and_leaves_unknowns() {
        let map = json!({
            "plain": "a",
            "top": wrap_secret(json!("s")),
            "deep": {"list": [1, wrap_secret(json!({"k": wrap_secret(json!("v"))}))]},
            "later": unknown(),
        });
        let Value::Object(map) = map else { unreachable!() };
        assert!(holds_secret(&map));
        let (plain, secret) = unwrap_all(map);
        assert_eq!(
            Value::Object(plain.clone()),
            json!({"plain": "a", "top": "s", "deep": {"list": [1, {"k": "v"}]}, "later": unknown()})
        );
        assert_eq!(secret, vec!["top".to_string(), "deep".to_string()]);
        assert!(!holds_secret(&plain));
    }

    #[test]
    fn unknown_is_never_wrapped() {
        assert!(is_unknown(&wrap_secret(unknown())));
    }

    #[test]
    fn unwrap_all_reports_nested_secrets() {
        let map = json!({"a": {"x": wrap_secret(json!("1"))}, "b": 2, "c": wrap_secret(json!(3))});
        let (plain, secrets) = unwrap_all(map.as_object().unwrap().clone());
        assert_eq!(Value::Object(plain), json!({"a": {"x": "1"}, "b": 2, "c": 3}));
        assert_eq!(secrets, vec!["a".to_string(), "c".to_string()]);
    }
}
