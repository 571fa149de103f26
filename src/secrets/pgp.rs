//! PGP encryption of secrets (the `pgp_key` argument), with sequoia-openpgp.
//!
//! A recipient is parsed once, checked against our algorithm rules and
//! sequoia's [`StandardPolicy`], and then encrypts secrets to a binary OpenPGP
//! message returned as base64, the format Terraform's `encrypted_*` outputs use.
//!
//! Nothing here logs, and no error message ever contains the plaintext.

use std::fmt;
use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::cert::Preferences;
use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::crypto::mpi::PublicKey;
use openpgp::packet::Key;
use openpgp::packet::key::{KeyParts, KeyRole};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message, Recipient};
use openpgp::types::{Curve, Features, KeyFlags, PublicKeyAlgorithm, RevocationStatus};

/// Smallest RSA modulus we encrypt to.
const MIN_RSA_BITS: usize = 2048;

/// The armor header line of a public key block.
pub const ARMOR_PUBLIC_KEY_HEADER: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

/// What went wrong with a PGP key or an encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgpErrorKind {
    /// The `pgp_key` argument does not have any accepted form.
    InvalidArgument,
    /// The input is not base64 / armor, or not a single OpenPGP certificate.
    Malformed,
    /// The input contains secret key material; only public keys are accepted.
    SecretKey,
    /// A key uses an algorithm other than RSA >= 2048 or Curve25519.
    UnsupportedAlgorithm,
    /// sequoia's standard policy rejects the certificate.
    PolicyRejected,
    /// The certificate is revoked.
    Revoked,
    /// The certificate has expired (or is not yet valid).
    Expired,
    /// No subkey is valid for encryption now.
    NoEncryptionKey,
    /// Fetching the key from Keybase or an external URL failed.
    Fetch,
    /// Encryption itself failed.
    Encrypt,
}

/// An error about a PGP key or encryption. The message names the problem and
/// never includes plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PgpError {
    kind: PgpErrorKind,
    message: String,
}

impl PgpError {
    /// Builds an error of `kind` with a human-readable `message`.
    pub fn new(kind: PgpErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The category of the error.
    pub fn kind(&self) -> PgpErrorKind {
        self.kind
    }

    /// The human-readable message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A validated public key that secrets can be encrypted to.
#[derive(Clone)]
pub struct PgpRecipient {
    cert: Cert,
    fingerprint: String,
}

impl fmt::Debug for PgpRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpRecipient")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// Parses a `pgp_key` value: base64 of a binary public key (whitespace allowed,
/// as keys are often pasted wrapped) or an ASCII-armored public key block.
pub fn parse_public_key(input: &str) -> Result<PgpRecipient, PgpError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PgpError::new(PgpErrorKind::Malformed, "PGP key is empty"));
    }
    if trimmed.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        return Err(secret_key_error());
    }
    if trimmed.starts_with("-----BEGIN ") {
        if !trimmed.starts_with(ARMOR_PUBLIC_KEY_HEADER) {
            return Err(PgpError::new(
                PgpErrorKind::Malformed,
                format!("armored PGP input must start with {ARMOR_PUBLIC_KEY_HEADER}"),
            ));
        }
        return parse_public_key_bytes(trimmed.as_bytes());
    }
    let binary = decode_base64(trimmed).ok_or_else(|| {
        PgpError::new(
            PgpErrorKind::Malformed,
            "PGP key is neither valid base64 of a binary public key nor an armored public key block",
        )
    })?;
    parse_public_key_bytes(&binary)
}

/// Parses a public key from bytes: binary OpenPGP or ASCII armor.
pub fn parse_public_key_bytes(bytes: &[u8]) -> Result<PgpRecipient, PgpError> {
    let cert = Cert::from_bytes(bytes)
        .map_err(|e| PgpError::new(PgpErrorKind::Malformed, format!("not a single OpenPGP public key: {e}")))?;
    PgpRecipient::from_cert(cert)
}

/// Decodes standard base64, ignoring ASCII whitespace; `None` if invalid or empty.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok().filter(|b| !b.is_empty())
}

fn secret_key_error() -> PgpError {
    PgpError::new(
        PgpErrorKind::SecretKey,
        "PGP input contains secret key material; pass only the public key",
    )
}

impl PgpRecipient {
    /// Validates `cert` (algorithms, policy, expiry, revocation, encryption subkeys).
    fn from_cert(cert: Cert) -> Result<Self, PgpError> {
        if cert.is_tsk() {
            return Err(secret_key_error());
        }
        let fingerprint = cert.fingerprint().to_hex().to_lowercase();
        let primary = cert.primary_key().key();
        // Checked before the policy so the error names the algorithm rather
        // than a generic policy failure.
        if !algorithm_supported(primary) {
            return Err(unsupported(primary, "primary key", &fingerprint));
        }

        let policy = StandardPolicy::new();
        let valid = cert.with_policy(&policy, None).map_err(|e| {
            PgpError::new(
                PgpErrorKind::PolicyRejected,
                format!("PGP key {fingerprint} is not valid under the standard policy: {e}"),
            )
        })?;
        if let RevocationStatus::Revoked(_) = valid.revocation_status() {
            return Err(PgpError::new(
                PgpErrorKind::Revoked,
                format!("PGP key {fingerprint} is revoked"),
            ));
        }
        if let Err(e) = valid.alive() {
            return Err(PgpError::new(
                PgpErrorKind::Expired,
                format!("PGP key {fingerprint} is expired or not yet valid: {e}"),
            ));
        }

        let mut usable = 0;
        for ka in valid.keys().key_flags(encryption_flags()) {
            if ka.alive().is_err() || matches!(ka.revocation_status(), RevocationStatus::Revoked(_)) {
                continue;
            }
            if !algorithm_supported(ka.key()) {
                return Err(unsupported(ka.key(), "encryption subkey", &fingerprint));
            }
            usable += 1;
        }
        if usable == 0 {
            return Err(no_encryption_key(&cert, &fingerprint));
        }
        Ok(Self { cert, fingerprint })
    }

    /// Lowercase hex fingerprint of the primary key, without spaces.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Encrypts `plaintext` to every valid encryption subkey and returns base64
    /// of the binary (non-armored) OpenPGP message.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, PgpError> {
        let policy = StandardPolicy::new();
        let fail = |what: &str, e: &dyn fmt::Display| {
            PgpError::new(
                PgpErrorKind::Encrypt,
                format!("PGP encryption to {} failed ({what}): {e}", self.fingerprint),
            )
        };
        let valid = self
            .cert
            .with_policy(&policy, None)
            .map_err(|e| fail("key validation", &e))?;
        let recipients: Vec<Recipient> = valid
            .keys()
            .key_flags(encryption_flags())
            .alive()
            .revoked(false)
            .filter(|ka| algorithm_supported(ka.key()))
            .map(|ka| {
                // v4 keys: only SEIPDv1, whatever the key advertises, because
                // gpg 2.2 (and LibrePGP tools) cannot read SEIPDv2. v6 keys
                // require SEIPDv2, so use the certificate's own features.
                let features = if ka.key().version() == 4 {
                    Features::empty().set_seipdv1()
                } else {
                    valid.features().unwrap_or_else(Features::sequoia)
                };
                Recipient::new(features, ka.key().key_handle(), ka.key())
            })
            .collect();
        if recipients.is_empty() {
            return Err(PgpError::new(
                PgpErrorKind::NoEncryptionKey,
                format!(
                    "PGP key {} has no encryption-capable subkey valid now",
                    self.fingerprint
                ),
            ));
        }

        let mut out = Vec::new();
        let message = Message::new(&mut out);
        let message = Encryptor::for_recipients(message, recipients)
            .build()
            .map_err(|e| fail("encryptor", &e))?;
        let mut literal = LiteralWriter::new(message).build().map_err(|e| fail("literal", &e))?;
        literal.write_all(plaintext).map_err(|e| fail("write", &e))?;
        literal.finalize().map_err(|e| fail("finalize", &e))?;
        Ok(STANDARD.encode(out))
    }
}

fn encryption_flags() -> KeyFlags {
    KeyFlags::empty().set_transport_encryption().set_storage_encryption()
}

/// Our rule: RSA >= 2048 bits, Curve25519 (Ed25519 / Cv25519, legacy or RFC 9580), or an ECDH /
/// ECDSA curve (NIST P-256/P-384/P-521, Brainpool) that sequoia's pure-Rust backend implements;
/// any other key is refused with its algorithm named.
fn algorithm_supported<P: KeyParts, R: KeyRole>(key: &Key<P, R>) -> bool {
    match key.mpis() {
        PublicKey::RSA { n, .. } => n.bits() >= MIN_RSA_BITS,
        PublicKey::EdDSA {
            curve: Curve::Ed25519, ..
        } => true,
        PublicKey::ECDH {
            curve: Curve::Cv25519, ..
        } => true,
        PublicKey::X25519 { .. } | PublicKey::Ed25519 { .. } => true,
        PublicKey::ECDH { curve, .. } | PublicKey::ECDSA { curve, .. } => {
            matches!(
                curve,
                Curve::NistP256
                    | Curve::NistP384
                    | Curve::NistP521
                    | Curve::BrainpoolP256
                    | Curve::BrainpoolP384
                    | Curve::BrainpoolP512
            ) && curve.is_supported()
        }
        _ => false,
    }
}

/// A short name for a key's algorithm, e.g. "RSA-1024" or "ECDSA on NIST P-256".
fn describe_algorithm<P: KeyParts, R: KeyRole>(key: &Key<P, R>) -> String {
    match key.mpis() {
        PublicKey::RSA { n, .. } => format!("RSA-{}", n.bits()),
        PublicKey::EdDSA { curve, .. } | PublicKey::ECDSA { curve, .. } | PublicKey::ECDH { curve, .. } => {
            format!("{} on {curve}", key.pk_algo())
        }
        _ => match key.pk_algo() {
            PublicKeyAlgorithm::Unknown(n) | PublicKeyAlgorithm::Private(n) => {
                format!("algorithm {n}")
            }
            other => other.to_string(),
        },
    }
}

fn unsupported<P: KeyParts, R: KeyRole>(key: &Key<P, R>, which: &str, fingerprint: &str) -> PgpError {
    PgpError::new(
        PgpErrorKind::UnsupportedAlgorithm,
        format!(
            "PGP key {fingerprint}: unsupported algorithm {} on its {which}; \
             only RSA (at least {MIN_RSA_BITS} bits), Curve25519 (Ed25519/Cv25519) and the NIST or \
             Brainpool curves this build's crypto backend implements are accepted",
            describe_algorithm(key)
        ),
    )
}

/// "No encryption key" error; names unsupported subkeys that the policy skipped.
fn no_encryption_key(cert: &Cert, fingerprint: &str) -> PgpError {
    let ignored: Vec<String> = cert
        .keys()
        .subkeys()
        .filter(|ka| !algorithm_supported(ka.key()))
        .map(|ka| describe_algorithm(ka.key()))
        .collect();
    let mut message = format!("PGP key {fingerprint} has no encryption-capable subkey valid now");
    if !ignored.is_empty() {
        message.push_str(&format!(" (unsupported subkeys ignored: {})", ignored.join(", ")));
    }
    PgpError::new(PgpErrorKind::NoEncryptionKey, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::CertBuilder;
    use openpgp::cert::CipherSuite;
    use openpgp::serialize::Serialize;

    fn generate(suite: CipherSuite, encryption: bool) -> Cert {
        let mut builder = CertBuilder::new().set_cipher_suite(suite).add_userid("t@example.com");
        if encryption {
            builder = builder.add_transport_encryption_subkey();
        }
        builder.generate().unwrap().0
    }

    fn public_base64(cert: &Cert) -> String {
        let mut bytes = Vec::new();
        cert.serialize(&mut bytes).unwrap();
        STANDARD.encode(bytes)
    }

    #[test]
    fn garbage_is_malformed() {
        for input in ["", "   ", "not base64 !!!", "aGVsbG8gd29ybGQ=", "-----BEGIN FOO-----"] {
            let err = parse_public_key(input).unwrap_err();
            assert_eq!(err.kind(), PgpErrorKind::Malformed, "{input:?}: {err}");
        }
    }

    #[test]
    fn base64_may_be_wrapped() {
        let cert = generate(CipherSuite::Cv25519, true);
        let b64 = public_base64(&cert);
        let wrapped: String = b64
            .as_bytes()
            .chunks(64)
            .map(|c| format!("  {}\r\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let recipient = parse_public_key(&wrapped).unwrap();
        assert_eq!(recipient.fingerprint(), cert.fingerprint().to_hex().to_lowercase());
        assert!(!recipient.encrypt(b"x").unwrap().is_empty());
    }

    #[test]
    fn rejects_secret_key_and_missing_encryption_subkey() {
        let cert = generate(CipherSuite::Cv25519, true);
        let mut tsk = Vec::new();
        cert.as_tsk().serialize(&mut tsk).unwrap();
        let err = parse_public_key(&STANDARD.encode(tsk)).unwrap_err();
        assert_eq!(err.kind(), PgpErrorKind::SecretKey);

        let signing_only = generate(CipherSuite::Cv25519, false);
        let err = parse_public_key(&public_base64(&signing_only)).unwrap_err();
        assert_eq!(err.kind(), PgpErrorKind::NoEncryptionKey, "{err}");
    }

    #[test]
    fn nist_curves_are_accepted_and_encrypt() {
        for suite in [CipherSuite::P256, CipherSuite::P384, CipherSuite::P521] {
            let cert = generate(suite, true);
            let recipient = parse_public_key(&public_base64(&cert)).unwrap_or_else(|e| panic!("{suite:?}: {e}"));
            assert!(!recipient.encrypt(b"secret").unwrap().is_empty(), "{suite:?}");
        }
    }

    #[test]
    fn an_unsupported_algorithm_is_named() {
        let cert = generate(CipherSuite::P256, true);
        let key = cert.primary_key().key();
        assert!(
            describe_algorithm(key).contains("NIST P-256"),
            "{}",
            describe_algorithm(key)
        );
        let err = unsupported(key, "primary key", "ABCD");
        assert_eq!(err.kind(), PgpErrorKind::UnsupportedAlgorithm);
        assert!(
            err.to_string().contains("NIST P-256") && err.to_string().contains("ABCD"),
            "{err}"
        );
    }
}
