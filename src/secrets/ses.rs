//! The Amazon SES SMTP password, derived from an IAM secret access key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use credplane_sign::aws::{derive_signing_key, hmac_sha256};

/// The fixed "date" of the derivation: the password must not change from day to day.
const DATE: &str = "11111111";
const SERVICE: &str = "ses";
const MESSAGE: &[u8] = b"SendRawEmail";
/// Prefixed to the MAC so SES can tell this (v4) password from the older SigV2-based one.
const VERSION: u8 = 0x04;

/// The SMTP password that Amazon SES in `region` accepts for the IAM user owning
/// `secret_access_key` (the SMTP user name is the access key id).
///
/// This is AWS's documented algorithm ("Obtaining Amazon SES SMTP credentials"): the SigV4
/// key derivation with a fixed date and service `ses`, an HMAC of `SendRawEmail`, a version
/// byte, then base64. The result is a secret: handle it like the secret access key.
pub fn ses_smtp_password_v4(secret_access_key: &str, region: &str) -> String {
    let key = derive_signing_key(secret_access_key, DATE, region, SERVICE);
    let mut password = vec![VERSION];
    password.extend_from_slice(&hmac_sha256(&key, MESSAGE));
    STANDARD.encode(password)
}
