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

/// `inputs[name]`. A resource's property map is small (a few to twenty entries), and a scan that
/// compares lengths first beats hashing the name with SipHash (serde_json's maps): the lookups of
/// `check` and `diff` were a good part of their time.
pub fn property<'a>(inputs: &'a PropertyMap, name: &str) -> Option<&'a Value> {
    if inputs.len() > 32 {
        return property(inputs, name);
    }
    inputs
        .iter()
        .find(|(key, _)| key.as_str() == name)
        .map(|(_, value)| value)
}

/// A known string property.
pub fn str_prop<'a>(inputs: &'a PropertyMap, name: &str) -> Option<&'a str> {
    property(inputs, name).and_then(Value::as_str)
}

/// A known boolean property.
pub fn bool_prop(inputs: &PropertyMap, name: &str) -> Option<bool> {
    property(inputs, name).and_then(Value::as_bool)
}

/// Whether a property is set to a known, non-null value.
pub fn is_set(inputs: &PropertyMap, name: &str) -> bool {
    matches!(property(inputs, name), Some(v) if !v.is_null() && !is_unknown(v))
}

/// Whether a property is unknown (its value comes from a resource not created yet).
pub fn is_unknown_prop(inputs: &PropertyMap, name: &str) -> bool {
    property(inputs, name).is_some_and(is_unknown)
}
