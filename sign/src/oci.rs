//! OCI HTTP request signatures (draft-cavage-http-signatures-08, `rsa-sha256`, version "1").
//!
//! Pure: no clock, no file system, no network. The caller passes the `date` value, so the
//! same input always gives the same headers (RSA PKCS#1 v1.5 signatures are deterministic).
//!
//! Signing happens in three separately testable steps:
//! 1. [`signing_string`]: the lines `name: value` for the signed headers, in order;
//! 2. [`OciSigner::compute_signature`]: base64 of RSA-SHA256 over that string;
//! 3. [`authorization_header`]: the `Signature version="1",headers=...` value.
//!
//! [`OciSigner::sign`] does all three and returns the headers to add to the request.
//! The server side lives in the cloud sandbox crate; key loading is in [`keys`].

pub mod keys;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{Method, Uri};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use sha2::{Digest, Sha256};

pub use keys::{KeyError, fingerprint, load_private_key_pem};

/// Headers signed on every request, in the order OCI signs them.
pub const GENERIC_HEADERS: [&str; 3] = ["date", "(request-target)", "host"];
/// Extra headers signed on requests that carry a body (POST and PUT).
pub const BODY_HEADERS: [&str; 3] = ["content-length", "content-type", "x-content-sha256"];
/// The content type used when a POST/PUT request does not name one: every OCI API is JSON.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// Whether OCI expects the body headers to be signed for this method.
///
/// Only POST and PUT, as in the OCI SDKs; GET, HEAD and DELETE sign the generic headers only.
pub fn signs_body(method: &Method) -> bool {
    *method == Method::POST || *method == Method::PUT
}

/// The names of the headers signed for `method`, in signing order.
pub fn headers_to_sign(method: &Method) -> Vec<&'static str> {
    let mut names = GENERIC_HEADERS.to_vec();
    if signs_body(method) {
        names.extend(BODY_HEADERS);
    }
    names
}

/// base64(SHA-256(body)): the value of `x-content-sha256`.
pub fn content_sha256(body: &[u8]) -> String {
    BASE64.encode(Sha256::digest(body))
}

/// What the signer needs to know about an outgoing request.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The absolute request URI; `host` is its authority, `(request-target)` its path and query
    /// exactly as written (percent-encoding is kept, as the server sees it).
    pub uri: &'a Uri,
    /// The `date` header value, e.g. `httpdate::fmt_http_date(SystemTime::now())`.
    pub date: &'a str,
    /// The `content-type` for POST/PUT; [`DEFAULT_CONTENT_TYPE`] when `None`. Ignored otherwise.
    pub content_type: Option<&'a str>,
    /// The request body (empty for GET/DELETE/HEAD).
    pub body: &'a [u8],
}

impl SignableRequest<'_> {
    /// The value of one signed header for this request, or `None` for a name we do not sign.
    fn header_value(&self, name: &str) -> Result<Option<String>, SigningError> {
        Ok(match name {
            "date" => Some(self.date.to_owned()),
            "(request-target)" => Some(request_target(self.method, self.uri)),
            "host" => Some(host_of(self.uri)?),
            "content-length" => Some(self.body.len().to_string()),
            "content-type" => Some(self.content_type.unwrap_or(DEFAULT_CONTENT_TYPE).to_owned()),
            "x-content-sha256" => Some(content_sha256(self.body)),
            _ => None,
        })
    }
}

/// `(request-target)`: the lowercase method, a space, then the path and query.
pub fn request_target(method: &Method, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{} {}", method.as_str().to_ascii_lowercase(), path)
}

/// The `host` value: the URI's authority without user info and without the scheme's default
/// port, because that is what HTTP clients put in the `Host` header they send.
fn host_of(uri: &Uri) -> Result<String, SigningError> {
    let authority = uri.authority().ok_or(SigningError::new(ErrorKind::NoHost))?;
    let host = authority.host();
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    Ok(match authority.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    })
}

/// Joins `name: value` lines with `\n` (no trailing newline), as the draft specifies.
///
/// Shared by the signer and the verifier so both build the string the same way.
pub fn join_signing_lines<'n>(lines: impl IntoIterator<Item = (&'n str, String)>) -> String {
    lines
        .into_iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Step 1: the signing string for `req` (the headers of [`headers_to_sign`], in order).
pub fn signing_string(req: &SignableRequest<'_>) -> Result<String, SigningError> {
    let mut lines = Vec::new();
    for name in headers_to_sign(req.method) {
        let value = req
            .header_value(name)?
            .expect("every name in headers_to_sign has a value");
        lines.push((name, value));
    }
    Ok(join_signing_lines(lines))
}

/// Step 3: the `Authorization` header value.
pub fn authorization_header(headers: &[&str], key_id: &str, signature: &str) -> String {
    format!(
        "Signature version=\"1\",headers=\"{}\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",signature=\"{signature}\"",
        headers.join(" ")
    )
}

/// Signs OCI API requests with one API signing key.
pub struct OciSigner {
    key_id: String,
    private_key: RsaPrivateKey,
}

impl OciSigner {
    /// A signer for an explicit keyId (`tenancy/user/fingerprint`).
    pub fn new(key_id: impl Into<String>, private_key: RsaPrivateKey) -> Self {
        Self {
            key_id: key_id.into(),
            private_key,
        }
    }

    /// A signer for a user's API key: keyId is `tenancy/user/fingerprint`.
    pub fn for_user(tenancy: &str, user: &str, fingerprint: &str, private_key: RsaPrivateKey) -> Self {
        Self::new(format!("{tenancy}/{user}/{fingerprint}"), private_key)
    }

    /// The keyId put in the `Authorization` header.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Step 2: base64(RSA-PKCS#1-v1.5-SHA256(signing_string)).
    pub fn compute_signature(&self, signing_string: &str) -> Result<String, SigningError> {
        let digest = Sha256::digest(signing_string.as_bytes());
        let raw = self
            .private_key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            // The rsa error says nothing about the key, but keep our message fixed anyway.
            .map_err(|_| SigningError::new(ErrorKind::Rsa))?;
        Ok(BASE64.encode(raw))
    }

    /// Signs `req` and returns the headers to add, lowercase names, in this order:
    /// `date`, then for POST/PUT `content-length`, `content-type`, `x-content-sha256`,
    /// and last `authorization`.
    ///
    /// `host` is signed but not returned: HTTP clients derive it from the URI, and a second
    /// `Host` header would be rejected. Send the body headers with exactly these values.
    pub fn sign(&self, req: &SignableRequest<'_>) -> Result<Vec<(String, String)>, SigningError> {
        let names = headers_to_sign(req.method);
        let signature = self.compute_signature(&signing_string(req)?)?;
        let mut out = Vec::with_capacity(5);
        for name in names.iter().filter(|n| !matches!(**n, "host" | "(request-target)")) {
            let value = req.header_value(name)?.expect("signed header has a value");
            out.push(((*name).to_owned(), value));
        }
        out.push((
            "authorization".to_owned(),
            authorization_header(&names, &self.key_id, &signature),
        ));
        Ok(out)
    }
}

impl fmt::Debug for OciSigner {
    // Never print the private key; the keyId is public (it is sent on every request).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciSigner")
            .field("key_id", &self.key_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// Why a request could not be signed. Opaque: the message says what to fix, and never
/// contains key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningError {
    kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// The URI is relative, so there is no `host` to sign.
    NoHost,
    /// The RSA primitive failed (e.g. key too small for the digest).
    Rsa,
}

impl SigningError {
    fn new(kind: ErrorKind) -> Self {
        Self { kind }
    }
}

impl fmt::Display for SigningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::NoHost => f.write_str("cannot sign OCI request: the URI has no host (it must be absolute)"),
            ErrorKind::Rsa => f.write_str("cannot sign OCI request: the RSA signature operation failed"),
        }
    }
}

impl std::error::Error for SigningError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_by_method() {
        assert_eq!(headers_to_sign(&Method::GET), ["date", "(request-target)", "host"]);
        assert_eq!(headers_to_sign(&Method::DELETE), ["date", "(request-target)", "host"]);
        assert_eq!(headers_to_sign(&Method::HEAD), ["date", "(request-target)", "host"]);
        assert_eq!(headers_to_sign(&Method::PUT).len(), 6);
        assert_eq!(headers_to_sign(&Method::POST)[5], "x-content-sha256");
    }

    #[test]
    fn host_drops_default_port_and_keeps_others() {
        let u: Uri = "https://h.example:443/x".parse().unwrap();
        assert_eq!(host_of(&u).unwrap(), "h.example");
        let u: Uri = "http://127.0.0.1:8080/x".parse().unwrap();
        assert_eq!(host_of(&u).unwrap(), "127.0.0.1:8080");
        let u: Uri = "/relative".parse().unwrap();
        assert!(host_of(&u).unwrap_err().to_string().contains("no host"));
    }

    #[test]
    fn request_target_defaults_to_root() {
        let u: Uri = "https://h.example".parse().unwrap();
        assert_eq!(request_target(&Method::DELETE, &u), "delete /");
    }

    #[test]
    fn empty_body_hash() {
        // SHA-256 of the empty string.
        assert_eq!(content_sha256(b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }
}
