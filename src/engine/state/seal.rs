//! Sealing secrets in state: AES-256-GCM with a key from `CREDPLANE_PASSPHRASE` through scrypt,
//! each ciphertext bound to its stack, resource and property, and an HMAC over whole documents.

use super::StateError;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use zeroize::Zeroizing;

/// The passphrase's environment variable.
pub const PASSPHRASE_ENV: &str = "CREDPLANE_PASSPHRASE";
/// OWASP's current advice for scrypt: N=2^17, r=8, p=1.
pub const DEFAULT_N: u64 = 1 << 17;
/// Upper bounds on parameters read from a file (a hostile file must not cost gigabytes).
const MAX_N: u64 = 1 << 20;
const MAX_R: u32 = 16;
const MAX_P: u32 = 4;
const V1_AAD: &[u8] = b"credplane-state-v1";
const V1_VERIFIER: &[u8] = b"credplane-state-verifier";
const V2_VERIFIER: &[u8] = b"credplane-state-v2-verifier";

/// The `encryption` header of a state document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always `AES-256-GCM`.
    pub cipher: String,
    /// Always `scrypt`.
    pub kdf: String,
    /// Base64 salt.
    pub salt: String,
    /// scrypt cost.
    pub n: u64,
    /// scrypt block size.
    pub r: u32,
    /// scrypt parallelism.
    pub p: u32,
    /// A sealed constant: tells a wrong passphrase from a tampered value.
    pub verifier: String,
}

/// The keys of one state: AES-256-GCM for values, HMAC-SHA256 for documents and journal records.
pub struct Sealer {
    aead: Aes256Gcm,
    mac_key: Zeroizing<Vec<u8>>,
    /// A version-1 file (written by the SDKs before the engine): its own AAD, no MAC.
    legacy: bool,
    stack: String,
    /// The header written with new documents.
    pub header: Header,
}

type KeyCache = Mutex<HashMap<[u8; 32], Arc<Zeroizing<Vec<u8>>>>>;

/// Derived keys by (passphrase, salt, parameters) digest: one scrypt per state per process.
fn cache() -> &'static KeyCache {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
    len: usize,
) -> Result<Arc<Zeroizing<Vec<u8>>>, StateError> {
    if !(n.is_power_of_two() && (2..=MAX_N).contains(&n) && (1..=MAX_R).contains(&r) && (1..=MAX_P).contains(&p)) {
        return Err(StateError::Corrupt(format!(
            "scrypt parameters n={n} r={r} p={p} are out of bounds (n a power of two <= {MAX_N}, r <= {MAX_R}, p <= {MAX_P})"
        )));
    }
    let mut digest = Sha256::new();
    for part in [
        passphrase.as_bytes(),
        salt,
        &n.to_le_bytes(),
        &r.to_le_bytes(),
        &p.to_le_bytes(),
        &len.to_le_bytes(),
    ] {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part);
    }
    let id: [u8; 32] = digest.finalize().into();
    if let Some(key) = cache().lock().expect("key cache").get(&id) {
        return Ok(key.clone());
    }
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, len)
        .map_err(|e| StateError::Corrupt(format!("scrypt parameters: {e}")))?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut out)
        .map_err(|e| StateError::Corrupt(format!("scrypt: {e}")))?;
    let key = Arc::new(out);
    cache().lock().expect("key cache").insert(id, key.clone());
    Ok(key)
}

impl Sealer {
    /// New keys with a fresh salt, for a state that has none yet (or is being upgraded).
    pub fn create(passphrase: &str, stack: &str, n: u64) -> Result<Sealer, StateError> {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let key = derive(passphrase, &salt, n, 8, 1, 64)?;
        let mut sealer = Sealer::from_key(
            &key,
            false,
            stack,
            Header {
                cipher: "AES-256-GCM".into(),
                kdf: "scrypt".into(),
                salt: B64.encode(salt),
                n,
                r: 8,
                p: 1,
                verifier: String::new(),
            },
        );
        sealer.header.verifier = sealer.encrypt(V2_VERIFIER, b"verifier")?;
        Ok(sealer)
    }

    /// The keys of an existing document's header; fails on a wrong passphrase.
    pub fn open(passphrase: &str, stack: &str, header: &Header, legacy: bool) -> Result<Sealer, StateError> {
        if header.cipher != "AES-256-GCM" || header.kdf != "scrypt" {
            return Err(StateError::Corrupt(format!(
                "unsupported encryption {}/{}",
                header.cipher, header.kdf
            )));
        }
        let salt = B64
            .decode(&header.salt)
            .map_err(|_| StateError::Corrupt("the salt is not base64".into()))?;
        let key = derive(
            passphrase,
            &salt,
            header.n,
            header.r,
            header.p,
            if legacy { 32 } else { 64 },
        )?;
        let sealer = Sealer::from_key(&key, legacy, stack, header.clone());
        let (verifier, aad): (&[u8], &[u8]) = if legacy {
            (V1_VERIFIER, V1_AAD)
        } else {
            (V2_VERIFIER, b"verifier")
        };
        match sealer.decrypt(&header.verifier, aad) {
            Ok(plain) if plain == verifier => Ok(sealer),
            _ => Err(StateError::WrongPassphrase),
        }
    }

    fn from_key(key: &[u8], legacy: bool, stack: &str, header: Header) -> Sealer {
        Sealer {
            aead: Aes256Gcm::new_from_slice(&key[..32]).expect("32-byte key"),
            mac_key: Zeroizing::new(key.get(32..).unwrap_or_default().to_vec()),
            legacy,
            stack: stack.to_string(),
            header,
        }
    }

    fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Result<String, StateError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| StateError::Corrupt("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(B64.encode(out))
    }

    fn decrypt(&self, token: &str, aad: &[u8]) -> Result<Vec<u8>, ()> {
        let raw = B64.decode(token).map_err(|_| ())?;
        if raw.len() < 12 {
            return Err(());
        }
        let nonce = Nonce::from_slice(&raw[..12]);
        self.aead
            .decrypt(nonce, Payload { msg: &raw[12..], aad })
            .map_err(|_| ())
    }

    fn aad(&self, resource: &str, path: &str) -> Vec<u8> {
        if self.legacy {
            return V1_AAD.to_vec();
        }
        format!("credplane-state-v2|{}|{resource}|{path}", self.stack).into_bytes()
    }

    /// Replaces every secret envelope in `value` by a ciphertext envelope bound to `resource` and
    /// the property path. Consumes `value`: what is not a secret moves over as it is.
    pub fn seal(&self, resource: &str, path: &str, value: Value) -> Result<Value, StateError> {
        self.seal_at(resource, &mut path.to_string(), value)
    }

    fn seal_at(&self, resource: &str, path: &mut String, value: Value) -> Result<Value, StateError> {
        match value {
            Value::Object(map) if is_secret_map(&map) => {
                let plain = serde_json::to_vec(map.get("value").unwrap_or(&Value::Null)).expect("json");
                let plain = Zeroizing::new(plain);
                let token = self.encrypt(&plain, &self.aad(resource, path))?;
                Ok(json!({"$credplane": "secret", "ciphertext": token}))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let v = within(path, &k, |path| self.seal_at(resource, path, v))?;
                    out.insert(k, v);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| within(path, &i.to_string(), |path| self.seal_at(resource, path, v)))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(other),
        }
    }

    /// The inverse of [`Sealer::seal`]: ciphertexts become secret envelopes again.
    pub fn open_value(&self, resource: &str, path: &str, value: Value) -> Result<Value, StateError> {
        self.open_at(resource, &mut path.to_string(), value)
    }

    fn open_at(&self, resource: &str, path: &mut String, value: Value) -> Result<Value, StateError> {
        match value {
            Value::Object(map) if is_secret_map(&map) => {
                let Some(token) = map.get("ciphertext").and_then(Value::as_str) else {
                    return Err(StateError::Corrupt(format!(
                        "{resource}.{path} holds a plaintext secret"
                    )));
                };
                let plain = Zeroizing::new(self.decrypt(token, &self.aad(resource, path)).map_err(|_| {
                    StateError::Tampered(format!("the secret {resource}.{path} does not open (moved or edited)"))
                })?);
                let inner: Value = serde_json::from_slice(&plain)
                    .map_err(|_| StateError::Tampered(format!("the secret {resource}.{path} is malformed")))?;
                // Version-1 files sealed the wire envelope itself.
                Ok(crate::protocol::envelope::wrap_secret(
                    crate::protocol::envelope::unwrap_secret(inner).0,
                ))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let v = within(path, &k, |path| self.open_at(resource, path, v))?;
                    out.insert(k, v);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| within(path, &i.to_string(), |path| self.open_at(resource, path, v)))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(other),
        }
    }

    /// HMAC-SHA256 (hex) over `parts`, each length-prefixed.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key).expect("any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `expected` is the MAC of `parts` (constant time).
    pub fn verify(&self, parts: &[&[u8]], expected: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.mac(parts).as_bytes().ct_eq(expected.as_bytes()).into()
    }

    /// Whether this is a version-1 (pre-engine) key.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

/// Runs `f` with `key` appended to the dotted `path` (one buffer for a whole walk).
fn within<T>(path: &mut String, key: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    if len > 0 {
        path.push('.');
    }
    path.push_str(key);
    let out = f(path);
    path.truncate(len);
    out
}

/// [`crate::protocol::envelope::is_secret`], of a map.
fn is_secret_map(map: &Map<String, Value>) -> bool {
    map.get(crate::protocol::envelope::ENVELOPE_KEY).and_then(Value::as_str) == Some("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::create("pass", "st", 1 << 10).unwrap()
    }

    #[test]
    fn sealed_values_open_only_at_their_resource_and_property() {
        let s = sealer();
        let v = json!({"a": {"$credplane": "secret", "value": "hunter2"}, "b": 1});
        let sealed = s.seal("r1", "", v.clone()).unwrap();
        assert!(!sealed.to_string().contains("hunter2"));
        assert_eq!(s.open_value("r1", "", sealed.clone()).unwrap(), v);
        // Same ciphertext under another resource or property: refused.
        assert!(matches!(
            s.open_value("r2", "", sealed.clone()),
            Err(StateError::Tampered(_))
        ));
        let moved = json!({"c": sealed["a"].clone()});
        assert!(matches!(s.open_value("r1", "", moved), Err(StateError::Tampered(_))));
    }

    #[test]
    fn wrong_passphrase_is_reported_as_such() {
        let s = sealer();
        assert!(matches!(
            Sealer::open("other", "st", &s.header, false),
            Err(StateError::WrongPassphrase)
        ));
        assert!(Sealer::open("pass", "st", &s.header, false).is_ok());
    }

    #[test]
    fn parameters_from_a_file_are_bounded() {
        let mut h = sealer().header;
        h.n = 1 << 30;
        assert!(
            matches!(Sealer::open("pass", "st", &h, false), Err(StateError::Corrupt(m)) if m.contains("out of bounds"))
        );
    }

    #[test]
    fn mac_detects_edits() {
        let s = sealer();
        let m = s.mac(&[b"doc"]);
        assert!(s.verify(&[b"doc"], &m));
        assert!(!s.verify(&[b"dog"], &m));
    }
}
