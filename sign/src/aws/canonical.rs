//! The steps of SigV4 computed by hand, for the *server* side: the cloud sandbox's verifier
//! recomputes an incoming request's signature over exactly the headers it names.
//!
//! The client side ([`super::sign`]) uses the `aws-sigv4` crate. Keeping an independent
//! implementation here means the sandbox does not accept a request merely because both sides
//! share a bug: the botocore suite pins both to the same canonical requests.
//!
//! Paths are canonicalized the way IAM, STS and every service but S3 expect: dot segments
//! and empty segments are removed, and the path *as sent on the wire* is URI-encoded once
//! more (so `%20` becomes `%2520`).

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use sha2::{Digest, Sha256};

use super::{ALGORITHM, DATE_FORMAT, DATE_TIME_FORMAT, SigningError, SigningErrorKind, SigningParams, TERMINATOR};

type HmacSha256 = Hmac<Sha256>;

/// RFC 3986 unreserved characters stay as they are; every other byte becomes upper-case `%XX`.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

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

/// `20150830/us-east-1/iam/aws4_request`.
fn scope(params: &SigningParams<'_>) -> String {
    format!(
        "{}/{}/{}/{TERMINATOR}",
        params.time.format(DATE_FORMAT),
        params.region,
        params.service
    )
}

/// Step 1 (server side): the canonical request over exactly `headers` (already chosen, e.g.
/// by a verifier from `SignedHeaders`) and the SHA-256 of `body`.
pub fn canonical_request_over<'a>(
    method: &str,
    uri: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Result<String, SigningError> {
    let uri = split_uri(uri)?;
    let payload_hash = hex::encode(Sha256::digest(body));
    Ok(build_canonical(
        method,
        &uri,
        &canonical_headers(headers),
        &payload_hash,
    ))
}

/// Step 2: the string to sign: algorithm, time, credential scope and the canonical request's hash.
pub fn string_to_sign(canonical_request: &str, params: &SigningParams<'_>) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        params.time.format(DATE_TIME_FORMAT),
        scope(params),
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

/// An URI split into the parts SigV4 needs.
struct SplitUri<'a> {
    path: &'a str,
    query: &'a str,
}

/// Splits by hand rather than with `url`/`http`: those normalize or reject the very paths
/// (spaces, dot segments) whose signing the test suite pins down.
fn split_uri(uri: &str) -> Result<SplitUri<'_>, SigningError> {
    let uri = uri.split_once('#').map_or(uri, |(before, _)| before);
    let mut absolute = false;
    let mut rest = uri;
    if let Some((scheme, after)) = uri.split_once("://")
        && matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
    {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let host = after[..end].rsplit_once('@').map_or(&after[..end], |(_, h)| h);
        if host.is_empty() {
            return Err(SigningErrorKind::InvalidUri.into());
        }
        absolute = true;
        rest = &after[end..];
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = if path.is_empty() && absolute { "/" } else { path };
    if !path.starts_with('/') {
        return Err(SigningErrorKind::InvalidUri.into());
    }
    Ok(SplitUri { path, query })
}

/// Joins the parts; `headers` maps lower-case names to normalized values.
fn build_canonical(method: &str, uri: &SplitUri<'_>, headers: &BTreeMap<String, String>, payload_hash: &str) -> String {
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
    text
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

#[cfg(test)]
mod tests {
    use super::super::Credentials;
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

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
        assert_eq!((u.path, u.query), ("/", "Action=X"));
        let u = split_uri("http://localhost:8080/a?b").unwrap();
        assert_eq!((u.path, u.query), ("/a", "b"));
        let u = split_uri("/p?x=http://y").unwrap();
        assert_eq!((u.path, u.query), ("/p", "x=http://y"));
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
        assert_eq!(format!("{:?}", signing_key(&params)), "SigningKey([secret])");
    }
}
