//! AWS Signature Version 4.
//!
//! [`sign`] signs a request with the `aws-sigv4` crate, the AWS SDK for Rust's own signer
//! (see [`signer`]). The steps in [`canonical`] are an independent implementation that the
//! cloud sandbox's verifier runs on incoming requests: [`canonical_request_over`] →
//! [`string_to_sign`] → [`signing_key`] → [`signature`]. The botocore copy of the official
//! suite (`sandbox/tests/sigv4_vectors.rs`) checks both against the same expected files.
//! Nothing here does I/O or logs.

pub mod canonical;
pub mod signer;

use std::fmt;

use chrono::{DateTime, Utc};

pub use canonical::{
    SigningKey, canonical_request_over, derive_signing_key, hmac_sha256, signature, signing_key, string_to_sign,
};
pub use signer::sign;

/// The algorithm name opening the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last element of a credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// The `X-Amz-Date` format.
pub const DATE_TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The date of a credential scope.
pub const DATE_FORMAT: &str = "%Y%m%d";

/// An AWS access key, optionally with the session token of temporary (STS) credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id, e.g. `AKIDEXAMPLE`. Not secret.
    pub access_key_id: String,
    /// The secret access key. Never printed.
    pub secret_access_key: String,
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials without a session token.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// The same credentials with a session token, as issued by STS.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[secret]")
            .field("session_token", &self.session_token.as_ref().map(|_| "[secret]"))
            .finish()
    }
}

/// Whether the session token is part of the signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionTokenMode {
    /// Sign `X-Amz-Security-Token` like any other header (what almost every service expects).
    #[default]
    Include,
    /// Add `X-Amz-Security-Token` after signing, for the few services that want it unsigned.
    Exclude,
}

/// How the request path goes into the canonical request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathEncoding {
    /// Normalized (dot and empty segments removed) and URI-encoded once more than sent, so
    /// `%20` on the wire signs as `%2520`: what IAM, STS and every service but S3 expect.
    #[default]
    Double,
    /// Signed exactly as sent on the wire, neither normalized nor encoded again (S3).
    Single,
}

/// Knobs that vary between services; the defaults suit IAM and STS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigningSettings {
    /// Whether the session token is signed.
    pub session_token_mode: SessionTokenMode,
    /// Whether to send (and sign) `X-Amz-Content-Sha256`, which S3 requires.
    pub content_sha256_header: bool,
    /// How the path is canonicalized.
    pub path_encoding: PathEncoding,
}

/// Everything besides the request that goes into a signature.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// Who signs.
    pub credentials: &'a Credentials,
    /// The region of the credential scope, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `iam`.
    pub service: &'a str,
    /// The signing time, sent as `X-Amz-Date`.
    pub time: DateTime<Utc>,
    /// Service-specific knobs.
    pub settings: SigningSettings,
}

impl<'a> SigningParams<'a> {
    /// Parameters with the default settings.
    pub fn new(credentials: &'a Credentials, region: &'a str, service: &'a str, time: DateTime<Utc>) -> Self {
        Self {
            credentials,
            region,
            service,
            time,
            settings: SigningSettings::default(),
        }
    }
}

/// The parts of an HTTP request that a signature covers.
///
/// Deliberately not `Debug`: headers and body may carry secrets.
#[derive(Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// Either an absolute URL (`https://iam.amazonaws.com/?Action=ListUsers`) or the path and
    /// query as sent on the wire (`/?Action=ListUsers`), in their encoded form: [`sign`]
    /// refuses what cannot be on the wire, such as a raw space.
    pub uri: &'a str,
    /// The request headers, in order; names are case-insensitive and may repeat.
    /// Without a `Host` header, the host of an absolute `uri` is signed.
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

/// What [`sign`] produces: the headers to set on the request, and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// Headers to set (replacing any of the same name): `Authorization`, `X-Amz-Date`, and
    /// `X-Amz-Content-Sha256` / `X-Amz-Security-Token` when they apply.
    pub headers: Vec<(&'static str, String)>,
    /// The signature, as lower-case hex.
    pub signature: String,
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| match *name {
                "X-Amz-Security-Token" => (*name, "[secret]"),
                _ => (*name, value.as_str()),
            })
            .collect();
        f.debug_struct("SigningOutput")
            .field("headers", &headers)
            .field("signature", &self.signature)
            .finish()
    }
}

/// Why a request could not be signed. Never contains secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningError {
    kind: SigningErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SigningErrorKind {
    InvalidUri,
    MissingHost,
    EmptyHeaderName,
    InvalidHeader,
}

impl From<SigningErrorKind> for SigningError {
    fn from(kind: SigningErrorKind) -> Self {
        Self { kind }
    }
}

impl fmt::Display for SigningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            SigningErrorKind::InvalidUri => {
                "cannot sign request: the URI is neither an absolute http(s) URL nor a path starting with '/'"
            }
            SigningErrorKind::MissingHost => "cannot sign request: no Host header and no host in the URI",
            SigningErrorKind::EmptyHeaderName => "cannot sign request: a header has an empty name",
            SigningErrorKind::InvalidHeader => {
                "cannot sign request: a header name or value cannot be sent over HTTP (e.g. it holds a line break)"
            }
        })
    }
}

impl std::error::Error for SigningError {}
