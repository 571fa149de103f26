//! RPC signature V1: HMAC-SHA1 over the sorted, encoded parameters.
//!
//! `StringToSign = METHOD & %2F & encode(k1=v1&k2=v2...)`, keys sorted, every key
//! and value [`percent_encode`]d; `Signature = base64(HMAC-SHA1(secret + "&", it))`.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::time::check_fresh;
use super::{Verified, VerifyError, format_timestamp, percent_encode};

/// The only `SignatureMethod` of V1.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The only `SignatureVersion` of V1.
pub const SIGNATURE_VERSION: &str = "1.0";

/// The common parameters of an RPC call, unsorted (signing sorts).
///
/// `Format` is `JSON`; the `Timestamp` is formatted `YYYY-MM-DDThh:mm:ssZ`.
/// Add `SecurityToken` yourself when signing with STS credentials.
pub fn common_params(
    access_key_id: &str,
    action: &str,
    version: &str,
    timestamp: DateTime<Utc>,
    nonce: &str,
    region_id: Option<&str>,
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("Format", "JSON"),
        ("Version", version),
        ("AccessKeyId", access_key_id),
        ("SignatureMethod", SIGNATURE_METHOD),
        ("Timestamp", &format_timestamp(timestamp)),
        ("SignatureVersion", SIGNATURE_VERSION),
        ("SignatureNonce", nonce),
        ("Action", action),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(region) = region_id {
        params.push(("RegionId".to_owned(), region.to_owned()));
    }
    params
}

/// `k=v&...` with keys and values [`percent_encode`]d, sorted by the raw key's
/// bytes (as the SDKs sort their maps), then by value so repeated keys are stable.
/// Every pair is kept; [`string_to_sign`] is the one that drops `Signature`.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&` + the encoded canonical query of every parameter but `Signature`.
/// For a POST, pass the form-body parameters together with the query ones.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)]) -> String {
    let signed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "Signature")
        .collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(&signed))
    )
}

/// The `Signature` value: base64 of HMAC-SHA1 keyed with `secret&`.
pub fn sign_rpc<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)], secret: &str) -> String {
    BASE64.encode(mac(secret, &string_to_sign(method, params)).finalize().into_bytes())
}

fn mac(secret: &str, string_to_sign: &str) -> Hmac<Sha1> {
    // The key is the secret plus '&': the slot once meant for an OAuth-style token secret.
    let mut mac =
        Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// Checks a V1-signed request as Alibaba would, for the sandbox.
///
/// `params` is every parameter of the request, query and form body together,
/// including `Signature`. `secret_for` maps an access key id to its secret.
/// On success the nonce comes back for the caller's replay check
/// ([`VerifyError::NonceUsed`]).
pub fn verify_rpc<K, V, F, S>(
    method: &str,
    params: &[(K, V)],
    now: DateTime<Utc>,
    secret_for: F,
) -> Result<Verified, VerifyError>
where
    K: AsRef<str>,
    V: AsRef<str>,
    F: FnOnce(&str) -> Option<S>,
    S: AsRef<str>,
{
    let signature = single(params, "Signature")?.ok_or(VerifyError::MissingSignature("Signature"))?;
    let required = |name: &str| single(params, name)?.ok_or_else(|| VerifyError::MissingParameter(name.to_owned()));

    let access_key_id = required("AccessKeyId")?;
    let signature_method = required("SignatureMethod")?;
    if signature_method != SIGNATURE_METHOD {
        return Err(VerifyError::UnsupportedSignatureMethod(signature_method.to_owned()));
    }
    // Absent SignatureVersion defaults to 1.0 at Alibaba; any other value is refused.
    if let Some(version) = single(params, "SignatureVersion")?
        && version != SIGNATURE_VERSION
    {
        return Err(VerifyError::UnsupportedSignatureMethod(format!(
            "{signature_method} {version}"
        )));
    }
    let timestamp = check_fresh(required("Timestamp")?, now)?;
    let nonce = required("SignatureNonce")?;
    let secret = secret_for(access_key_id).ok_or_else(|| VerifyError::UnknownAccessKey(access_key_id.to_owned()))?;

    let string_to_sign = string_to_sign(method, params);
    // verify_slice compares in constant time; undecodable base64 is simply a mismatch.
    let matches = BASE64
        .decode(signature)
        .is_ok_and(|given| mac(secret.as_ref(), &string_to_sign).verify_slice(&given).is_ok());
    if !matches {
        return Err(VerifyError::SignatureMismatch {
            string_to_sign,
            canonical_request: None,
        });
    }
    Ok(Verified {
        access_key_id: access_key_id.to_owned(),
        nonce: nonce.to_owned(),
        timestamp,
    })
}

/// The value of `name` if it appears once; an error if it appears more than once.
fn single<'a, K: AsRef<str>, V: AsRef<str>>(params: &'a [(K, V)], name: &str) -> Result<Option<&'a str>, VerifyError> {
    let mut found = params
        .iter()
        .filter(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref());
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(VerifyError::DuplicateParameter(name.to_owned())),
        (value, _) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::alicloud::sign::parse_timestamp;

    fn doc_params() -> Vec<(String, String)> {
        let mut p = common_params(
            "testid",
            "DescribeRegions",
            "2014-05-26",
            parse_timestamp("2016-02-23T12:46:24Z").unwrap(),
            "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            None,
        );
        p.iter_mut().find(|(k, _)| k == "Format").unwrap().1 = "XML".into();
        p
    }

    #[test]
    fn common_params_reproduce_the_documented_signature() {
        assert_eq!(
            sign_rpc("GET", &doc_params(), "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn region_id_is_optional() {
        let t = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
        let p = common_params("id", "A", "v", t, "n", Some("cn-hangzhou"));
        assert!(p.contains(&("RegionId".into(), "cn-hangzhou".into())));
        assert!(
            common_params("id", "A", "v", t, "n", None)
                .iter()
                .all(|(k, _)| k != "RegionId")
        );
    }

    #[test]
    fn signature_parameter_is_not_signed() {
        let mut p = doc_params();
        let sig = sign_rpc("GET", &p, "testsecret");
        p.push(("Signature".into(), sig.clone()));
        assert_eq!(sign_rpc("get", &p, "testsecret"), sig);
    }

    #[test]
    fn verifier_accepts_and_returns_the_nonce() {
        let mut p = doc_params();
        p.push(("Signature".into(), sign_rpc("GET", &p, "testsecret")));
        let now = parse_timestamp("2016-02-23T12:50:00Z").unwrap();
        let ok = verify_rpc("GET", &p, now, |id| (id == "testid").then_some("testsecret")).unwrap();
        assert_eq!(ok.nonce, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf");
        assert_eq!(ok.access_key_id, "testid");
    }

    #[test]
    fn verifier_refusals_carry_alibaba_codes() {
        let now = parse_timestamp("2016-02-23T12:46:24Z").unwrap();
        let keys = |id: &str| (id == "testid").then_some("testsecret");
        let mut p = doc_params();
        p.push(("Signature".into(), sign_rpc("GET", &p, "testsecret")));

        let mut dup = p.clone();
        dup.push(("Signature".into(), "x".into()));
        assert_eq!(
            verify_rpc("GET", &dup, now, keys).unwrap_err().code(),
            "InvalidParameter"
        );

        let mut other_method = p.clone();
        other_method.iter_mut().find(|(k, _)| k == "SignatureMethod").unwrap().1 = "HMAC-SHA256".into();
        assert_eq!(
            verify_rpc("GET", &other_method, now, keys).unwrap_err().code(),
            "InvalidSignatureMethod"
        );

        let no_nonce: Vec<_> = p.iter().filter(|(k, _)| k != "SignatureNonce").cloned().collect();
        let err = verify_rpc("GET", &no_nonce, now, keys).unwrap_err();
        assert_eq!(err, VerifyError::MissingParameter("SignatureNonce".into()));

        let err = verify_rpc("GET", &p, now, |_| None::<&str>).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("InvalidAccessKeyId.NotFound", 404));

        // Same parameters, other verb: the verb is signed.
        let err = verify_rpc("POST", &p, now, keys).unwrap_err();
        assert!(err.to_string().contains("POST&%2F&AccessKeyId%3Dtestid"), "{err}");
    }
}
