//! Server-side verification of AWS Signature Version 4, for the sandbox's IAM: the request is
//! re-signed with the provider's own pure signer ([`credplane_sign::aws`]) over the headers it
//! names, and the signatures are compared in constant time.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use credplane_sign::aws::{
    ALGORITHM, Credentials, DATE_FORMAT, DATE_TIME_FORMAT, SignableRequest, SigningParams, TERMINATOR,
    canonical_request_over, signing_key, string_to_sign,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far an incoming request's `X-Amz-Date` may be from the verifier's clock, as on AWS.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(15);

/// What a successfully verified request was signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// The region of the credential scope; the caller decides whether it is acceptable.
    pub region: String,
    /// The service of the credential scope; the caller decides whether it is acceptable.
    pub service: String,
    /// The request's `X-Amz-Date`.
    pub time: DateTime<Utc>,
}

/// Which part of an incoming request's signature failed. Never contains secret material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header.
    #[error("request is not signed: no Authorization header")]
    MissingAuthorization,
    /// The `Authorization` header is not a well-formed SigV4 header, or its signed headers
    /// are absent from the request, or its scope date differs from `X-Amz-Date`.
    #[error("malformed AWS4-HMAC-SHA256 Authorization header")]
    MalformedAuthorization,
    /// `X-Amz-Date` is missing or not `YYYYMMDDTHHMMSSZ`.
    #[error("missing or malformed X-Amz-Date header")]
    InvalidDate,
    /// `X-Amz-Date` is more than [`MAX_CLOCK_SKEW`] away from now.
    #[error("signature expired: X-Amz-Date is more than 15 minutes from the server time")]
    StaleRequest,
    /// The lookup does not know the access key id.
    #[error("unknown access key id")]
    UnknownAccessKey,
    /// The recomputed signature differs.
    #[error("the request signature does not match")]
    SignatureMismatch,
}

impl VerifyError {
    /// The error code AWS answers with in this case.
    pub fn aws_error_code(&self) -> &'static str {
        match self {
            Self::MissingAuthorization => "MissingAuthenticationToken",
            Self::MalformedAuthorization | Self::InvalidDate => "IncompleteSignature",
            Self::UnknownAccessKey => "InvalidClientTokenId",
            // AWS reports an expired signature as a mismatch too ("Signature expired: ...").
            Self::StaleRequest | Self::SignatureMismatch => "SignatureDoesNotMatch",
        }
    }
}

/// Verifies the header-based SigV4 signature of an incoming request (server side).
///
/// `secret_for` maps an access key id to its secret access key. The signature is recomputed
/// over exactly the headers named in `SignedHeaders` (which must include `host`) and the
/// SHA-256 of the actual body, then compared in constant time.
pub fn verify(
    request: &SignableRequest<'_>,
    now: DateTime<Utc>,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<Verified, VerifyError> {
    let authorization = find_header(request.headers, "authorization").ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(authorization).ok_or(VerifyError::MalformedAuthorization)?;

    let amz_date = find_header(request.headers, "x-amz-date").ok_or(VerifyError::InvalidDate)?;
    let time = NaiveDateTime::parse_from_str(amz_date.trim(), DATE_TIME_FORMAT)
        .map_err(|_| VerifyError::InvalidDate)?
        .and_utc();
    if auth.date != time.format(DATE_FORMAT).to_string() {
        return Err(VerifyError::MalformedAuthorization);
    }
    if (now - time).abs() > MAX_CLOCK_SKEW {
        return Err(VerifyError::StaleRequest);
    }

    let secret = secret_for(auth.access_key_id).ok_or(VerifyError::UnknownAccessKey)?;
    let credentials = Credentials::new(auth.access_key_id, secret);
    let params = SigningParams::new(&credentials, auth.region, auth.service, time);

    let mut selected = Vec::new();
    for name in auth.signed_headers.split(';') {
        let before = selected.len();
        selected.extend(
            request
                .headers
                .iter()
                .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| (name, v.as_str())),
        );
        if name.is_empty() || selected.len() == before {
            return Err(VerifyError::MalformedAuthorization);
        }
    }
    // The path comes from the server's own HTTP stack; one it cannot split was not what the client signed.
    let canonical = canonical_request_over(request.method, request.uri, selected, request.body)
        .map_err(|_| VerifyError::SignatureMismatch)?;
    let sts = string_to_sign(&canonical, &params);
    let claimed = hex::decode(auth.signature).map_err(|_| VerifyError::MalformedAuthorization)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(signing_key(&params).as_bytes()).expect("HMAC takes keys of any length");
    mac.update(sts.as_bytes());
    mac.verify_slice(&claimed).map_err(|_| VerifyError::SignatureMismatch)?;

    Ok(Verified {
        access_key_id: auth.access_key_id.to_owned(),
        region: auth.region.to_owned(),
        service: auth.service.to_owned(),
        time,
    })
}

/// The first value of a header, by case-insensitive name.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The fields of `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
/// SignedHeaders=a;b, Signature=hex`.
#[derive(Debug, PartialEq, Eq)]
struct AuthorizationParts<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<AuthorizationParts<'_>> {
    let rest = value.trim().strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    let [access_key_id, date, region, service, TERMINATOR] = scope[..] else {
        return None;
    };
    let parts = AuthorizationParts {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers?,
        signature: signature?,
    };
    let fields = [
        parts.access_key_id,
        parts.date,
        parts.region,
        parts.service,
        parts.signature,
    ];
    let has_host = parts.signed_headers.split(';').any(|h| h == "host");
    (fields.iter().all(|f| !f.is_empty()) && has_host).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_parses() {
        let header = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abcd";
        assert_eq!(
            parse_authorization(header),
            Some(AuthorizationParts {
                access_key_id: "AKID",
                date: "20150830",
                region: "us-east-1",
                service: "iam",
                signed_headers: "host;x-amz-date",
                signature: "abcd",
            })
        );
        for bad in [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA1 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=ab",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, Signature=ab, Signature=ab, SignedHeaders=host",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
