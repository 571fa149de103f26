//! `Secret<T>`: a value that refuses to be printed.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A secret value. `Debug` and `Display` print `[secret]`, so leaking one into a log line or an
/// error message takes a deliberate `expose()`.
///
/// It serializes as the bare value: the wire envelope is added at the protocol boundary, from the
/// `x-secret` keyword that this type puts into the JSON Schema of every field that holds it.
///
/// The value is overwritten with zeros when the box is dropped, and two secrets compare in
/// constant time (no early exit that would tell how many leading bytes matched).
#[derive(Clone, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize + AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().ct_eq(other.0.as_ref()).into()
    }
}

impl<T: Zeroize + AsRef<[u8]>> Eq for Secret<T> {}

impl<T: Zeroize> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself: every call site is a place where a secret leaves its box.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value (the box is left empty, so there is nothing to zeroize twice).
    pub fn into_inner(mut self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize + AsRef<[u8]>> Secret<T> {
    /// `sha256:` and the first 16 hex digits (64 bits) of the SHA-256 of the value: enough to tell
    /// which secret a copy holds, and, for a random credential, no help in guessing it.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.0.as_ref());
        format!("sha256:{}", &hex::encode(digest)[..16])
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl<T: Zeroize + Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

impl<T: Zeroize + JsonSchema> JsonSchema for Secret<T> {
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
    fn equality_is_by_value() {
        let a = Secret::new("hunter2".to_string());
        assert_eq!(a, Secret::new("hunter2".to_string()));
        assert_ne!(a, Secret::new("hunter3".to_string()));
        assert_ne!(a, Secret::new("hunter".to_string()));
    }

    /// A value that records being zeroized.
    struct Probe(std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl Zeroize for Probe {
        fn zeroize(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn drop_zeroizes_the_value() {
        let zeroized = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let secret = Secret::new(Probe(zeroized.clone()));
        assert!(!zeroized.load(std::sync::atomic::Ordering::SeqCst));
        drop(secret);
        assert!(zeroized.load(std::sync::atomic::Ordering::SeqCst), "drop zeroizes");
    }

    #[test]
    fn schema_is_flagged_secret() {
        let schema = schemars::schema_for!(Secret<String>);
        assert_eq!(schema.get("x-secret"), Some(&serde_json::Value::Bool(true)));
        assert_eq!(schema.get("type"), Some(&serde_json::json!("string")));
    }
}
