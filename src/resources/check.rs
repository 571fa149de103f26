//! `check`: schema validation, rule table, defaults and secret wrapping, reporting every failure.

use super::rules::{Rule, property};
use super::schema_doc::SchemaDoc;
use crate::protocol::envelope::{is_unknown, unwrap_all, wrap_secret};
use crate::protocol::{CheckResponse, Failure, PropertyMap};
use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// Validates and normalizes `news`.
pub fn check(doc: &SchemaDoc, validator: &Validator, rules: &[Rule], news: PropertyMap) -> CheckResponse {
    let (mut plain, wrapped) = unwrap_all(news);
    // An explicit null means "not set": Terraform and Pulumi programs produce them freely.
    plain.retain(|_, v| !v.is_null());
    for (name, meta) in &doc.inputs {
        if let Some(default) = &meta.default
            && property(&plain, name).is_none()
        {
            plain.insert(name.clone(), default.clone());
        }
    }

    let instance = Value::Object(plain);
    // `is_valid` first: it allocates nothing, and valid inputs are the common case.
    let schema_errors = (!validator.is_valid(&instance)).then(|| validator.iter_errors(&instance));
    let mut failures: Vec<Failure> = schema_errors
        .into_iter()
        .flatten()
        .filter(|err| !under_unknown(&instance, err.instance_path().as_str()))
        .flat_map(|err| describe(err.instance_path().as_str(), err.kind(), doc))
        .collect();
    let Value::Object(plain) = instance else {
        unreachable!("built from an object")
    };
    failures.extend(
        rules
            .iter()
            .filter_map(|rule| (rule.check)(&plain).map(|reason| Failure::new(rule.property, reason))),
    );
    failures.sort_by(|a, b| a.property.cmp(&b.property).then(a.reason.cmp(&b.reason)));
    failures.dedup();

    // In place: collecting into a new map would hash every name again.
    let mut inputs = plain;
    for (name, value) in inputs.iter_mut() {
        if wrapped.contains(name) || doc.inputs.get(name).is_some_and(|m| m.secret) {
            *value = wrap_secret(value.take());
        }
    }
    CheckResponse { inputs, failures }
}

/// Whether the JSON pointer points at, or inside, an unknown value.
fn under_unknown(instance: &Value, pointer: &str) -> bool {
    let mut current = instance;
    if is_unknown(current) {
        return true;
    }
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Object(map) => match map.get(&token) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(items) => match token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
        if is_unknown(current) {
            return true;
        }
    }
    false
}

/// `/tags/env` → `tags.env`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Turns one schema error into failures. Messages name the rule, never the value (it may be secret).
fn describe(pointer: &str, kind: &ValidationErrorKind, doc: &SchemaDoc) -> Vec<Failure> {
    let path = dotted(pointer);
    let one = |reason: String| vec![Failure::new(path.clone(), reason)];
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let valid: Vec<&str> = if path.is_empty() {
                doc.inputs.keys().map(String::as_str).collect()
            } else {
                vec![]
            };
            unexpected
                .iter()
                .map(|name| {
                    let reason = if valid.is_empty() {
                        "unknown property".to_string()
                    } else {
                        format!("unknown property; valid properties are: {}", valid.join(", "))
                    };
                    Failure::new(join(&path, name), reason)
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![Failure::new(join(&path, name), "is required")]
        }
        ValidationErrorKind::Type { kind } => one(format!("must be of type {}", type_words(&format!("{kind:?}")))),
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|o| {
                    o.iter()
                        .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            one(format!("must be one of: {}", options.join(", ")))
        }
        ValidationErrorKind::Constant { expected_value } => one(format!("must be {expected_value}")),
        ValidationErrorKind::MaxLength { limit } => one(format!("must be at most {limit} characters long")),
        ValidationErrorKind::MinLength { limit } => one(format!("must be at least {limit} characters long")),
        ValidationErrorKind::Pattern { pattern } => one(format!("must match the pattern {pattern}")),
        ValidationErrorKind::Minimum { limit } => one(format!("must be at least {limit}")),
        ValidationErrorKind::Maximum { limit } => one(format!("must be at most {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => one(format!("must be greater than {limit}")),
        ValidationErrorKind::ExclusiveMaximum { limit } => one(format!("must be less than {limit}")),
        ValidationErrorKind::MaxItems { limit } => one(format!("must have at most {limit} items")),
        ValidationErrorKind::MinItems { limit } => one(format!("must have at least {limit} items")),
        ValidationErrorKind::MaxProperties { limit } => one(format!("must have at most {limit} entries")),
        ValidationErrorKind::Format { format } => one(format!("must be a valid {format}")),
        // schemars encodes documented enums as oneOf consts, and nullable $refs as anyOf.
        _ => match allowed_values(doc, &path) {
            Some(options) => one(format!("must be one of: {}", options.join(", "))),
            None => one("has an invalid value".to_string()),
        },
    }
}

/// The allowed values of a top-level enum property, read from the schema.
fn allowed_values(doc: &SchemaDoc, path: &str) -> Option<Vec<String>> {
    let defs = &doc.document["$defs"];
    let mut schema = &defs["inputs"]["properties"][path];
    let mut hops = 0;
    loop {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            schema = &defs[target.strip_prefix("#/$defs/")?];
        } else if let Some(branch) = schema
            .get("anyOf")
            .and_then(Value::as_array)
            .and_then(|b| b.iter().find(|s| s.get("$ref").is_some()))
        {
            schema = branch;
        } else {
            break;
        }
        hops += 1;
        if hops > 4 {
            return None;
        }
    }
    let consts: Vec<String> = match (schema.get("enum"), schema.get("oneOf")) {
        (Some(Value::Array(values)), _) => values.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        (_, Some(Value::Array(branches))) => branches
            .iter()
            .flat_map(|b| match (b.get("const"), b.get("enum")) {
                (Some(c), _) => c.as_str().map(|s| vec![s.to_owned()]).unwrap_or_default(),
                (_, Some(Value::Array(e))) => e.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                _ => vec![],
            })
            .collect(),
        _ => vec![],
    };
    (!consts.is_empty()).then_some(consts)
}

fn type_words(debug: &str) -> String {
    // TypeKind's Debug is `Single(String)` or `Multiple(...)`: keep only the JSON type names.
    let names: Vec<&str> = ["string", "integer", "number", "boolean", "object", "array", "null"]
        .into_iter()
        .filter(|t| debug.to_lowercase().contains(t))
        .filter(|t| *t != "null")
        .collect();
    if names.is_empty() {
        debug.to_string()
    } else {
        names.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths() {
        assert_eq!(dotted(""), "");
        assert_eq!(dotted("/tags/env"), "tags.env");
        assert_eq!(dotted("/a~1b"), "a/b");
    }

    #[test]
    fn unknowns_hide_errors_below_them() {
        let v = serde_json::json!({"a": {"$credplane": "unknown"}, "b": 1});
        assert!(under_unknown(&v, "/a"));
        assert!(!under_unknown(&v, "/b"));
    }
}
