//! AWS Signature Version 4: the client signer (the `aws-sigv4` crate, the AWS SDK's own) and the
//! server-side verifier of the cloud sandbox.
//!
//! [`sign`] hands the request to `aws-sigv4`. [`verify`] recomputes a signature on an incoming
//! request step by step: canonical request → [`string_to_sign`] → [`signing_key`] → HMAC.
//!
//! Paths are canonicalized the way IAM, STS and every service but S3 expect: dot segments
//! and empty segments are removed, and the path *as sent on the wire* is URI-encoded once
//! more (so `%20` becomes `%2520`). Nothing here does I/O or logs.

use std::collections::BTreeMap;
use std::fmt;

use super::credentials::error_text;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const DATE_TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const DATE_FORMAT: &str = "%Y%m%d";

/// How far an incoming request's `X-Amz-Date` may be from the verifier's clock, as on AWS.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);

/// RFC 3986 unreserved characters stay as they are; every other byte becomes upper-case `%XX`.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// An AWS access key, optionally with the session token of temporary (STS) credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id, e.g. `AKIDEXAMPLE`. Not secret.
    pub access_key_id: String,
    /// The secret access key. Never printed.
    pub secret_access_key: String,
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials without a session token.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// The same credentials with a session token, as issued by STS.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[secret]")
            .field("session_token", &self.session_token.as_ref().map(|_| "[secret]"))
            .finish()
    }
}

/// Whether the session token is part of the signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionTokenMode {
    /// Sign `X-Amz-Security-Token` like any other header (what almost every service expects).
    #[default]
    Include,
    /// Add `X-Amz-Security-Token` after signing, for the few services that want it unsigned.
    Exclude,
}

/// Knobs that vary between services; the defaults suit IAM and STS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigningSettings {
    /// Whether the session token is signed.
    pub session_token_mode: SessionTokenMode,
    /// Whether to send (and sign) `X-Amz-Content-Sha256`, which S3 requires.
    pub content_sha256_header: bool,
}

/// Everything besides the request that goes into a signature.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// Who signs.
    pub credentials: &'a Credentials,
    /// The region of the credential scope, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `iam`.
    pub service: &'a str,
    /// The signing time, sent as `X-Amz-Date`.
    pub time: DateTime<Utc>,
    /// Service-specific knobs.
    pub settings: SigningSettings,
}

impl<'a> SigningParams<'a> {
    /// Parameters with the default settings.
    pub fn new(credentials: &'a Credentials, region: &'a str, service: &'a str, time: DateTime<Utc>) -> Self {
        Self {
            credentials,
            region,
            service,
            time,
            settings: SigningSettings::default(),
        }
    }

    /// `20150830/us-east-1/iam/aws4_request`.
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.time.format(DATE_FORMAT),
            self.region,
            self.service
        )
    }
}

/// The parts of an HTTP request that a signature covers.
///
/// Deliberately not `Debug`: headers and body may carry secrets.
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// Either an absolute URL (`https://iam.amazonaws.com/?Action=ListUsers`) or the path and
    /// query as sent on the wire (`/?Action=ListUsers`).
    pub uri: &'a str,
    /// The request headers, in order; names are case-insensitive and may repeat.
    /// Without a `Host` header, the host of an absolute `uri` is signed.
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

/// What [`sign`] produces: the headers to set on the request, and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// Headers to set (replacing any of the same name): `Authorization`, `X-Amz-Date`, and
    /// `X-Amz-Content-Sha256` / `X-Amz-Security-Token` when they apply.
    pub headers: Vec<(&'static str, String)>,
    /// The signature, as lower-case hex.
    pub signature: String,
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| match *name {
                "X-Amz-Security-Token" => (*name, "[secret]"),
                _ => (*name, value.as_str()),
            })
            .collect();
        f.debug_struct("SigningOutput")
            .field("headers", &headers)
            .field("signature", &self.signature)
            .finish()
    }
}

/// The derived key of one day, region and service. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([secret])")
    }
}

/// Why a request could not be signed. Never contains secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningError {
    kind: SigningErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SigningErrorKind {
    InvalidUri,
    MissingHost,
    /// What the `aws-sigv4` signer refused (a URI or header it cannot sign); holds no key material.
    Refused(String),
}

impl From<SigningErrorKind> for SigningError {
    fn from(kind: SigningErrorKind) -> Self {
        Self { kind }
    }
}

impl fmt::Display for SigningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SigningErrorKind::InvalidUri => f.write_str(
                "cannot sign request: the URI is neither an absolute http(s) URL nor a path starting with '/'",
            ),
            SigningErrorKind::MissingHost => f.write_str("cannot sign request: no Host header and no host in the URI"),
            SigningErrorKind::Refused(why) => write!(f, "cannot sign request: {why}"),
        }
    }
}

impl std::error::Error for SigningError {}

/// HMAC-SHA256, the one MAC of SigV4 (also used by the SES SMTP password).
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 key derivation; `date` is `YYYYMMDD` (SES passes a fixed placeholder).
pub(crate) fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// The string to sign: algorithm, time, credential scope and the canonical request's hash.
pub fn string_to_sign(canonical_request: &str, params: &SigningParams<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        params.time.format(DATE_TIME_FORMAT),
        params.scope(),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The key derived from the secret access key for the params' day, region and service.
pub fn signing_key(params: &SigningParams<'_>) -> SigningKey {
    SigningKey(derive_signing_key(
        &params.credentials.secret_access_key,
        &params.time.format(DATE_FORMAT).to_string(),
        params.region,
        params.service,
    ))
}

/// Signs a request with the `aws-sigv4` crate (the AWS SDK's signer), returning the headers to set.
///
/// Every request header is signed except those proxies rewrite (`aws-sigv4`'s default
/// exclusions: `authorization`, `user-agent`, `x-amzn-trace-id`, `transfer-encoding`). The URI
/// is taken as sent on the wire: paths are normalized and encoded once more, as every service
/// but S3 expects; a URI without a host needs a `Host` header.
pub fn sign(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> Result<SigningOutput, SigningError> {
    use aws_sigv4::http_request::{self as v4_http, PayloadChecksumKind, SignableBody};
    let refused = |e: &(dyn std::error::Error + 'static)| SigningError::from(SigningErrorKind::Refused(error_text(e)));

    // aws-sigv4 panics on a request without a host: refuse it here.
    let has_host_header = request
        .headers
        .iter()
        .any(|(n, _)| n.trim().eq_ignore_ascii_case("host"));
    if !has_host_header && split_uri(request.uri)?.host.is_none() {
        return Err(SigningErrorKind::MissingHost.into());
    }
    let c = params.credentials;
    let identity = aws_credential_types::Credentials::new(
        &c.access_key_id,
        &c.secret_access_key,
        c.session_token.clone(),
        None,
        "credplane",
    )
    .into();
    let mut settings = v4_http::SigningSettings::default();
    settings.session_token_mode = match params.settings.session_token_mode {
        SessionTokenMode::Include => v4_http::SessionTokenMode::Include,
        SessionTokenMode::Exclude => v4_http::SessionTokenMode::Exclude,
    };
    if params.settings.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let v4_params: v4_http::SigningParams<'_> = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(params.region)
        .name(params.service)
        .time(params.time.into())
        .settings(settings)
        .build()
        .map_err(|e| refused(&e))?
        .into();
    let signable = v4_http::SignableRequest::new(
        request.method,
        request.uri,
        request.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| refused(&e))?;
    let (instructions, signature) = v4_http::sign(signable, &v4_params)
        .map_err(|e| refused(&e))?
        .into_parts();
    let (headers, _query) = instructions.into_parts();
    let mut headers: Vec<(&'static str, String)> = headers
        .into_iter()
        .map(|h| (display_name(h.name()), h.value().to_owned()))
        .collect();
    // `Authorization` first, as a reader of the output expects.
    headers.sort_by_key(|(name, _)| *name != "Authorization");
    Ok(SigningOutput { headers, signature })
}

/// The conventional spelling of the headers `aws-sigv4` adds (it names them in lower case).
fn display_name(name: &'static str) -> &'static str {
    match name {
        "authorization" => "Authorization",
        "x-amz-date" => "X-Amz-Date",
        "x-amz-security-token" => "X-Amz-Security-Token",
        "x-amz-content-sha256" => "X-Amz-Content-Sha256",
        other => other,
    }
}

/// A canonical request and its `;`-joined signed header names.
struct Canonical {
    text: String,
    // Only the verifier's input now that aws-sigv4 signs; left for the verifier's move.
    #[allow(dead_code)]
    signed_headers: String,
}

/// An URI split into the parts SigV4 needs.
struct SplitUri<'a> {
    /// The host (and non-default port) of an absolute URL.
    host: Option<&'a str>,
    path: &'a str,
    query: &'a str,
}

/// Splits by hand rather than with `url`/`http`: those normalize or reject the very paths
/// (spaces, dot segments) whose signing the test suite pins down.
fn split_uri(uri: &str) -> Result<SplitUri<'_>, SigningError> {
    let uri = uri.split_once('#').map_or(uri, |(before, _)| before);
    let mut host = None;
    let mut rest = uri;
    if let Some((scheme, after)) = uri.split_once("://") {
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "https" => Some(":443"),
            "http" => Some(":80"),
            _ => None,
        };
        if let Some(default_port) = default_port {
            let end = after.find(['/', '?']).unwrap_or(after.len());
            let authority = after[..end].rsplit_once('@').map_or(&after[..end], |(_, h)| h);
            // HTTP clients leave the default port out of the Host header, so the signature must too.
            let authority = authority.strip_suffix(default_port).unwrap_or(authority);
            if authority.is_empty() {
                return Err(SigningErrorKind::InvalidUri.into());
            }
            host = Some(authority);
            rest = &after[end..];
        }
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = if path.is_empty() && host.is_some() { "/" } else { path };
    if !path.starts_with('/') {
        return Err(SigningErrorKind::InvalidUri.into());
    }
    Ok(SplitUri { host, path, query })
}

/// Joins the parts; `headers` maps lower-case names to normalized values.
fn build_canonical(
    method: &str,
    uri: &SplitUri<'_>,
    headers: &BTreeMap<String, String>,
    payload_hash: &str,
) -> Canonical {
    let mut text = format!(
        "{method}\n{}\n{}\n",
        canonical_path(uri.path),
        canonical_query(uri.query)
    );
    for (name, value) in headers {
        text.push_str(name);
        text.push(':');
        text.push_str(value);
        text.push('\n');
    }
    let signed_headers = headers.keys().map(String::as_str).collect::<Vec<_>>().join(";");
    text.push('\n');
    text.push_str(&signed_headers);
    text.push('\n');
    text.push_str(payload_hash);
    Canonical { text, signed_headers }
}

/// Removes empty and dot segments (keeping a trailing slash), then URI-encodes each segment.
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let encoded: Vec<String> = segments
        .iter()
        .map(|s| percent_encode(s.as_bytes(), URI_ENCODE).to_string())
        .collect();
    let mut out = format!("/{}", encoded.join("/"));
    // As in RFC 3986 dot-segment removal, `/a/b/..` names the directory `/a/`.
    let last = path.rsplit('/').next().unwrap_or_default();
    if !encoded.is_empty() && matches!(last, "" | "." | "..") {
        out.push('/');
    }
    out
}

/// Decodes and re-encodes each parameter (so `%E1` and raw UTF-8 agree), then sorts by key
/// and value. `+` is taken literally (RFC 3986), not as a space.
fn canonical_query(query: &str) -> String {
    let encode = |s: &str| {
        let bytes: Vec<u8> = percent_decode_str(s).collect();
        percent_encode(&bytes, URI_ENCODE).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(key), encode(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-cases names, trims values and collapses inner whitespace (including folded lines),
/// and joins repeated headers with `,` in their original order.
fn canonical_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        map.entry(name.trim().to_ascii_lowercase())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

/// What a successfully verified request was signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// The region of the credential scope; the caller decides whether it is acceptable.
    pub region: String,
    /// The service of the credential scope; the caller decides whether it is acceptable.
    pub service: String,
    /// The request's `X-Amz-Date`.
    pub time: DateTime<Utc>,
}

/// Which part of an incoming request's signature failed. Never contains secret material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("request is not signed: no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header is not a well-formed SigV4 header, or its signed headers
    /// are absent from the request, or its scope date differs from `X-Amz-Date`.
    #[error("malformed AWS4-HMAC-SHA256 Authorization header")]
    MalformedAuthorization,
    /// `X-Amz-Date` is missing or not `YYYYMMDDTHHMMSSZ`.
    #[error("missing or malformed X-Amz-Date header")]
    InvalidDate,
    /// `X-Amz-Date` is more than [`MAX_CLOCK_SKEW`] away from now.
    #[error("signature expired: X-Amz-Date is more than 15 minutes from the server time")]
    StaleRequest,
    /// The lookup does not know the access key id.
    #[error("unknown access key id")]
    UnknownAccessKey,
    /// The recomputed signature differs.
    #[error("the request signature does not match")]
    SignatureMismatch,
}

impl VerifyError {
    /// The error code AWS answers with in this case.
    pub fn aws_error_code(&self) -> &'static str {
        match self {
            Self::MissingAuthorization => "MissingAuthenticationToken",
            Self::MalformedAuthorization | Self::InvalidDate => "IncompleteSignature",
            Self::UnknownAccessKey => "InvalidClientTokenId",
            // AWS reports an expired signature as a mismatch too ("Signature expired: ...").
            Self::StaleRequest | Self::SignatureMismatch => "SignatureDoesNotMatch",
        }
    }
}

/// Verifies the header-based SigV4 signature of an incoming request (server side).
///
/// `secret_for` maps an access key id to its secret access key. The signature is recomputed
/// over exactly the headers named in `SignedHeaders` (which must include `host`) and the
/// SHA-256 of the actual body, then compared in constant time.
pub fn verify(
    request: &SignableRequest<'_>,
    now: DateTime<Utc>,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<Verified, VerifyError> {
    let authorization = find_header(request.headers, "authorization").ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(authorization).ok_or(VerifyError::MalformedAuthorization)?;

    let amz_date = find_header(request.headers, "x-amz-date").ok_or(VerifyError::InvalidDate)?;
    let time = NaiveDateTime::parse_from_str(amz_date.trim(), DATE_TIME_FORMAT)
        .map_err(|_| VerifyError::InvalidDate)?
        .and_utc();
    if auth.date != time.format(DATE_FORMAT).to_string() {
        return Err(VerifyError::MalformedAuthorization);
    }
    if (now - time).abs() > MAX_CLOCK_SKEW {
        return Err(VerifyError::StaleRequest);
    }

    let secret = secret_for(auth.access_key_id).ok_or(VerifyError::UnknownAccessKey)?;
    let credentials = Credentials::new(auth.access_key_id, secret);
    let params = SigningParams::new(&credentials, auth.region, auth.service, time);

    let mut selected = Vec::new();
    for name in auth.signed_headers.split(';') {
        let before = selected.len();
        selected.extend(
            request
                .headers
                .iter()
                .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| (name, v.as_str())),
        );
        if name.is_empty() || selected.len() == before {
            return Err(VerifyError::MalformedAuthorization);
        }
    }
    // The path comes from the server's own HTTP stack; one it cannot split was not what the client signed.
    let uri = split_uri(request.uri).map_err(|_| VerifyError::SignatureMismatch)?;
    let payload_hash = hex::encode(Sha256::digest(request.body));
    let canonical = build_canonical(request.method, &uri, &canonical_headers(selected), &payload_hash);

    let sts = string_to_sign(&canonical.text, &params);
    let claimed = hex::decode(auth.signature).map_err(|_| VerifyError::MalformedAuthorization)?;
    let mut mac = HmacSha256::new_from_slice(signing_key(&params).as_bytes()).expect("HMAC takes keys of any length");
    mac.update(sts.as_bytes());
    mac.verify_slice(&claimed).map_err(|_| VerifyError::SignatureMismatch)?;

    Ok(Verified {
        access_key_id: auth.access_key_id.to_owned(),
        region: auth.region.to_owned(),
        service: auth.service.to_owned(),
        time,
    })
}

/// The first value of a header, by case-insensitive name.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The fields of `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
/// SignedHeaders=a;b, Signature=hex`.
#[derive(Debug, PartialEq, Eq)]
struct AuthorizationParts<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<AuthorizationParts<'_>> {
    let rest = value.trim().strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    let [access_key_id, date, region, service, TERMINATOR] = scope[..] else {
        return None;
    };
    let parts = AuthorizationParts {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers?,
        signature: signature?,
    };
    let fields = [
        parts.access_key_id,
        parts.date,
        parts.region,
        parts.service,
        parts.signature,
    ];
    let has_host = parts.signed_headers.split(';').any(|h| h == "host");
    (fields.iter().all(|f| !f.is_empty()) && has_host).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
    }

    #[test]
    fn path_is_normalized_and_encoded() {
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("//example//"), "/example/");
        assert_eq!(canonical_path("/a/b/.."), "/a/");
        assert_eq!(canonical_path("/a/./b"), "/a/b");
        assert_eq!(canonical_path("/../.."), "/");
        // Already-encoded paths are encoded again (every service but S3).
        assert_eq!(canonical_path("/example%20space"), "/example%2520space");
        assert_eq!(canonical_path("/a b/$"), "/a%20b/%24");
    }

    #[test]
    fn query_is_reencoded_and_sorted() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("k&x=a b+c"), "k=&x=a%20b%2Bc");
        assert_eq!(canonical_query("%e1%88%b4=1"), "%E1%88%B4=1");
        assert_eq!(canonical_query("a=1&&"), "a=1");
    }

    #[test]
    fn headers_are_lowercased_trimmed_collapsed_and_joined() {
        let map = canonical_headers([("X-B", "  a \t b\n  c "), ("x-a", "1"), ("X-A", "2")]);
        let pairs: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("x-a", "1,2"), ("x-b", "a b c")]);
    }

    #[test]
    fn uri_forms() {
        let u = split_uri("https://user@iam.amazonaws.com:443?Action=X#frag").unwrap();
        assert_eq!((u.host, u.path, u.query), (Some("iam.amazonaws.com"), "/", "Action=X"));
        let u = split_uri("http://localhost:8080/a?b").unwrap();
        assert_eq!((u.host, u.path, u.query), (Some("localhost:8080"), "/a", "b"));
        let u = split_uri("/p?x=http://y").unwrap();
        assert_eq!((u.host, u.path, u.query), (None, "/p", "x=http://y"));
        assert!(split_uri("relative/path").is_err());
        assert!(split_uri("https:///path").is_err());
    }

    /// The worked example of the AWS General Reference ("Examples of how to derive a signing key").
    #[test]
    fn signing_key_matches_the_documented_iam_example() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET);
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        assert_eq!(
            hex::encode(signing_key(&params).as_bytes()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn missing_host_is_an_error() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET);
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        let request = SignableRequest {
            method: "GET",
            uri: "/",
            headers: &[],
            body: b"",
        };
        let err = sign(&request, &params).unwrap_err();
        assert!(err.to_string().starts_with("cannot sign request: "), "{err}");
    }

    #[test]
    fn content_sha256_and_unsigned_token_settings() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET).with_session_token("TOKEN");
        let mut params = SigningParams::new(&credentials, "us-east-1", "s3", time());
        params.settings = SigningSettings {
            session_token_mode: SessionTokenMode::Exclude,
            content_sha256_header: true,
        };
        let request = SignableRequest {
            method: "PUT",
            uri: "https://bucket.s3.amazonaws.com/k",
            headers: &[],
            body: b"",
        };
        let out = sign(&request, &params).unwrap();
        let header = |name: &str| out.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        let authorization = header("Authorization").unwrap();
        assert!(
            authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            "{authorization}"
        );
        assert_eq!(header("X-Amz-Security-Token"), Some("TOKEN"));
        assert_eq!(
            header("X-Amz-Content-Sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        // Signed, the token is part of SignedHeaders.
        params.settings.session_token_mode = SessionTokenMode::Include;
        let out = sign(&request, &params).unwrap();
        assert!(
            out.headers[0].1.contains(";x-amz-security-token,"),
            "{:?}",
            out.headers[0]
        );
    }

    #[test]
    fn secrets_are_never_printed() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET).with_session_token("TOKEN");
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        let request = SignableRequest {
            method: "GET",
            uri: "https://iam.amazonaws.com/",
            headers: &[],
            body: b"",
        };
        let printed = format!(
            "{credentials:?} {params:?} {:?} {:?}",
            signing_key(&params),
            sign(&request, &params).unwrap()
        );
        assert!(!printed.contains(SECRET) && !printed.contains("TOKEN"), "{printed}");
        assert!(printed.contains("[secret]"));
    }

    #[test]
    fn authorization_header_parses() {
        let header = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abcd";
        assert_eq!(
            parse_authorization(header),
            Some(AuthorizationParts {
                access_key_id: "AKID",
                date: "20150830",
                region: "us-east-1",
                service: "iam",
                signed_headers: "host;x-amz-date",
                signature: "abcd",
            })
        );
        for bad in [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA1 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, Signature=ab, Signature=ab, SignedHeaders=host",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
