//! Server-side verification of OCI request signatures, for our cloud sandbox.
//!
//! Checks, in order: the `Authorization` header parses; the required headers are signed;
//! every signed header is present; the keyId is known; the RSA signature is valid; the body
//! matches `x-content-sha256` (and `content-length`); the date is within [`MAX_CLOCK_SKEW`].

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, Method, Uri};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use sha2::{Digest, Sha256};

use credplane_sign::oci::{BODY_HEADERS, content_sha256, join_signing_lines, request_target, signs_body};

/// How far the signed date may be from the verifier's clock, either way (OCI allows 5 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// A received request, as the sandbox's HTTP server sees it.
#[derive(Debug, Clone, Copy)]
pub struct VerifiableRequest<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The request URI as received (origin form: path and query).
    pub uri: &'a Uri,
    /// All request headers, including `host`, `date` and `authorization`.
    pub headers: &'a HeaderMap,
    /// The full request body.
    pub body: &'a [u8],
}

/// A request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The keyId that signed it (`tenancy/user/fingerprint`).
    pub key_id: String,
    /// The signed header names, in signing order.
    pub signed_headers: Vec<String>,
}

/// Why a request's signature was rejected. Messages hold header names and the keyId (both
/// public), never signatures' inputs beyond that or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("missing Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header (or a signed date) is not in the expected form.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// `algorithm` is not `rsa-sha256`, or `version` is not `1`.
    #[error("unsupported signature algorithm or version: {0}")]
    Unsupported(String),
    /// A header that must be signed for this method is not in the `headers` list.
    #[error("required header {0:?} is not signed")]
    UnsignedRequiredHeader(String),
    /// A header listed as signed is absent from the request.
    #[error("signed header {0:?} is missing from the request")]
    MissingHeader(String),
    /// No public key is known for the keyId.
    #[error("unknown keyId {0:?}")]
    UnknownKeyId(String),
    /// The signature does not verify with the keyId's public key.
    #[error("signature does not verify")]
    BadSignature,
    /// The body does not hash to the signed `x-content-sha256`.
    #[error("body does not match x-content-sha256")]
    BodyHashMismatch,
    /// The body length differs from the signed `content-length`.
    #[error("body length does not match content-length")]
    ContentLengthMismatch,
    /// The signed date is more than [`MAX_CLOCK_SKEW`] away from now.
    #[error("request date is {skew_secs}s away from the server clock (limit 300s)")]
    StaleDate {
        /// How far off the date is, in whole seconds.
        skew_secs: u64,
    },
}

/// Verifies an OCI-signed request. `lookup` maps a keyId to its public key; `now` is the
/// server's clock (a parameter so tests are deterministic).
pub fn verify_request(
    req: &VerifiableRequest<'_>,
    now: SystemTime,
    lookup: impl Fn(&str) -> Option<RsaPublicKey>,
) -> Result<VerifiedRequest, VerifyError> {
    let auth = req
        .headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VerifyError::MissingAuthorization)?;
    let auth = auth.to_str().map_err(|_| malformed("Authorization is not ASCII"))?;
    let params = parse_authorization(auth)?;

    if let Some(alg) = params.get("algorithm").filter(|a| **a != "rsa-sha256") {
        return Err(VerifyError::Unsupported(format!("algorithm {alg:?}")));
    }
    if let Some(v) = params.get("version").filter(|v| **v != "1") {
        return Err(VerifyError::Unsupported(format!("version {v:?}")));
    }
    let key_id = *params.get("keyId").ok_or_else(|| malformed("no keyId"))?;
    let signature = params.get("signature").ok_or_else(|| malformed("no signature"))?;
    // The draft's default when `headers` is absent is just `date`; that fails the check below.
    let signed: Vec<&str> = params
        .get("headers")
        .unwrap_or(&"date")
        .split_ascii_whitespace()
        .collect();
    check_required_signed(req.method, &signed)?;

    let mut lines = Vec::with_capacity(signed.len());
    for name in &signed {
        lines.push((*name, signed_value(req, name)?));
    }
    let signing_string = join_signing_lines(lines);

    let public_key = lookup(key_id).ok_or_else(|| VerifyError::UnknownKeyId(key_id.to_owned()))?;
    let raw_sig = BASE64
        .decode(signature)
        .map_err(|_| malformed("signature is not base64"))?;
    public_key
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
            &raw_sig,
        )
        .map_err(|_| VerifyError::BadSignature)?;

    check_body(req, &signed)?;
    check_date(req, &signed, now)?;

    Ok(VerifiedRequest {
        key_id: key_id.to_owned(),
        signed_headers: signed.iter().map(|s| s.to_string()).collect(),
    })
}

fn malformed(reason: &str) -> VerifyError {
    VerifyError::Malformed(reason.to_owned())
}

/// Parses `Signature k="v",k="v",...` into its parameters.
fn parse_authorization(value: &str) -> Result<HashMap<&str, &str>, VerifyError> {
    let (scheme, mut rest) = value.trim().split_once(' ').ok_or_else(|| malformed("no parameters"))?;
    if !scheme.eq_ignore_ascii_case("Signature") {
        return Err(malformed("scheme is not Signature"));
    }
    let mut params = HashMap::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if rest.is_empty() {
            return Ok(params);
        }
        let (key, after) = rest
            .split_once("=\"")
            .ok_or_else(|| malformed("parameter is not key=\"value\""))?;
        let (val, after) = after
            .split_once('"')
            .ok_or_else(|| malformed("unterminated quoted value"))?;
        if params.insert(key.trim(), val).is_some() {
            return Err(malformed("repeated parameter"));
        }
        rest = after;
        if !(rest.is_empty() || rest.starts_with(',')) {
            return Err(malformed("parameters must be separated by commas"));
        }
    }
}

/// Every OCI request must sign the target, the host and a date; POST/PUT also the body headers,
/// otherwise the body could be swapped under a valid signature.
fn check_required_signed(method: &Method, signed: &[&str]) -> Result<(), VerifyError> {
    let has = |name: &str| signed.contains(&name);
    if !has("date") && !has("x-date") {
        return Err(VerifyError::UnsignedRequiredHeader("date".to_owned()));
    }
    let mut required = vec!["(request-target)", "host"];
    if signs_body(method) {
        required.extend(BODY_HEADERS);
    }
    match required.into_iter().find(|name| !has(name)) {
        Some(name) => Err(VerifyError::UnsignedRequiredHeader(name.to_owned())),
        None => Ok(()),
    }
}

/// The value a signed header had on the wire: repeated headers joined with `, ` (draft §2.3).
fn signed_value(req: &VerifiableRequest<'_>, name: &str) -> Result<String, VerifyError> {
    if name == "(request-target)" {
        return Ok(request_target(req.method, req.uri));
    }
    let values: Vec<&str> = req
        .headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map(str::trim))
        .collect::<Result<_, _>>()
        .map_err(|_| VerifyError::Malformed(format!("header {name:?} is not ASCII")))?;
    if values.is_empty() {
        return Err(VerifyError::MissingHeader(name.to_owned()));
    }
    Ok(values.join(", "))
}

fn header_str<'r>(req: &VerifiableRequest<'r>, name: &str) -> Option<&'r str> {
    req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// The signature covers the headers only; these checks tie the body to them.
fn check_body(req: &VerifiableRequest<'_>, signed: &[&str]) -> Result<(), VerifyError> {
    if signed.contains(&"x-content-sha256") && header_str(req, "x-content-sha256") != Some(&content_sha256(req.body)) {
        return Err(VerifyError::BodyHashMismatch);
    }
    if signed.contains(&"content-length") {
        let declared: Option<usize> = header_str(req, "content-length").and_then(|v| v.parse().ok());
        if declared != Some(req.body.len()) {
            return Err(VerifyError::ContentLengthMismatch);
        }
    }
    Ok(())
}

/// `x-date` takes the place of `date` when signed (browsers cannot set `date`).
fn check_date(req: &VerifiableRequest<'_>, signed: &[&str], now: SystemTime) -> Result<(), VerifyError> {
    let name = if signed.contains(&"x-date") { "x-date" } else { "date" };
    let value = header_str(req, name).ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))?;
    let date =
        httpdate::parse_http_date(value).map_err(|_| VerifyError::Malformed(format!("{name} is not an HTTP date")))?;
    let skew = now.duration_since(date).unwrap_or_else(|e| e.duration());
    if skew > MAX_CLOCK_SKEW {
        return Err(VerifyError::StaleDate {
            skew_secs: skew.as_secs(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authorization_parameters() {
        let p = parse_authorization(
            r#"Signature version="1",headers="date host",keyId="a/b/c:d",algorithm="rsa-sha256",signature="x+/=""#,
        )
        .unwrap();
        assert_eq!(p["headers"], "date host");
        assert_eq!(p["keyId"], "a/b/c:d");
        assert_eq!(p["signature"], "x+/=");
    }

    #[test]
    fn rejects_malformed_authorization() {
        for bad in [
            "Basic abc",
            "Signature",
            r#"Signature keyId="a"x="b""#,
            r#"Signature keyId="a"#,
            r#"Signature a="1",a="2""#,
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(VerifyError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn required_headers_by_method() {
        assert!(check_required_signed(&Method::GET, &["x-date", "(request-target)", "host"]).is_ok());
        assert_eq!(
            check_required_signed(
                &Method::PUT,
                &["date", "(request-target)", "host", "content-length", "content-type"]
            ),
            Err(VerifyError::UnsignedRequiredHeader("x-content-sha256".into()))
        );
        assert_eq!(
            check_required_signed(&Method::GET, &["(request-target)", "host"]),
            Err(VerifyError::UnsignedRequiredHeader("date".into()))
        );
    }
}
