//! AWS Signature Version 4: a pure signer, step by step.
//!
//! Each step of the algorithm is its own function, so each can be checked against the
//! official test suite: [`canonical_request`] → [`string_to_sign`] → [`signing_key`] →
//! [`signature`] → [`authorization_header`]. [`sign`] chains them for a client; the cloud
//! sandbox's verifier runs them again on an incoming request through [`canonical_request_over`].
//!
//! Paths are canonicalized the way IAM, STS and every service but S3 expect: dot segments
//! and empty segments are removed, and the path *as sent on the wire* is URI-encoded once
//! more (so `%20` becomes `%2520`). Nothing here does I/O or logs.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name opening the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of a credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// The `X-Amz-Date` format.
pub const DATE_TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The date of a credential scope.
pub const DATE_FORMAT: &str = "%Y%m%d";

/// RFC 3986 unreserved characters stay as they are; every other byte becomes upper-case `%XX`.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Headers left out of the signature because clients and proxies add or rewrite them.
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
];

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigningErrorKind {
    InvalidUri,
    MissingHost,
    EmptyHeaderName,
}

impl From<SigningErrorKind> for SigningError {
    fn from(kind: SigningErrorKind) -> Self {
        Self { kind }
    }
}

impl fmt::Display for SigningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SigningErrorKind::InvalidUri => {
                "cannot sign request: the URI is neither an absolute http(s) URL nor a path starting with '/'"
            }
            SigningErrorKind::MissingHost => "cannot sign request: no Host header and no host in the URI",
            SigningErrorKind::EmptyHeaderName => "cannot sign request: a header has an empty name",
        })
    }
}

impl std::error::Error for SigningError {}

/// HMAC-SHA256, the one MAC of SigV4 (also used by the SES SMTP password).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 key derivation; `date` is `YYYYMMDD` (SES passes a fixed placeholder).
pub fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// Step 1: the canonical request that [`sign`] would sign.
///
/// Signs every request header except a few that proxies rewrite, plus `X-Amz-Date` (and the
/// session token / content hash headers per the settings), replacing request headers of the
/// same names.
pub fn canonical_request(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> Result<String, SigningError> {
    Ok(prepare(request, params)?.0.text)
}

/// Step 2: the string to sign: algorithm, time, credential scope and the canonical request's hash.
pub fn string_to_sign(canonical_request: &str, params: &SigningParams<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        params.time.format(DATE_TIME_FORMAT),
        params.scope(),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Step 3: the key derived from the secret access key for the params' day, region and service.
pub fn signing_key(params: &SigningParams<'_>) -> SigningKey {
    SigningKey(derive_signing_key(
        &params.credentials.secret_access_key,
        &params.time.format(DATE_FORMAT).to_string(),
        params.region,
        params.service,
    ))
}

/// Step 4: the signature of a string to sign, as lower-case hex.
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(&key.0, string_to_sign.as_bytes()))
}

/// Step 5: the `Authorization` header value; `signed_headers` is the `;`-joined list.
pub fn authorization_header(params: &SigningParams<'_>, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={signed_headers}, Signature={signature}",
        params.credentials.access_key_id,
        params.scope()
    )
}

/// Signs a request: all five steps, returning the headers to set on it.
pub fn sign(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> Result<SigningOutput, SigningError> {
    let (canonical, added) = prepare(request, params)?;
    let sts = string_to_sign(&canonical.text, params);
    let signature = signature(&signing_key(params), &sts);
    let mut headers = vec![(
        "Authorization",
        authorization_header(params, &canonical.signed_headers, &signature),
    )];
    headers.extend(added.into_iter().map(|(name, value, _signed)| (name, value)));
    Ok(SigningOutput { headers, signature })
}

/// A canonical request and its `;`-joined signed header names.
struct Canonical {
    text: String,
    signed_headers: String,
}

/// A header that signing adds: display name, value, and whether it is signed.
type AddedHeader = (&'static str, String, bool);

/// Chooses the headers to sign for [`sign`] and builds the canonical request.
fn prepare(
    request: &SignableRequest<'_>,
    params: &SigningParams<'_>,
) -> Result<(Canonical, Vec<AddedHeader>), SigningError> {
    let uri = split_uri(request.uri)?;
    let payload_hash = hex::encode(Sha256::digest(request.body));

    let mut added: Vec<AddedHeader> = vec![("X-Amz-Date", params.time.format(DATE_TIME_FORMAT).to_string(), true)];
    if params.settings.content_sha256_header {
        added.push(("X-Amz-Content-Sha256", payload_hash.clone(), true));
    }
    if let Some(token) = &params.credentials.session_token {
        let signed = params.settings.session_token_mode == SessionTokenMode::Include;
        added.push(("X-Amz-Security-Token", token.clone(), signed));
    }

    let mut selected: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + added.len());
    for (name, value) in request.headers {
        let name = name.trim();
        if name.is_empty() {
            return Err(SigningErrorKind::EmptyHeaderName.into());
        }
        let ours = added
            .iter()
            .any(|(added_name, ..)| added_name.eq_ignore_ascii_case(name));
        let unsigned = UNSIGNED_HEADERS.iter().any(|u| u.eq_ignore_ascii_case(name));
        if !ours && !unsigned {
            selected.push((name, value));
        }
    }
    selected.extend(
        added
            .iter()
            .filter(|h| h.2)
            .map(|(name, value, _)| (*name, value.as_str())),
    );
    let mut headers = canonical_headers(selected);
    if !headers.contains_key("host") {
        let host = uri.host.ok_or(SigningErrorKind::MissingHost)?;
        headers.insert("host".to_owned(), host.to_owned());
    }

    let canonical = build_canonical(request.method, &uri, &headers, &payload_hash);
    Ok((canonical, added))
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

/// The canonical request over exactly `headers` (already chosen, e.g. by a verifier from
/// `SignedHeaders`) and the SHA-256 of `body`: the server side of step 1.
pub fn canonical_request_over<'a>(
    method: &str,
    uri: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Result<String, SigningError> {
    let uri = split_uri(uri)?;
    let payload_hash = hex::encode(Sha256::digest(body));
    Ok(build_canonical(method, &uri, &canonical_headers(headers), &payload_hash).text)
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
        assert_eq!(
            err.to_string(),
            "cannot sign request: no Host header and no host in the URI"
        );
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
        let creq = canonical_request(&request, &params).unwrap();
        assert!(creq.contains("\nhost;x-amz-content-sha256;x-amz-date\n"), "{creq}");
        let out = sign(&request, &params).unwrap();
        let names: Vec<&str> = out.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Authorization",
                "X-Amz-Date",
                "X-Amz-Content-Sha256",
                "X-Amz-Security-Token"
            ]
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
}
