//! Loading OCI API signing keys from PEM, and their OCI fingerprint.

use md5::{Digest, Md5};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Why a private key PEM could not be loaded. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No `-----BEGIN ...-----` / `-----END ...-----` block was found.
    #[error("the private key is not PEM: no BEGIN/END block found")]
    NotPem,
    /// A PEM block of a kind we do not read (e.g. an EC key or a certificate).
    #[error(
        "unsupported PEM block \"{label}\": OCI API keys are RSA, as PKCS#1 (RSA PRIVATE KEY) or PKCS#8 (PRIVATE KEY / ENCRYPTED PRIVATE KEY)"
    )]
    UnsupportedPem {
        /// The PEM label, e.g. `EC PRIVATE KEY`.
        label: String,
    },
    /// An OpenSSL "traditional" encrypted PKCS#1 key (`Proc-Type: 4,ENCRYPTED`): its
    /// MD5-based key derivation is legacy and not supported.
    #[error(
        "the private key is a legacy OpenSSL-encrypted PKCS#1 PEM (Proc-Type: 4,ENCRYPTED), which is not supported; \
         convert it to encrypted PKCS#8 with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem"
    )]
    LegacyEncryptedPem,
    /// The key is encrypted (`ENCRYPTED PRIVATE KEY`) and no pass phrase was given.
    #[error(
        "the private key is encrypted but no pass phrase was given (set pass_phrase in the OCI config or OCI_CLI_PASSPHRASE)"
    )]
    PassphraseRequired,
    /// Decryption failed: the pass phrase is wrong, or the file is damaged.
    #[error("could not decrypt the private key: wrong pass phrase, or a damaged or unsupported encrypted PKCS#8 file")]
    Decrypt,
    /// The PEM decoded but is not a valid RSA private key.
    #[error("the private key PEM ({label}) is not a valid RSA private key: {reason}")]
    Malformed {
        /// The PEM label that was read.
        label: String,
        /// The parser's reason (structure only, never key bytes).
        reason: String,
    },
}

/// Loads an RSA private key from PEM text.
///
/// Reads PKCS#1 (`BEGIN RSA PRIVATE KEY`), PKCS#8 (`BEGIN PRIVATE KEY`) and encrypted
/// PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`, what the OCI CLI writes when given a pass phrase).
/// `passphrase` is ignored for unencrypted keys, as the OCI CLI does. Text around the PEM
/// block (such as the `OCI_API_KEY` line the OCI console appends) is ignored.
pub fn load_private_key_pem(pem: &str, passphrase: Option<&str>) -> Result<RsaPrivateKey, KeyError> {
    let (label, block) = pem_block(pem).ok_or(KeyError::NotPem)?;
    let malformed = |reason: String| KeyError::Malformed {
        label: label.to_owned(),
        reason,
    };
    match label {
        "RSA PRIVATE KEY" if block.contains("Proc-Type: 4,ENCRYPTED") => Err(KeyError::LegacyEncryptedPem),
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_pem(&block).map_err(|e| malformed(e.to_string())),
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(&block).map_err(|e| malformed(e.to_string())),
        "ENCRYPTED PRIVATE KEY" => {
            let pass = passphrase.ok_or(KeyError::PassphraseRequired)?;
            // pkcs8 does not tell a wrong pass phrase from a damaged file apart; neither can we.
            RsaPrivateKey::from_pkcs8_encrypted_pem(&block, pass).map_err(|_| KeyError::Decrypt)
        }
        other => Err(KeyError::UnsupportedPem {
            label: other.to_owned(),
        }),
    }
}

/// Finds the first PEM block and returns its label and the block itself, normalised to `\n`
/// line endings (the PEM decoders are strict about what surrounds the block).
fn pem_block(text: &str) -> Option<(&str, String)> {
    const BEGIN: &str = "-----BEGIN ";
    let start = text.find(BEGIN)?;
    let rest = &text[start + BEGIN.len()..];
    let label = &rest[..rest.find("-----")?];
    let end_marker = format!("-----END {label}-----");
    let end = start + text[start..].find(&end_marker)? + end_marker.len();
    let block = text[start..end].replace("\r\n", "\n");
    Some((label, format!("{block}\n")))
}

/// The OCI key fingerprint: MD5 of the DER SubjectPublicKeyInfo, as colon-separated lowercase
/// hex (the same as `openssl rsa -pubout -outform DER | openssl md5 -c`).
pub fn fingerprint(public_key: &RsaPublicKey) -> String {
    let der = public_key
        .to_public_key_der()
        .expect("encoding an RSA public key as SubjectPublicKeyInfo cannot fail");
    Md5::digest(der.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_block_skips_surrounding_text_and_crlf() {
        let text = "junk\r\n-----BEGIN PRIVATE KEY-----\r\nAAAA\r\n-----END PRIVATE KEY-----\r\nOCI_API_KEY\r\n";
        let (label, block) = pem_block(text).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        assert_eq!(block, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    }

    #[test]
    fn not_pem_and_unsupported() {
        assert_eq!(load_private_key_pem("hello", None).unwrap_err(), KeyError::NotPem);
        let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(matches!(
            load_private_key_pem(ec, None),
            Err(KeyError::UnsupportedPem { .. })
        ));
    }
}
