//! OCI request signing against the published vectors (tests/vectors/oci-signing/README.md),
//! plus verifier and key-loading tests.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use credplane_sandbox::verify::oci::{VerifiableRequest, VerifiedRequest, VerifyError, verify_request};
use credplane_sign::oci::{self as sign, KeyError, OciSigner, SignableRequest, fingerprint, load_private_key_pem};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors/oci-signing")
        .join(name)
}

fn read_vector(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

fn cases() -> Value {
    serde_json::from_str(&read_vector("cases.json")).unwrap()
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("cases.json has no string at {path}"))
}

fn docs_key() -> RsaPrivateKey {
    load_private_key_pem(&read_vector("oci_docs_test_key.pem"), None).unwrap()
}

fn docs_signer() -> OciSigner {
    OciSigner::new(s(&cases(), "/key_id"), docs_key())
}

fn post_body() -> Vec<u8> {
    std::fs::read(vector_path("post_body.json")).unwrap()
}

// ---- the published vectors: one test per step and case ----

#[test]
fn get_signing_string_matches_vector() {
    let c = cases();
    let uri: Uri = s(&c, "/get/url").parse().unwrap();
    let req = SignableRequest {
        method: &Method::GET,
        uri: &uri,
        date: s(&c, "/date"),
        content_type: None,
        body: b"",
    };
    assert_eq!(sign::signing_string(&req).unwrap(), s(&c, "/get/signing_string"));
}

#[test]
fn get_signature_matches_vector() {
    let c = cases();
    let sig = docs_signer().compute_signature(s(&c, "/get/signing_string")).unwrap();
    assert_eq!(sig, s(&c, "/get/signature"));
}

#[test]
fn get_authorization_header_matches_vector() {
    let c = cases();
    let uri: Uri = s(&c, "/get/url").parse().unwrap();
    let req = SignableRequest {
        method: &Method::GET,
        uri: &uri,
        date: s(&c, "/date"),
        content_type: None,
        body: b"",
    };
    let headers = docs_signer().sign(&req).unwrap();
    assert_eq!(
        headers,
        vec![
            ("date".to_owned(), s(&c, "/date").to_owned()),
            ("authorization".to_owned(), s(&c, "/get/authorization").to_owned()),
        ]
    );
}

#[test]
fn post_body_is_316_bytes_with_published_hash() {
    let c = cases();
    let body = post_body();
    assert_eq!(body.len() as u64, c["post"]["content_length"].as_u64().unwrap());
    assert_eq!(sign::content_sha256(&body), s(&c, "/post/x_content_sha256"));
}

#[test]
fn post_signing_string_matches_vector() {
    let c = cases();
    let uri: Uri = s(&c, "/post/url").parse().unwrap();
    let body = post_body();
    let req = SignableRequest {
        method: &Method::POST,
        uri: &uri,
        date: s(&c, "/date"),
        content_type: Some(s(&c, "/post/content_type")),
        body: &body,
    };
    assert_eq!(sign::signing_string(&req).unwrap(), s(&c, "/post/signing_string"));
}

#[test]
fn post_signature_matches_vector() {
    let c = cases();
    let sig = docs_signer().compute_signature(s(&c, "/post/signing_string")).unwrap();
    assert_eq!(sig, s(&c, "/post/signature"));
}

#[test]
fn post_authorization_header_matches_vector() {
    let c = cases();
    let uri: Uri = s(&c, "/post/url").parse().unwrap();
    let body = post_body();
    // content_type None: the default must be the JSON type of the vector.
    let req = SignableRequest {
        method: &Method::POST,
        uri: &uri,
        date: s(&c, "/date"),
        content_type: None,
        body: &body,
    };
    let headers = docs_signer().sign(&req).unwrap();
    let expected = [
        ("date", s(&c, "/date")),
        ("content-length", "316"),
        ("content-type", "application/json"),
        ("x-content-sha256", s(&c, "/post/x_content_sha256")),
        ("authorization", s(&c, "/post/authorization")),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(headers, expected);
}

#[test]
fn for_user_builds_key_id_from_parts() {
    let c = cases();
    let parts: Vec<&str> = s(&c, "/key_id").splitn(3, '/').collect();
    let signer = OciSigner::for_user(parts[0], parts[1], parts[2], docs_key());
    assert_eq!(signer.key_id(), s(&c, "/key_id"));
}

#[test]
fn signer_debug_hides_the_key() {
    let shown = format!("{:?}", docs_signer());
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("BigUint") && !shown.contains("primes"), "{shown}");
}

// ---- keys and fingerprints ----

#[test]
fn fingerprint_matches_openssl() {
    let c = cases();
    let public = RsaPublicKey::from(&docs_key());
    assert_eq!(fingerprint(&public), s(&c, "/key_fingerprint_computed_by_openssl"));
}

#[test]
fn pkcs8_unencrypted_loads_same_key_as_pkcs1() {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = docs_key();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(load_private_key_pem(&pem, None).unwrap(), key);
}

#[test]
fn encrypted_pkcs8_loads_with_the_right_passphrase() {
    let key = load_private_key_pem(&read_vector("encrypted_pkcs8_key.pem"), Some("credplane-test")).unwrap();
    assert_eq!(
        fingerprint(&RsaPublicKey::from(&key)),
        "f4:af:01:c4:8c:9d:28:48:23:de:2f:8c:66:e8:09:87"
    );
}

#[test]
fn encrypted_pkcs8_without_passphrase_says_so() {
    let err = load_private_key_pem(&read_vector("encrypted_pkcs8_key.pem"), None).unwrap_err();
    assert_eq!(err, KeyError::PassphraseRequired);
    assert!(err.to_string().contains("no pass phrase"), "{err}");
}

#[test]
fn encrypted_pkcs8_with_wrong_passphrase_fails() {
    let err = load_private_key_pem(&read_vector("encrypted_pkcs8_key.pem"), Some("wrong")).unwrap_err();
    assert_eq!(err, KeyError::Decrypt);
    assert!(err.to_string().contains("wrong pass phrase"), "{err}");
}

#[test]
fn legacy_encrypted_pkcs1_points_to_openssl_pkcs8() {
    let err = load_private_key_pem(&read_vector("legacy_encrypted_pkcs1_key.pem"), Some("credplane-test")).unwrap_err();
    assert_eq!(err, KeyError::LegacyEncryptedPem);
    assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
}

// ---- the verifier ----

/// The date used by the verifier tests, and `now` for them.
fn test_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A signed POST as the sandbox would receive it: origin-form URI and all headers.
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn verify(&self) -> Result<VerifiedRequest, VerifyError> {
        let req = VerifiableRequest {
            method: &self.method,
            uri: &self.uri,
            headers: &self.headers,
            body: &self.body,
        };
        let key_id = s(&cases(), "/key_id").to_owned();
        let public = RsaPublicKey::from(&docs_key());
        verify_request(&req, test_now(), move |id| (id == key_id).then(|| public.clone()))
    }

    fn set(&mut self, name: &str, value: &str) {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
}

fn signed_request(signer: &OciSigner, method: Method, date: SystemTime, body: &[u8]) -> Received {
    let uri: Uri = "https://identity.sandbox.test/20160918/users?compartmentId=ocid1.tenancy.oc1..x"
        .parse()
        .unwrap();
    let date = httpdate::fmt_http_date(date);
    let req = SignableRequest {
        method: &method,
        uri: &uri,
        date: &date,
        content_type: None,
        body,
    };
    let mut received = Received {
        method: method.clone(),
        uri: uri.path_and_query().unwrap().as_str().parse().unwrap(),
        headers: HeaderMap::new(),
        body: body.to_vec(),
    };
    received.set("host", uri.host().unwrap());
    for (name, value) in signer.sign(&req).unwrap() {
        received.set(&name, &value);
    }
    received
}

#[test]
fn verifier_accepts_valid_post_and_get() {
    let post = signed_request(&docs_signer(), Method::POST, test_now(), &post_body());
    let ok = post.verify().unwrap();
    assert_eq!(ok.key_id, s(&cases(), "/key_id"));
    assert_eq!(ok.signed_headers.len(), 6);
    let get = signed_request(&docs_signer(), Method::GET, test_now() - Duration::from_secs(299), b"");
    assert!(get.verify().is_ok());
}

#[test]
fn verifier_accepts_published_get_signature_but_not_its_weekday() {
    let c = cases();
    let url: Uri = s(&c, "/get/url").parse().unwrap();
    let mut r = Received {
        method: Method::GET,
        uri: url.path_and_query().unwrap().as_str().parse().unwrap(),
        headers: HeaderMap::new(),
        body: Vec::new(),
    };
    r.set("host", url.host().unwrap());
    r.set("date", s(&c, "/date"));
    r.set("authorization", s(&c, "/get/authorization"));
    let req = VerifiableRequest {
        method: &r.method,
        uri: &r.uri,
        headers: &r.headers,
        body: &r.body,
    };
    let public = RsaPublicKey::from(&docs_key());
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_388_957_500); // 2014-01-05 21:31:40 UTC
    // The published date says "Thu" but 5 Jan 2014 was a Sunday, so it is not a valid
    // HTTP-date. The date is checked after the signature, so this error proves the
    // published signature verified; then the strict date check rejects the bad weekday.
    let err = verify_request(&req, at, |_| Some(public.clone())).unwrap_err();
    assert_eq!(err, VerifyError::Malformed("date is not an HTTP date".into()));
}

#[test]
fn verifier_rejects_tampered_body() {
    let mut r = signed_request(&docs_signer(), Method::POST, test_now(), &post_body());
    r.body[20] ^= 1; // same length, different bytes
    assert_eq!(r.verify().unwrap_err(), VerifyError::BodyHashMismatch);
}

#[test]
fn verifier_rejects_wrong_key() {
    let other = load_private_key_pem(&read_vector("other_key_pkcs1.pem"), None).unwrap();
    // Signed by another key but claiming the docs keyId.
    let signer = OciSigner::new(s(&cases(), "/key_id"), other);
    let r = signed_request(&signer, Method::POST, test_now(), &post_body());
    assert_eq!(r.verify().unwrap_err(), VerifyError::BadSignature);
}

#[test]
fn verifier_rejects_unknown_key_id() {
    let signer = OciSigner::new("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/00:11", docs_key());
    let r = signed_request(&signer, Method::GET, test_now(), b"");
    assert!(matches!(r.verify().unwrap_err(), VerifyError::UnknownKeyId(id) if id.ends_with("/00:11")));
}

#[test]
fn verifier_rejects_date_six_minutes_old() {
    let r = signed_request(
        &docs_signer(),
        Method::GET,
        test_now() - Duration::from_secs(6 * 60),
        b"",
    );
    assert_eq!(r.verify().unwrap_err(), VerifyError::StaleDate { skew_secs: 360 });
}

#[test]
fn verifier_rejects_date_six_minutes_ahead() {
    let r = signed_request(
        &docs_signer(),
        Method::GET,
        test_now() + Duration::from_secs(6 * 60),
        b"",
    );
    assert_eq!(r.verify().unwrap_err(), VerifyError::StaleDate { skew_secs: 360 });
}

#[test]
fn verifier_rejects_missing_authorization() {
    let mut r = signed_request(&docs_signer(), Method::GET, test_now(), b"");
    r.headers.remove("authorization");
    assert_eq!(r.verify().unwrap_err(), VerifyError::MissingAuthorization);
}

#[test]
fn verifier_rejects_missing_signed_header() {
    let mut r = signed_request(&docs_signer(), Method::POST, test_now(), &post_body());
    r.headers.remove("x-content-sha256");
    assert_eq!(
        r.verify().unwrap_err(),
        VerifyError::MissingHeader("x-content-sha256".into())
    );
}

#[test]
fn verifier_rejects_post_without_signed_body_headers() {
    // A POST signed as if it were a GET: valid signature over date/target/host only.
    let signer = docs_signer();
    let mut r = signed_request(&signer, Method::POST, test_now(), &post_body());
    let date = r.headers["date"].to_str().unwrap().to_owned();
    let signing = format!(
        "date: {date}\n(request-target): post {}\nhost: identity.sandbox.test",
        r.uri.path_and_query().unwrap()
    );
    let sig = signer.compute_signature(&signing).unwrap();
    r.set(
        "authorization",
        &sign::authorization_header(&sign::GENERIC_HEADERS, signer.key_id(), &sig),
    );
    assert_eq!(
        r.verify().unwrap_err(),
        VerifyError::UnsignedRequiredHeader("content-length".into())
    );
}

#[test]
fn verifier_rejects_malformed_authorization() {
    let mut r = signed_request(&docs_signer(), Method::GET, test_now(), b"");
    r.set("authorization", "Signature keyId=unquoted");
    assert!(matches!(r.verify().unwrap_err(), VerifyError::Malformed(_)));
}

#[test]
fn verifier_rejects_changed_target() {
    let mut r = signed_request(&docs_signer(), Method::GET, test_now(), b"");
    r.uri = "/20160918/users?compartmentId=ocid1.tenancy.oc1..other"
        .parse()
        .unwrap();
    assert_eq!(r.verify().unwrap_err(), VerifyError::BadSignature);
}
