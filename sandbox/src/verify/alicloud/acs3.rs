//! ACS3-HMAC-SHA256 ("signature V3"): a canonical request over method, path,
//! query, `host`/`content-type`/`x-acs-*` headers and the body hash, HMAC-SHA256
//! keyed with the bare secret, carried in the `Authorization` header.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::time::check_fresh;
use super::{Verified, VerifyError};
use credplane_sign::alicloud::{canonical_query, format_timestamp, percent_encode};

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers the verifier insists are present (and therefore signed).
const REQUIRED_HEADERS: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
];

/// A request as the V3 signature sees it.
#[derive(Debug, Clone, Copy)]
pub struct Acs3Request<'a> {
    /// HTTP method; uppercased when signing.
    pub method: &'a str,
    /// The path, not yet percent-encoded: `/` for RPC-style APIs, e.g. `/api/v1/clusters` for ROA.
    pub path: &'a str,
    /// Query parameters, not yet percent-encoded.
    pub query: &'a [(String, String)],
    /// All request headers, any case; only `host`, `content-type` and `x-acs-*` are signed.
    pub headers: &'a [(String, String)],
    /// The exact body bytes sent (empty for none).
    pub body: &'a [u8],
}

/// The result of [`sign_acs3`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Signature {
    /// `;`-joined lowercase names of the signed headers.
    pub signed_headers: String,
    /// Lowercase hex HMAC-SHA256.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Lowercase hex SHA-256 of the body: the `x-acs-content-sha256` value.
pub fn content_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The headers a V3 request must carry before signing (all but `Authorization`).
///
/// `content_type` is added when there is a body. For STS credentials add an
/// `x-acs-security-token` header too: every `x-acs-*` header is signed.
pub fn acs3_headers(
    host: &str,
    action: &str,
    version: &str,
    date: DateTime<Utc>,
    nonce: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = [
        ("host", host.to_owned()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-version", version.to_owned()),
        ("x-acs-date", format_timestamp(date)),
        ("x-acs-signature-nonce", nonce.to_owned()),
        ("x-acs-content-sha256", content_sha256(body)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(ct) = content_type {
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    headers
}

/// Each `/`-separated path segment [`percent_encode`]d; an empty path is `/`.
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(percent_encode).collect::<Vec<_>>().join("/")
}

/// `(canonical headers, signed headers)`: the `host`, `content-type` and `x-acs-*`
/// headers, names lowercased, values trimmed, sorted by name, each line ending
/// in `\n`; a repeated header's values are joined with `,` in order.
pub fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    canonical_headers_where(headers, must_sign)
}

/// Whether a header must be signed: `host`, `content-type` and every `x-acs-*`.
fn must_sign(name: &str) -> bool {
    name == "host" || name == "content-type" || name.starts_with("x-acs-")
}

/// Canonical headers over the (lowercased) header names that `signed` picks.
fn canonical_headers_where(headers: &[(String, String)], signed_if: impl Fn(&str) -> bool) -> (String, String) {
    let mut signed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if signed_if(&name) {
            signed.entry(name).or_default().push(value.trim());
        }
    }
    let canonical = signed.iter().map(|(n, v)| format!("{n}:{}\n", v.join(","))).collect();
    let names = signed.into_keys().collect::<Vec<_>>().join(";");
    (canonical, names)
}

/// `(canonical request, signed headers)` for `req`:
/// method, URI, query, headers, signed header names and body hash, one per line.
pub fn acs3_canonical_request(req: &Acs3Request<'_>) -> (String, String) {
    canonical_request_with(req, canonical_headers(req.headers))
}

fn canonical_request_with(req: &Acs3Request<'_>, (headers, signed): (String, String)) -> (String, String) {
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{signed}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        content_sha256(req.body),
    );
    (canonical, signed)
}

/// `ACS3-HMAC-SHA256\n` + lowercase hex SHA-256 of the canonical request.
pub fn acs3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{ACS3_ALGORITHM}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Signs `req`, whose headers must already include those of [`acs3_headers`].
pub fn sign_acs3(req: &Acs3Request<'_>, access_key_id: &str, secret: &str) -> Acs3Signature {
    let (canonical, signed_headers) = acs3_canonical_request(req);
    let signature = hex::encode(mac(secret, &acs3_string_to_sign(&canonical)).finalize().into_bytes());
    let authorization =
        format!("{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}");
    Acs3Signature {
        signed_headers,
        signature,
        authorization,
    }
}

fn mac(secret: &str, string_to_sign: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// Checks a V3-signed request as Alibaba would, for the sandbox.
///
/// Every `host`, `content-type` and `x-acs-*` header present must be signed, so
/// an unsigned one cannot be slipped in. The nonce comes back for the caller's
/// replay check ([`VerifyError::NonceUsed`]).
pub fn verify_acs3<F, S>(req: &Acs3Request<'_>, now: DateTime<Utc>, secret_for: F) -> Result<Verified, VerifyError>
where
    F: FnOnce(&str) -> Option<S>,
    S: AsRef<str>,
{
    let authorization = header(req.headers, "authorization")?.ok_or(VerifyError::MissingSignature("Authorization"))?;
    let auth = parse_authorization(authorization)?;
    for name in REQUIRED_HEADERS {
        header(req.headers, name)?.ok_or_else(|| VerifyError::MissingParameter(name.to_owned()))?;
    }
    let date = header(req.headers, "x-acs-date")?.unwrap_or_default();
    let timestamp = check_fresh(date, now)?;
    let nonce = header(req.headers, "x-acs-signature-nonce")?.unwrap_or_default();

    // A client may sign more headers than it must (the official SDKs sign `accept` and
    // `user-agent` too), but never fewer, and every header it names must be present.
    let declared: Vec<&str> = auth.signed_headers.split(';').collect();
    let (_, required) = canonical_headers(req.headers);
    let present = |name: &str| req.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let unsigned = required
        .split(';')
        .find(|name| !name.is_empty() && !declared.contains(name));
    let absent = declared.iter().find(|name| !present(name));
    if let Some(name) = unsigned.or(absent.copied()) {
        return Err(VerifyError::IncompleteSignature(format!(
            "SignedHeaders is \"{}\" but must name every host, content-type and x-acs-* header \
             present, and only headers present (\"{name}\" breaks this; at least \"{required}\")",
            auth.signed_headers
        )));
    }
    let (canonical, _) = canonical_request_with(
        req,
        canonical_headers_where(req.headers, |name| declared.contains(&name)),
    );
    let secret =
        secret_for(auth.credential).ok_or_else(|| VerifyError::UnknownAccessKey(auth.credential.to_owned()))?;

    let string_to_sign = acs3_string_to_sign(&canonical);
    // verify_slice compares in constant time; bad hex is simply a mismatch.
    let matches = hex::decode(auth.signature)
        .is_ok_and(|given| mac(secret.as_ref(), &string_to_sign).verify_slice(&given).is_ok());
    if !matches {
        return Err(VerifyError::SignatureMismatch {
            string_to_sign,
            canonical_request: Some(canonical),
        });
    }
    Ok(Verified {
        access_key_id: auth.credential.to_owned(),
        nonce: nonce.to_owned(),
        timestamp,
    })
}

/// The parts of `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.
struct Authorization<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, VerifyError> {
    let incomplete = || VerifyError::IncompleteSignature("Authorization is malformed".to_owned());
    let (algorithm, rest) = value.trim().split_once(' ').ok_or_else(incomplete)?;
    if algorithm != ACS3_ALGORITHM {
        return Err(VerifyError::UnsupportedSignatureMethod(algorithm.to_owned()));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=').ok_or_else(incomplete)?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(incomplete()),
        };
        if slot.replace(val).is_some() {
            return Err(incomplete());
        }
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if !credential.is_empty() => Ok(Authorization {
            credential,
            signed_headers,
            signature,
        }),
        _ => Err(incomplete()),
    }
}

/// The value of header `name` (case-insensitive) if present once; an error if repeated.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, VerifyError> {
    let mut found = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim());
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(VerifyError::DuplicateParameter(name.to_owned())),
        (value, _) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_encodes_each_segment() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/api/v1/a b/中*"), "/api/v1/a%20b/%E4%B8%AD%2A");
    }

    #[test]
    fn canonical_headers_filter_lowercase_trim_and_sort() {
        let h = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let headers = [
            h("X-Acs-Version", " 2014-05-26 "),
            h("Authorization", "ignored"),
            h("Content-Type", "application/json"),
            h("user-agent", "ignored"),
            h("Host", "ecs.aliyuncs.com"),
        ];
        let (canonical, signed) = canonical_headers(&headers);
        assert_eq!(
            canonical,
            "content-type:application/json\nhost:ecs.aliyuncs.com\nx-acs-version:2014-05-26\n"
        );
        assert_eq!(signed, "content-type;host;x-acs-version");
    }

    #[test]
    fn verifier_accepts_extra_signed_headers_but_not_absent_ones() {
        let h = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let now = super::super::parse("2024-01-01T00:00:00Z").unwrap();
        let mut headers = vec![
            h("host", "kms.cn-hangzhou.aliyuncs.com"),
            h("x-acs-action", "ListSecrets"),
            h("x-acs-version", "2016-01-20"),
            h("x-acs-date", "2024-01-01T00:00:00Z"),
            h("x-acs-signature-nonce", "n-1"),
            h("x-acs-content-sha256", &content_sha256(b"")),
            h("user-agent", "AlibabaCloud (Linux) Python/3.11"),
        ];
        fn req(headers: &[(String, String)]) -> Acs3Request<'_> {
            Acs3Request {
                method: "POST",
                path: "/",
                query: &[],
                headers,
                body: b"",
            }
        }
        // Sign as the official SDKs do: every header, user-agent included.
        let (canonical, signed) = canonical_request_with(
            &req(&headers),
            canonical_headers_where(&headers, |n| n != "authorization"),
        );
        let signature = hex::encode(mac("secret", &acs3_string_to_sign(&canonical)).finalize().into_bytes());
        headers.push(h(
            "authorization",
            &format!("{ACS3_ALGORITHM} Credential=id,SignedHeaders={signed},Signature={signature}"),
        ));
        let ok = verify_acs3(&req(&headers), now, |_| Some("secret")).unwrap();
        assert_eq!(ok.nonce, "n-1");

        let without_agent: Vec<_> = headers.iter().filter(|(n, _)| n != "user-agent").cloned().collect();
        let err = verify_acs3(&req(&without_agent), now, |_| Some("secret")).unwrap_err();
        assert_eq!(err.code(), "IncompleteSignature", "{err}");
    }

    #[test]
    fn empty_body_hash_is_the_documented_constant() {
        assert_eq!(
            content_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn malformed_authorization_is_incomplete() {
        for bad in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
            "ACS3-HMAC-SHA256 x",
        ] {
            assert_eq!(
                parse_authorization(bad).err().unwrap().code(),
                "IncompleteSignature",
                "{bad}"
            );
        }
        let other = parse_authorization("ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=00");
        assert_eq!(other.err().unwrap().code(), "InvalidSignatureMethod");
    }
}
