//! Verification of RPC signature V1 (HMAC-SHA1), as Alibaba does it server side.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, Utc};
use credplane_sign::alicloud::{SIGNATURE_METHOD, SIGNATURE_VERSION, mac, string_to_sign};
use hmac::Mac;

use super::time::check_fresh;
use super::{Verified, VerifyError};

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
    use credplane_sign::alicloud::{common_params, parse_timestamp, sign_rpc};

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
