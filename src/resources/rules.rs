//! Validation rules that JSON Schema cannot state, as rows of a table.
//!
//! A rule reads the plain (unwrapped) inputs and returns a reason when it fails. A rule whose
//! properties are absent, of the wrong type (the schema reports that) or unknown (a preview) passes.

use crate::protocol::{PropertyMap, envelope::is_unknown};
use serde_json::Value;

/// One validation rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// A short name for the case, used by tests and docs.
    pub name: &'static str,
    /// The property path a failure is reported at.
    pub property: &'static str,
    /// Returns the reason when the inputs break the rule. Never put a value in the reason.
    pub check: fn(&PropertyMap) -> Option<String>,
}

/// A known string property.
pub fn str_prop<'a>(inputs: &'a PropertyMap, name: &str) -> Option<&'a str> {
    inputs.get(name).and_then(Value::as_str)
}

/// A known boolean property.
pub fn bool_prop(inputs: &PropertyMap, name: &str) -> Option<bool> {
    inputs.get(name).and_then(Value::as_bool)
}

/// Whether a property is set to a known, non-null value.
pub fn is_set(inputs: &PropertyMap, name: &str) -> bool {
    matches!(inputs.get(name), Some(v) if !v.is_null() && !is_unknown(v))
}

/// Whether a property is unknown (its value comes from a resource not created yet).
pub fn is_unknown_prop(inputs: &PropertyMap, name: &str) -> bool {
    inputs.get(name).is_some_and(is_unknown)
}
