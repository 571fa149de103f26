//! `Secret<T>`: a value that refuses to be printed.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A secret value. `Debug` and `Display` print `[secret]`, so leaking one into a log line or an
/// error message takes a deliberate `expose()`.
///
/// It serializes as the bare value: the wire envelope is added at the protocol boundary, from the
/// `x-secret` keyword that this type puts into the JSON Schema of every field that holds it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself: every call site is a place where a secret leaves its box.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

impl<T: JsonSchema> JsonSchema for Secret<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Secret_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>();
        schema.insert("x-secret".into(), true.into());
        schema.insert("writeOnly".into(), true.into());
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "[secret]");
        assert_eq!(format!("{s}"), "[secret]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([secret])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn serializes_as_the_bare_value() {
        let s = Secret::new("v".to_string());
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"v\"");
        let back: Secret<String> = serde_json::from_str("\"v\"").unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn schema_is_flagged_secret() {
        let schema = schemars::schema_for!(Secret<String>);
        assert_eq!(schema.get("x-secret"), Some(&serde_json::Value::Bool(true)));
        assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
    }
}
