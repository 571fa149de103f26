//! The error every cloud client returns.

use thiserror::Error;

/// A failed cloud call. Messages come from the cloud or from transport and never hold a secret.
#[derive(Debug, Error)]
pub enum CloudError {
    /// The cloud answered with an error document.
    #[error("{service} error {code}: {message}")]
    Api {
        /// The API that answered, such as `IAM` or `KMS`.
        service: &'static str,
        /// The cloud's error code.
        code: String,
        /// The cloud's message.
        message: String,
        /// The cloud's request id.
        request_id: Option<String>,
        /// The HTTP status.
        status: u16,
        /// Whether the same call may succeed later (throttling, 5xx).
        retryable: bool,
        /// How long the cloud asked us to wait (`Retry-After`), if it did.
        retry_after: Option<std::time::Duration>,
        /// The thing asked about does not exist: each client decides from its cloud's codes,
        /// so that resources never match a cloud's error strings.
        not_found: bool,
    },
    /// The request could not be completed: connection refused or reset, timeout, a broken body.
    /// When `ambiguous`, the request may have reached the cloud and taken effect.
    #[error("could not reach {service}: {detail}")]
    Transport {
        /// The API called.
        service: &'static str,
        /// What went wrong.
        detail: String,
        /// Whether the request may have taken effect.
        ambiguous: bool,
    },
    /// The answer could not be understood.
    #[error("unexpected answer from {service}: {detail}")]
    Decode {
        /// The API called.
        service: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The request could not be signed (bad key material); says what, never the key.
    #[error("could not sign the {service} request: {detail}")]
    Signing {
        /// The API called.
        service: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// No usable credentials: names the source tried and why, never a key, secret or token.
    /// A JSON-RPC -32005, like any configuration error.
    #[error("{cloud} credentials from {source_name}: {reason}")]
    Credentials {
        /// `aws`, `alicloud` or `oci`.
        cloud: &'static str,
        /// The source tried (a setting, a variable, a profile, a role).
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// The client could not be built: credentials or settings are missing or wrong. Says what,
    /// never a secret value.
    #[error("configuration: {0}")]
    Configuration(String),
    /// The operation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The operation's deadline passed.
    #[error("timed out")]
    Timeout,
}

impl CloudError {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            CloudError::Api { retryable, .. } => *retryable,
            CloudError::Transport { .. } => true,
            _ => false,
        }
    }

    /// The cloud's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CloudError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether this is an API error with exactly this code.
    pub fn has_code(&self, wanted: &str) -> bool {
        self.code() == Some(wanted)
    }

    /// Whether the request may have taken effect although no answer came back.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, CloudError::Transport { ambiguous: true, .. })
    }

    /// Whether the cloud said the thing asked about does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CloudError::Api { not_found: true, .. })
    }

    /// The cloud's request id, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CloudError::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}
