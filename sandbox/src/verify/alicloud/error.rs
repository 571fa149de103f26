//! Why a signed request was refused, with Alibaba's own error codes.

/// A request the sandbox refuses. None of the fields holds a secret: the
/// string-to-sign is what Alibaba itself echoes back on a mismatch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The request carries no `Signature` parameter (V1) or `Authorization` header (V3).
    #[error("the request is not signed: {0} is missing")]
    MissingSignature(&'static str),
    /// A required parameter or header is absent.
    #[error("the input parameter \"{0}\" that is mandatory for processing this request is not supplied")]
    MissingParameter(String),
    /// A signing parameter appears more than once, so which one was signed is ambiguous.
    #[error("the parameter \"{0}\" appears more than once")]
    DuplicateParameter(String),
    /// The `Authorization` header is malformed, or signs fewer headers than it must.
    #[error("the request signature does not conform to Alibaba Cloud standards: {0}")]
    IncompleteSignature(String),
    /// `SignatureMethod`/`SignatureVersion` (V1) or the V3 algorithm is not one we accept.
    #[error("the signature method \"{0}\" is not supported")]
    UnsupportedSignatureMethod(String),
    /// No secret is known for the access key id.
    #[error("the access key id \"{0}\" is not found")]
    UnknownAccessKey(String),
    /// The timestamp is not `YYYY-MM-DDThh:mm:ssZ`.
    #[error("the timestamp \"{0}\" is not in the format YYYY-MM-DDThh:mm:ssZ")]
    InvalidTimestamp(String),
    /// The timestamp is more than 15 minutes away from the server's clock.
    #[error("the timestamp \"{timestamp}\" is more than 15 minutes away from the server time {now}")]
    StaleTimestamp {
        /// The timestamp the request carried.
        timestamp: String,
        /// The server time it was compared with.
        now: String,
    },
    /// The recomputed signature differs from the one in the request.
    #[error("the request signature does not match; the server string to sign is: {string_to_sign}")]
    SignatureMismatch {
        /// The server's string-to-sign, so a client can diff it against its own.
        string_to_sign: String,
        /// The V3 canonical request the hash in `string_to_sign` was taken over.
        canonical_request: Option<String>,
    },
    /// The nonce was seen before. The verifiers never return this: the caller
    /// keeps the nonce store and raises it with the nonce from [`super::Verified`].
    #[error("the signature nonce \"{0}\" has been used")]
    NonceUsed(String),
}

impl VerifyError {
    /// Alibaba Cloud's error code for this refusal, as its API returns it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature(_) => "MissingSignature",
            Self::MissingParameter(_) => "MissingParameter",
            Self::DuplicateParameter(_) => "InvalidParameter",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::UnsupportedSignatureMethod(_) => "InvalidSignatureMethod",
            Self::UnknownAccessKey(_) => "InvalidAccessKeyId.NotFound",
            Self::InvalidTimestamp(_) => "InvalidTimeStamp.Format",
            Self::StaleTimestamp { .. } => "InvalidTimeStamp.Expired",
            Self::SignatureMismatch { .. } => "SignatureDoesNotMatch",
            Self::NonceUsed(_) => "SignatureNonceUsed",
        }
    }

    /// The HTTP status Alibaba answers this refusal with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnknownAccessKey(_) => 404,
            _ => 400,
        }
    }
}
