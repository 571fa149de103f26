//! Alibaba Cloud signing vectors: one `#[test]` per JSON file in
//! `tests/vectors/alicloud-signing/` (see `reference.py` there for provenance).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use credplane_sandbox::verify::alicloud::{
    Acs3Request, Verified, VerifyError, acs3_canonical_request, acs3_headers, acs3_string_to_sign,
    parse as parse_timestamp, sign_acs3, verify_acs3, verify_rpc,
};
use credplane_sign::alicloud::{canonical_query, sign_rpc, string_to_sign};
use pretty_assertions::assert_eq;
use serde::Deserialize;

type Pairs = Vec<(String, String)>;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Case {
    Rpc(RpcCase),
    RpcVerify(RpcVerifyCase),
    Acs3(Acs3Case),
    Acs3Verify(Acs3VerifyCase),
}

#[derive(Deserialize)]
struct RpcCase {
    method: String,
    query: Pairs,
    form: Pairs,
    secret: String,
    expected: RpcExpected,
}

#[derive(Deserialize)]
struct RpcExpected {
    canonical_query: String,
    string_to_sign: String,
    signature: String,
}

#[derive(Deserialize)]
struct RpcVerifyCase {
    method: String,
    query: Pairs,
    form: Pairs,
    client_secret: String,
    server_keys: HashMap<String, String>,
    now: String,
    set: Pairs,
    remove: Vec<String>,
    replay: bool,
    expected_code: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Acs3Input {
    method: String,
    host: String,
    path: String,
    query: Pairs,
    action: String,
    version: String,
    date: String,
    nonce: String,
    content_type: Option<String>,
    #[serde(default)]
    extra_headers: Pairs,
    body: String,
    access_key_id: String,
    secret: String,
}

#[derive(Deserialize)]
struct Acs3Case {
    request: Acs3Input,
    expected: Acs3Expected,
}

#[derive(Deserialize)]
struct Acs3Expected {
    canonical_request: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
}

#[derive(Deserialize)]
struct Acs3VerifyCase {
    request: Acs3Input,
    server_keys: HashMap<String, String>,
    now: String,
    body: Option<String>,
    set_query: Pairs,
    add_headers: Pairs,
    remove_headers: Vec<String>,
    expected_code: Option<String>,
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/alicloud-signing")
}

fn run(name: &str) {
    let path = vectors_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        Case::Rpc(c) => rpc(c),
        Case::RpcVerify(c) => rpc_verify(c),
        Case::Acs3(c) => acs3(c),
        Case::Acs3Verify(c) => acs3_verify(c),
    }
}

fn time(s: &str) -> DateTime<Utc> {
    parse_timestamp(s).unwrap()
}

fn value<'a>(pairs: &'a Pairs, key: &str) -> &'a str {
    &pairs
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

/// The caller's side of replay protection: a nonce may pass only once.
fn check_nonce(seen: &mut HashSet<String>, verified: Verified) -> Result<Verified, VerifyError> {
    if seen.insert(verified.nonce.clone()) {
        Ok(verified)
    } else {
        Err(VerifyError::NonceUsed(verified.nonce))
    }
}

fn assert_outcome(result: Result<Verified, VerifyError>, expected_code: Option<&str>, secrets: &[&str]) {
    match (result, expected_code) {
        (Ok(_), None) => {}
        (Ok(v), Some(code)) => panic!("expected {code}, but verified {v:?}"),
        (Err(e), None) => panic!("expected success, got {} ({e})", e.code()),
        (Err(e), Some(code)) => {
            assert_eq!(e.code(), code, "{e}");
            for secret in secrets {
                assert!(!e.to_string().contains(secret), "error leaks a secret: {e}");
            }
        }
    }
}

fn rpc(c: RpcCase) {
    let params: Pairs = c.query.iter().chain(&c.form).cloned().collect();
    assert_eq!(canonical_query(&params), c.expected.canonical_query);
    assert_eq!(string_to_sign(&c.method, &params), c.expected.string_to_sign);
    assert_eq!(sign_rpc(&c.method, &params, &c.secret), c.expected.signature);

    // Round trip through the verifier, at the request's own time.
    let mut signed = params.clone();
    signed.push(("Signature".into(), c.expected.signature.clone()));
    let now = time(value(&params, "Timestamp"));
    let key = value(&params, "AccessKeyId");
    let ok = verify_rpc(&c.method, &signed, now, |id| (id == key).then_some(c.secret.as_str())).unwrap();
    assert_eq!(ok.nonce, value(&params, "SignatureNonce"));
    assert_eq!(ok.access_key_id, key);
}

fn rpc_verify(c: RpcVerifyCase) {
    let mut params: Pairs = c.query.iter().chain(&c.form).cloned().collect();
    let signature = sign_rpc(&c.method, &params, &c.client_secret);
    params.push(("Signature".into(), signature));
    for (k, v) in &c.set {
        params.iter_mut().find(|(pk, _)| pk == k).unwrap().1 = v.clone();
    }
    params.retain(|(k, _)| !c.remove.contains(k));

    let now = time(&c.now);
    let verify = || verify_rpc(&c.method, &params, now, |id| c.server_keys.get(id));
    let mut seen = HashSet::new();
    if c.replay {
        check_nonce(&mut seen, verify().unwrap()).unwrap();
    }
    let result = verify().and_then(|v| check_nonce(&mut seen, v));
    if let Err(VerifyError::SignatureMismatch {
        string_to_sign: server, ..
    }) = &result
    {
        // Alibaba echoes its string to sign so the client can diff it.
        assert_eq!(server, &string_to_sign(&c.method, &params));
    }
    let secrets: Vec<&str> = c
        .server_keys
        .values()
        .map(String::as_str)
        .chain([c.client_secret.as_str()])
        .collect();
    assert_outcome(result, c.expected_code.as_deref(), &secrets);
}

fn acs3_headers_of(r: &Acs3Input) -> Pairs {
    let mut headers = acs3_headers(
        &r.host,
        &r.action,
        &r.version,
        time(&r.date),
        &r.nonce,
        r.body.as_bytes(),
        r.content_type.as_deref(),
    );
    headers.extend(r.extra_headers.iter().cloned());
    headers
}

fn acs3(c: Acs3Case) {
    let r = &c.request;
    let mut headers = acs3_headers_of(r);
    let req = Acs3Request {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &headers,
        body: r.body.as_bytes(),
    };
    let (canonical, _) = acs3_canonical_request(&req);
    assert_eq!(canonical, c.expected.canonical_request);
    assert_eq!(acs3_string_to_sign(&canonical), c.expected.string_to_sign);
    let signed = sign_acs3(&req, &r.access_key_id, &r.secret);
    assert_eq!(signed.signature, c.expected.signature);
    assert_eq!(signed.authorization, c.expected.authorization);

    // Round trip through the verifier, at the request's own time.
    headers.push(("Authorization".into(), signed.authorization));
    let req = Acs3Request {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &headers,
        body: r.body.as_bytes(),
    };
    let ok = verify_acs3(&req, time(&r.date), |id| {
        (id == r.access_key_id).then_some(r.secret.as_str())
    })
    .unwrap();
    assert_eq!(ok.nonce, r.nonce);
    assert_eq!(ok.access_key_id, r.access_key_id);
}

fn acs3_verify(c: Acs3VerifyCase) {
    let r = &c.request;
    let mut headers = acs3_headers_of(r);
    let req = Acs3Request {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &headers,
        body: r.body.as_bytes(),
    };
    let authorization = sign_acs3(&req, &r.access_key_id, &r.secret).authorization;
    headers.push(("Authorization".into(), authorization));

    // Tamper with what arrives at the server.
    let mut query = r.query.clone();
    for (k, v) in &c.set_query {
        query.iter_mut().find(|(qk, _)| qk == k).unwrap().1 = v.clone();
    }
    headers.extend(c.add_headers.iter().cloned());
    headers.retain(|(k, _)| !c.remove_headers.iter().any(|h| h.eq_ignore_ascii_case(k)));
    let body = c.body.as_deref().unwrap_or(&r.body);

    let req = Acs3Request {
        method: &r.method,
        path: &r.path,
        query: &query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let result = verify_acs3(&req, time(&c.now), |id| c.server_keys.get(id));
    if let Err(VerifyError::SignatureMismatch {
        string_to_sign: server,
        canonical_request,
    }) = &result
    {
        let (canonical, _) = acs3_canonical_request(&req);
        assert_eq!(canonical_request.as_deref(), Some(canonical.as_str()));
        assert_eq!(server, &acs3_string_to_sign(&canonical));
    }
    let secrets: Vec<&str> = c
        .server_keys
        .values()
        .map(String::as_str)
        .chain([r.secret.as_str()])
        .collect();
    assert_outcome(result, c.expected_code.as_deref(), &secrets);
}

macro_rules! vectors {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { run(stringify!($name)); } )*

        /// Guards against a vector file that no test runs.
        #[test]
        fn every_vector_file_has_a_test() {
            let listed = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(vectors_dir()).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "json") {
                    let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
                    assert!(listed.contains(&stem.as_str()), "{stem}.json has no #[test]");
                }
            }
        }
    };
}

vectors! {
    rpc_documented_describe_regions,
    rpc_edge_values,
    rpc_edge_keys,
    rpc_post_form_body,
    rpc_verify_valid,
    rpc_verify_tampered_value,
    rpc_verify_wrong_secret,
    rpc_verify_stale_timestamp,
    rpc_verify_missing_signature,
    rpc_verify_unknown_access_key,
    rpc_verify_replayed_nonce,
    acs3_documented_run_instances,
    acs3_roa_json_body,
    acs3_rpc_get_query,
    acs3_verify_valid,
    acs3_verify_tampered_body,
    acs3_verify_tampered_query,
    acs3_verify_wrong_secret,
    acs3_verify_stale_date,
    acs3_verify_missing_authorization,
    acs3_verify_unsigned_header,
    acs3_verify_unknown_access_key,
}
