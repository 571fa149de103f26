//! RPC signature V1: HMAC-SHA1 over the sorted, encoded parameters.
//!
//! `StringToSign = METHOD & %2F & encode(k1=v1&k2=v2...)`, keys sorted, every key
//! and value [`percent_encode`]d; `Signature = base64(HMAC-SHA1(secret + "&", it))`.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{format_timestamp, percent_encode};

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

/// HMAC-SHA1 keyed with `secret&` over `string_to_sign`, before finalizing: the verifier
/// compares with it in constant time.
pub fn mac(secret: &str, string_to_sign: &str) -> Hmac<Sha1> {
    // The key is the secret plus '&': the slot once meant for an OAuth-style token secret.
    let mut mac =
        Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alicloud::parse_timestamp;

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
}
