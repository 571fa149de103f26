//! The client side of SigV4: [`sign`] hands the request to the `aws-sigv4` crate, the signer
//! of the AWS SDK for Rust, and returns the headers to set.
//!
//! What stays ours is the small adapter: the crate panics on a request without a host, and
//! it expects the headers it adds (`X-Amz-Date`, the session token, the content hash) to be
//! absent, so both are checked here first.

use std::borrow::Cow;
use std::time::SystemTime;

use aws_sigv4::http_request::{
    self as sigv4, PayloadChecksumKind, PercentEncodingMode, SignableBody, SigningSettings as SdkSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::{
    PathEncoding, SessionTokenMode, SignableRequest, SigningError, SigningErrorKind, SigningOutput, SigningParams,
};

/// Headers the signer sets, lower-case as `aws-sigv4` names them, with the names we send.
const ADDED: &[(&str, &str)] = &[
    ("authorization", "Authorization"),
    ("x-amz-date", "X-Amz-Date"),
    ("x-amz-content-sha256", "X-Amz-Content-Sha256"),
    ("x-amz-security-token", "X-Amz-Security-Token"),
];

/// Headers left out of the signature besides the crate's own (`authorization`, `user-agent`,
/// `x-amzn-trace-id`, `transfer-encoding`): `expect` is added or dropped by HTTP clients.
const ALSO_UNSIGNED: &[&str] = &["expect"];

/// Signs a request and returns the headers to set on it, `Authorization` first.
///
/// Signs every request header except a few that clients and proxies add or rewrite, plus
/// `X-Amz-Date` (and the session token / content hash headers per the settings); request
/// headers of those names are replaced.
pub fn sign(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> Result<SigningOutput, SigningError> {
    let uri = request.uri.split_once('#').map_or(request.uri, |(before, _)| before);
    let parsed: http::Uri = uri.parse().map_err(|_| SigningErrorKind::InvalidUri)?;
    let absolute =
        matches!(parsed.scheme_str(), Some("http" | "https")) && parsed.host().is_some_and(|h| !h.is_empty());
    if !absolute && (parsed.scheme().is_some() || !uri.starts_with('/')) {
        return Err(SigningErrorKind::InvalidUri.into());
    }

    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len());
    for (name, value) in request.headers {
        let name = name.trim();
        if name.is_empty() {
            return Err(SigningErrorKind::EmptyHeaderName.into());
        }
        if !ADDED.iter().any(|(added, _)| added.eq_ignore_ascii_case(name)) {
            headers.push((name, value));
        }
    }
    if !absolute && !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        return Err(SigningErrorKind::MissingHost.into());
    }

    let credentials = params.credentials;
    let identity: Identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "credplane",
    )
    .into();
    let v4_params = v4::SigningParams::builder()
        .identity(&identity)
        .region(params.region)
        .name(params.service)
        .time(SystemTime::from(params.time))
        .settings(sdk_settings(params))
        .build()
        .map_err(|_| SigningErrorKind::InvalidHeader)?
        .into();
    let signable = sigv4::SignableRequest::new(
        request.method,
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|_| SigningErrorKind::InvalidUri)?;
    // The URI and host were checked above, so what the crate can still refuse is a header.
    let (instructions, signature) = sigv4::sign(signable, &v4_params)
        .map_err(|_| SigningErrorKind::InvalidHeader)?
        .into_parts();

    let mut out: Vec<(&'static str, String)> = Vec::with_capacity(ADDED.len());
    for (lower, display) in ADDED {
        if let Some((_, value)) = instructions
            .headers()
            .find(|(name, _)| name.eq_ignore_ascii_case(lower))
        {
            out.push((display, value.to_owned()));
        }
    }
    Ok(SigningOutput {
        headers: out,
        signature,
    })
}

/// Our settings in the crate's terms.
fn sdk_settings(params: &SigningParams<'_>) -> SdkSettings {
    let mut settings = SdkSettings::default();
    settings.session_token_mode = match params.settings.session_token_mode {
        SessionTokenMode::Include => sigv4::SessionTokenMode::Include,
        SessionTokenMode::Exclude => sigv4::SessionTokenMode::Exclude,
    };
    settings.payload_checksum_kind = if params.settings.content_sha256_header {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    (settings.percent_encoding_mode, settings.uri_path_normalization_mode) = match params.settings.path_encoding {
        PathEncoding::Double => (PercentEncodingMode::Double, UriPathNormalizationMode::Enabled),
        PathEncoding::Single => (PercentEncodingMode::Single, UriPathNormalizationMode::Disabled),
    };
    settings
        .excluded_headers
        .get_or_insert_with(Vec::new)
        .extend(ALSO_UNSIGNED.iter().map(|h| Cow::Borrowed(*h)));
    settings
}

#[cfg(test)]
mod tests {
    use super::super::{Credentials, SigningSettings, canonical_request_over, signature, signing_key, string_to_sign};
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
    }

    fn request<'a>(uri: &'a str, headers: &'a [(String, String)]) -> SignableRequest<'a> {
        SignableRequest {
            method: "GET",
            uri,
            headers,
            body: b"",
        }
    }

    #[test]
    fn bad_uris_and_headers_are_errors_not_panics() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET);
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        let message =
            |uri: &str, headers: &[(String, String)]| sign(&request(uri, headers), &params).unwrap_err().to_string();
        assert_eq!(
            message("/", &[]),
            "cannot sign request: no Host header and no host in the URI"
        );
        assert!(message("relative/path", &[]).contains("the URI is neither"));
        assert!(message("/a b", &[]).contains("the URI is neither"));
        assert!(message("ftp://host/x", &[]).contains("the URI is neither"));
        let empty_name = [(" ".to_owned(), "v".to_owned())];
        assert!(message("https://h/", &empty_name).contains("empty name"));
        let line_break = [("X-A".to_owned(), "a\nb".to_owned())];
        assert!(message("https://h/", &line_break).contains("cannot be sent over HTTP"));
    }

    /// An absolute URL signs its host without a default port, like the `Host` header HTTP
    /// clients send; a fragment is not part of what is sent.
    #[test]
    fn absolute_urls_sign_the_host_clients_send() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET);
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        let host = [("Host".to_owned(), "iam.amazonaws.com".to_owned())];
        let expected = sign(&request("/?Action=ListUsers", &host), &params).unwrap().signature;
        for uri in [
            "https://iam.amazonaws.com/?Action=ListUsers",
            "https://iam.amazonaws.com:443/?Action=ListUsers#fragment",
        ] {
            assert_eq!(sign(&request(uri, &[]), &params).unwrap().signature, expected, "{uri}");
        }
        let other_port = sign(
            &request("https://iam.amazonaws.com:8443/?Action=ListUsers", &[]),
            &params,
        );
        assert_ne!(other_port.unwrap().signature, expected);
    }

    /// The crate's signature equals the one our verifier recomputes, with every setting.
    #[test]
    fn settings_reach_the_signature_and_the_verifier_agrees() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET).with_session_token("TOKEN");
        let mut params = SigningParams::new(&credentials, "us-east-1", "s3", time());
        params.settings = SigningSettings {
            session_token_mode: SessionTokenMode::Exclude,
            content_sha256_header: true,
            path_encoding: PathEncoding::Single,
        };
        let headers = [
            ("Host".to_owned(), "bucket.s3.amazonaws.com".to_owned()),
            ("User-Agent".to_owned(), "unsigned".to_owned()),
            ("Expect".to_owned(), "100-continue".to_owned()),
            ("X-Amz-Date".to_owned(), "replaced".to_owned()),
        ];
        let req = SignableRequest {
            method: "PUT",
            uri: "/k",
            headers: &headers,
            body: b"body",
        };
        let out = sign(&req, &params).unwrap();
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
        let authorization = &out.headers[0].1;
        assert!(
            authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            "{authorization}"
        );
        let date = out.headers[1].1.clone();
        let hash = out.headers[2].1.clone();
        let creq = canonical_request_over(
            "PUT",
            "/k",
            [
                ("host", "bucket.s3.amazonaws.com"),
                ("x-amz-content-sha256", hash.as_str()),
                ("x-amz-date", date.as_str()),
            ],
            b"body",
        )
        .unwrap();
        let sts = string_to_sign(&creq, &params);
        assert_eq!(out.signature, signature(&signing_key(&params), &sts));
    }

    #[test]
    fn secrets_are_never_printed() {
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET).with_session_token("TOKEN");
        let params = SigningParams::new(&credentials, "us-east-1", "iam", time());
        let printed = format!(
            "{credentials:?} {params:?} {:?}",
            sign(&request("https://iam.amazonaws.com/", &[]), &params).unwrap()
        );
        assert!(!printed.contains(SECRET) && !printed.contains("TOKEN"), "{printed}");
        assert!(printed.contains("[secret]"));
    }
}
