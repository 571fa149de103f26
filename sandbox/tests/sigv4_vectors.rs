//! The official AWS SigV4 test suite, one test per case, plus the documented IAM example and
//! tests of the server-side verifier.
//!
//! Each case proves two implementations at once: `sign` (the `aws-sigv4` crate) must produce
//! the suite's `Authorization` header, and the verifier's own steps
//! (`canonical_request_over` → `string_to_sign` → `signature`), run over the headers that
//! signature names, must produce the suite's canonical request, string to sign and signature.
//!
//! The vectors in `tests/vectors/aws-sigv4/<case>/` are botocore's copy of the suite
//! (`tests/unit/auth/aws4_testsuite`, Apache-2.0, see the LICENSE and NOTICE there), with the
//! `normalize-path/` and `post-sts-token/` cases moved up one level.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use credplane_sandbox::verify::aws::{Verified, VerifyError, verify};
use credplane_sign::aws::{
    Credentials, PathEncoding, SessionTokenMode, SignableRequest, SigningOutput, SigningParams, canonical_request_over,
    sign, signature, signing_key, string_to_sign,
};
use pretty_assertions::assert_eq;

const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The session token of `post-sts-token/readme.txt`.
const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

/// Cases without a test because their `.req` is not a parseable HTTP request, with the reason.
/// Empty: every `.req` of botocore's copy parses (the parser below accepts the space in
/// `get-space`'s request line, raw UTF-8 targets and folded header lines).
const SKIPPED: &[(&str, &str)] = &[];

/// 2015-08-30T12:36:00Z, the time of every vector.
fn vector_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/aws-sigv4")
}

/// An HTTP/1.1 request read from a `.req` file.
struct Request {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: &self.method,
            uri: &self.uri,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Parses leniently, as the suite needs: the request target runs from the first to the last
/// space of the request line, and a line starting with whitespace continues the previous
/// header (an obsolete line folding, which RFC 9112 §5.2 has a recipient replace with a space).
fn parse_request(text: &str) -> Option<Request> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text.trim_end_matches('\n'), ""));
    let mut lines = head.lines();
    let (method, rest) = lines.next()?.split_once(' ')?;
    let (uri, version) = rest.rsplit_once(' ')?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers.last_mut()?;
            value.push(' ');
            value.push_str(line);
        } else {
            let (name, value) = line.split_once(':')?;
            headers.push((name.to_owned(), value.to_owned()));
        }
    }
    Some(Request {
        method: method.to_owned(),
        uri: uri.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    })
}

/// The request's headers with the signer's output set on them, as an HTTP client would.
fn apply(headers: &[(String, String)], output: &SigningOutput) -> Vec<(String, String)> {
    let mut signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !output.headers.iter().any(|(added, _)| added.eq_ignore_ascii_case(name)))
        .cloned()
        .collect();
    signed.extend(
        output
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone())),
    );
    signed
}

fn output_header<'a>(output: &'a SigningOutput, name: &str) -> &'a str {
    let found = output.headers.iter().find(|(n, _)| *n == name);
    &found.unwrap_or_else(|| panic!("no {name} in the signing output")).1
}

/// The request target as a client sends it, and how its path must be signed.
///
/// `get-space` writes a raw space in the request line, which no client can send and
/// `aws-sigv4` (rightly) refuses. On the wire it is `%20`; the suite's canonical path,
/// `/example%20space/`, is then that wire path signed as sent ([`PathEncoding::Single`]),
/// whereas IAM's double encoding would give `%2520`. Every other target is sent as written.
fn wire_form(target: &str) -> (String, PathEncoding) {
    if target.contains(' ') {
        (target.replace(' ', "%20"), PathEncoding::Single)
    } else {
        (target.to_owned(), PathEncoding::Double)
    }
}

/// The headers named by the `SignedHeaders` of `authorization`, from `headers`, as the
/// verifier selects them.
fn signed_headers<'a>(authorization: &'a str, headers: &'a [(String, String)]) -> Vec<(&'a str, &'a str)> {
    let names = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("SignedHeaders in the Authorization header");
    names
        .split(';')
        .flat_map(|name| {
            headers
                .iter()
                .filter(move |(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(move |(_, v)| (name, v.as_str()))
        })
        .collect()
}

/// Signs `case` and compares the result, and each of the verifier's steps, with the suite's
/// expected files.
fn check(case: &str, session_token: Option<&str>, mode: SessionTokenMode) {
    let dir = vectors_dir().join(case);
    let read = |ext: &str| {
        let path = dir.join(format!("{case}.{ext}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let request = parse_request(&read("req")).unwrap_or_else(|| panic!("{case}: .req does not parse"));
    let mut credentials = Credentials::new(ACCESS_KEY_ID, SECRET);
    credentials.session_token = session_token.map(str::to_owned);
    let mut params = SigningParams::new(&credentials, "us-east-1", "service", vector_time());
    params.settings.session_token_mode = mode;
    let (wire_uri, path_encoding) = wire_form(&request.uri);
    params.settings.path_encoding = path_encoding;
    let signable = SignableRequest {
        uri: &wire_uri,
        ..request.signable()
    };

    let output = sign(&signable, &params).unwrap_or_else(|e| panic!("{case}: sign: {e}"));
    let authorization = output_header(&output, "Authorization");
    assert_eq!(
        authorization,
        read("authz"),
        "{case}: Authorization header (.authz) differs"
    );
    // The other headers the signer adds are those of the signed request.
    let sreq = read("sreq");
    for (name, value) in output.headers.iter().filter(|(n, _)| *n != "Authorization") {
        let line = format!("{name}:{value}");
        assert!(
            sreq.lines().any(|l| l == line),
            "{case}: signed request (.sreq) lacks {name}"
        );
    }

    // The verifier's side, on the target as the suite writes it.
    let signed = apply(&request.headers, &output);
    let creq = canonical_request_over(
        &request.method,
        &request.uri,
        signed_headers(authorization, &signed),
        &request.body,
    )
    .expect("canonical request");
    assert_eq!(creq, read("creq"), "{case}: canonical request (.creq) differs");
    let sts = string_to_sign(&creq, &params);
    assert_eq!(sts, read("sts"), "{case}: string to sign (.sts) differs");
    assert_eq!(
        output.signature,
        signature(&signing_key(&params), &sts),
        "{case}: aws-sigv4 and the verifier's steps disagree"
    );
    let incoming = SignableRequest {
        headers: &signed,
        ..request.signable()
    };
    let verified = verify(&incoming, vector_time(), |akid| {
        (akid == ACCESS_KEY_ID).then(|| SECRET.to_owned())
    });
    assert!(
        verified.is_ok(),
        "{case}: verifier rejects the signed request: {verified:?}"
    );
}

/// One `#[test]` per case, named like its directory with `_` for `-`; optionally with a
/// session token and its mode. Also lists the tested cases for [`every_case_is_tested`].
macro_rules! vector_tests {
    ($($case:ident $(: $token:expr, $mode:ident)?;)*) => {
        $(
            #[test]
            fn $case() {
                #[allow(unused_mut, unused_assignments)]
                let (mut token, mut mode) = (None, SessionTokenMode::Include);
                $( (token, mode) = (Some($token), SessionTokenMode::$mode); )?
                check(&stringify!($case).replace('_', "-"), token, mode);
            }
        )*
        const TESTED: &[&str] = &[$(stringify!($case)),*];
    };
}

vector_tests! {
    get_header_key_duplicate;
    get_header_value_multiline;
    get_header_value_order;
    get_header_value_trim;
    get_unreserved;
    get_utf8;
    get_vanilla;
    get_vanilla_empty_query_key;
    get_vanilla_query;
    get_vanilla_query_order_encoded;
    get_vanilla_query_order_key;
    get_vanilla_query_order_key_case;
    get_vanilla_query_order_value;
    get_vanilla_query_unreserved;
    get_vanilla_utf8_query;
    // The token is not in the .req: the signer adds (and signs) it from the credentials.
    get_vanilla_with_session_token: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267", Include;
    // normalize-path/
    get_relative;
    get_relative_relative;
    get_slash;
    get_slash_dot_slash;
    get_slash_pointless_dot;
    get_slashes;
    get_space;
    get_special_character;
    post_header_key_case;
    post_header_key_sort;
    post_header_value_case;
    // post-sts-token/: the token signed, or added after signing.
    post_sts_header_before: STS_TOKEN, Include;
    post_sts_header_after: STS_TOKEN, Exclude;
    post_vanilla;
    post_vanilla_empty_query_value;
    post_vanilla_query;
    post_x_www_form_urlencoded;
    post_x_www_form_urlencoded_parameters;
}

/// Guards against a vector directory silently lacking a test.
#[test]
fn every_case_is_tested() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let has_req = vectors_dir().join(&name).join(format!("{name}.req")).is_file();
        let covered =
            TESTED.contains(&name.replace('-', "_").as_str()) || SKIPPED.iter().any(|(skipped, _)| *skipped == name);
        if has_req && !covered {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "vector cases without a test: {missing:?}");
}

fn iam_headers() -> Vec<(String, String)> {
    [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ("Host", "iam.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
    ]
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .to_vec()
}

/// The worked example of the AWS General Reference (IAM ListUsers).
#[test]
fn iam_list_users_example() {
    let credentials = Credentials::new(ACCESS_KEY_ID, SECRET);
    let params = SigningParams::new(&credentials, "us-east-1", "iam", vector_time());
    let headers = iam_headers();
    let request = SignableRequest {
        method: "GET",
        uri: "/?Action=ListUsers&Version=2010-05-08",
        headers: &headers,
        body: b"",
    };
    let selected = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let creq = canonical_request_over(request.method, request.uri, selected, request.body).unwrap();
    assert_eq!(
        creq,
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
         content-type;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "canonical request differs"
    );
    let expected = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    assert_eq!(
        sign(&request, &params).unwrap().signature,
        expected,
        "signature differs"
    );

    // The same request as an absolute URL, with the Host header left to the URL.
    let without_host: Vec<_> = headers.iter().filter(|(n, _)| n != "Host").cloned().collect();
    let absolute = SignableRequest {
        uri: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        headers: &without_host,
        ..request
    };
    assert_eq!(
        sign(&absolute, &params).unwrap().signature,
        expected,
        "absolute-URL signature differs"
    );
}

mod verifier {
    use super::*;
    use pretty_assertions::assert_eq;

    const BODY: &[u8] = b"Action=ListUsers&Version=2010-05-08";

    fn lookup(akid: &str) -> Option<String> {
        (akid == ACCESS_KEY_ID).then(|| SECRET.to_owned())
    }

    /// A POST to IAM signed at the vector time with `secret`, as the sandbox would receive it.
    fn signed_headers(secret: &str) -> Vec<(String, String)> {
        let credentials = Credentials::new(ACCESS_KEY_ID, secret);
        let params = SigningParams::new(&credentials, "us-east-1", "iam", vector_time());
        let headers = iam_headers();
        let request = SignableRequest {
            method: "POST",
            uri: "/",
            headers: &headers,
            body: BODY,
        };
        apply(&headers, &sign(&request, &params).unwrap())
    }

    fn check(headers: &[(String, String)], body: &[u8], now: DateTime<Utc>) -> Result<Verified, VerifyError> {
        verify(
            &SignableRequest {
                method: "POST",
                uri: "/",
                headers,
                body,
            },
            now,
            lookup,
        )
    }

    #[test]
    fn signed_request_verifies() {
        let verified = check(&signed_headers(SECRET), BODY, vector_time()).unwrap();
        assert_eq!(
            verified,
            Verified {
                access_key_id: ACCESS_KEY_ID.to_owned(),
                region: "us-east-1".to_owned(),
                service: "iam".to_owned(),
                time: vector_time(),
            }
        );
        // Clock skew within 15 minutes either way is fine.
        let skew = TimeDelta::minutes(14);
        assert!(check(&signed_headers(SECRET), BODY, vector_time() + skew).is_ok());
        assert!(check(&signed_headers(SECRET), BODY, vector_time() - skew).is_ok());
    }

    #[test]
    fn changed_body_is_a_mismatch() {
        let err = check(&signed_headers(SECRET), b"Action=DeleteUser", vector_time()).unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch);
        assert_eq!(err.aws_error_code(), "SignatureDoesNotMatch");
    }

    #[test]
    fn changed_signed_header_is_a_mismatch() {
        let mut headers = signed_headers(SECRET);
        headers.iter_mut().find(|(n, _)| n == "Host").unwrap().1 = "sts.amazonaws.com".to_owned();
        assert_eq!(
            check(&headers, BODY, vector_time()),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn wrong_secret_is_a_mismatch() {
        let headers = signed_headers("not-the-secret");
        assert_eq!(
            check(&headers, BODY, vector_time()),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn unknown_access_key() {
        let headers = signed_headers(SECRET);
        let err = verify(
            &SignableRequest {
                method: "POST",
                uri: "/",
                headers: &headers,
                body: BODY,
            },
            vector_time(),
            |_| None,
        )
        .unwrap_err();
        assert_eq!(err, VerifyError::UnknownAccessKey);
        assert_eq!(err.aws_error_code(), "InvalidClientTokenId");
    }

    #[test]
    fn stale_date() {
        let skew = TimeDelta::minutes(16);
        assert_eq!(
            check(&signed_headers(SECRET), BODY, vector_time() + skew),
            Err(VerifyError::StaleRequest)
        );
        assert_eq!(
            check(&signed_headers(SECRET), BODY, vector_time() - skew),
            Err(VerifyError::StaleRequest)
        );
    }

    #[test]
    fn missing_authorization_header() {
        let headers: Vec<_> = signed_headers(SECRET)
            .into_iter()
            .filter(|(n, _)| n != "Authorization")
            .collect();
        let err = check(&headers, BODY, vector_time()).unwrap_err();
        assert_eq!(err, VerifyError::MissingAuthorization);
        assert_eq!(err.aws_error_code(), "MissingAuthenticationToken");
    }

    #[test]
    fn missing_date_header() {
        let headers: Vec<_> = signed_headers(SECRET)
            .into_iter()
            .filter(|(n, _)| n != "X-Amz-Date")
            .collect();
        assert_eq!(check(&headers, BODY, vector_time()), Err(VerifyError::InvalidDate));
    }

    #[test]
    fn malformed_authorization_header() {
        let mut headers = signed_headers(SECRET);
        let auth = &mut headers.iter_mut().find(|(n, _)| n == "Authorization").unwrap().1;
        *auth = auth.replace("Signature=", "Sig=");
        let err = check(&headers, BODY, vector_time()).unwrap_err();
        assert_eq!(err, VerifyError::MalformedAuthorization);
        assert_eq!(err.aws_error_code(), "IncompleteSignature");
    }

    #[test]
    fn signed_header_absent_from_request() {
        let headers: Vec<_> = signed_headers(SECRET)
            .into_iter()
            .filter(|(n, _)| n != "Content-Type")
            .collect();
        assert_eq!(
            check(&headers, BODY, vector_time()),
            Err(VerifyError::MalformedAuthorization)
        );
    }
}
