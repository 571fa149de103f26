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
pub fn unwrap_all(map: Map<String, Value>) -> (Map<String, Value>, Vec<String>) {
    let mut secret_props = Vec::new();
    let plain = map
        .into_iter()
        .map(|(key, value)| {
            let mut found = false;
            let value = unwrap_deep(value, &mut found);
            if found {
                secret_props.push(key.clone());
            }
            (key, value)
        })
        .collect();
    (plain, secret_props)
}

fn unwrap_deep(value: Value, found: &mut bool) -> Value {
    let (value, was_secret) = unwrap_secret(value);
    *found |= was_secret;
    match value {
        Value::Object(map) if !is_unknown(&Value::Object(map.clone())) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, unwrap_deep(v, found))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| unwrap_deep(v, found)).collect()),
        other => other,
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
