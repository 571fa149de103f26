//! `ProviderError`: what a method can fail with, before it becomes a JSON-RPC error.

use crate::cloud::error::CloudError;
use crate::protocol::{ErrorCode, ErrorData, Failure, PropertyMap};
use thiserror::Error;

/// A failed provider method. No variant ever carries a secret value.
#[derive(Debug, Error)]
pub enum ProviderError {
    /// The params are malformed or the inputs invalid.
    #[error("invalid params: {}", summarize(.0))]
    InvalidParams(Vec<Failure>),
    /// A cloud call failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The resource exists but a later step failed; `id` and `outputs` say what exists. Built
    /// only by the typed layer from a resource's [`crate::resources::Partial`], so that the
    /// outputs are wrapped by the schema as on success.
    #[error("{type_name} {id} was {done}, but {reason}")]
    PartiallyCreated {
        /// The resource type.
        type_name: &'static str,
        /// What was done: `created` or `updated`.
        done: &'static str,
        /// The id of the resource that exists.
        id: String,
        /// Its outputs, secrets wrapped.
        outputs: Box<PropertyMap>,
        /// What failed after the create.
        reason: String,
    },
    /// A create may have made a credential that the provider cannot prove is its own: `candidates`
    /// are the ids it may be. None was adopted or deleted.
    #[error("{message}")]
    Unproven {
        /// What happened and what to do.
        message: String,
        /// The ids of the credentials that may be the one this create made.
        candidates: Vec<String>,
        /// The error of the create call.
        #[source]
        source: Box<CloudError>,
    },
    /// An error of a create whose cloud call may have taken effect (`data.mayExist`).
    #[error(transparent)]
    MayExist(Box<ProviderError>),
    /// A cloud call failed in a way a user must act on; `message` says how, `source` is the cloud's answer.
    #[error("{message}")]
    Explained {
        /// What happened and what to do.
        message: String,
        /// The underlying cloud error.
        #[source]
        source: CloudError,
    },
    /// Credentials or configuration are missing or wrong.
    #[error("configuration: {0}")]
    Configuration(String),
    /// The operation is not supported for this resource type.
    #[error("{0}")]
    Unsupported(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summarize(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(|f| {
            if f.property.is_empty() {
                f.reason.clone()
            } else {
                format!("{}: {}", f.property, f.reason)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl ProviderError {
    /// A single invalid-params failure.
    pub fn invalid(property: impl Into<String>, reason: impl Into<String>) -> Self {
        ProviderError::InvalidParams(vec![Failure::new(property, reason)])
    }

    /// A value that did not deserialize, as invalid params at its path. The reason keeps serde's
    /// words only when they name a field or the allowed variants; otherwise it says the value has
    /// the wrong type, without quoting it (it may be secret).
    pub fn from_serde(err: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> Self {
        let path = err.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let text = err.inner().to_string();
        let names_only = ["missing field", "unknown field", "unknown variant"]
            .iter()
            .any(|p| text.starts_with(p));
        let reason = if names_only {
            text.split(" at line").next().unwrap_or(&text).to_string()
        } else {
            "has a value of the wrong type or shape".to_string()
        };
        ProviderError::invalid(path, format!("{prefix}{reason}"))
    }

    /// A create of a key for `owner` whose cloud call was still in flight, at `started`, when the
    /// operation was cancelled or ran out of time. The cloud may have minted a credential whose
    /// secret nobody saw: say so, and where to look (the error is flagged `mayExist`).
    pub fn create_interrupted(owner: &str, started: chrono::DateTime<chrono::Utc>, source: CloudError) -> Self {
        let stopped = if matches!(source, CloudError::Timeout) {
            "timed out"
        } else {
            "was cancelled"
        };
        ProviderError::Explained {
            message: format!(
                "the create {stopped} while creating an access key for {owner}: the cloud may have created a key whose \
                 secret was never returned; list the keys of {owner} and delete one created at about {} that no one uses",
                started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            source,
        }
    }

    /// The cloud error underneath, if any.
    pub fn cloud_source(&self) -> Option<&CloudError> {
        match self {
            ProviderError::Cloud(err) | ProviderError::Explained { source: err, .. } => Some(err),
            ProviderError::Unproven { source, .. } => Some(source.as_ref()),
            ProviderError::MayExist(inner) => inner.cloud_source(),
            _ => None,
        }
    }

    /// Marks the error of a create whose cloud call may have taken effect: cancelled, timed out,
    /// or with a reply lost or unreadable. Other errors pass unchanged.
    pub fn flag_may_exist(self) -> Self {
        let may = self.cloud_source().is_some_and(|err| {
            err.is_ambiguous()
                || matches!(
                    err,
                    CloudError::Cancelled | CloudError::Timeout | CloudError::Decode { .. }
                )
        });
        match self {
            ProviderError::MayExist(_) => self,
            err if may => ProviderError::MayExist(Box::new(err)),
            err => err,
        }
    }

    /// The JSON-RPC code and data of this error.
    pub fn to_wire(&self) -> (ErrorCode, ErrorData) {
        let message = self.to_string();
        let mut data = ErrorData {
            message,
            ..Default::default()
        };
        let code = match self {
            ProviderError::InvalidParams(failures) => {
                data.failures = failures.clone();
                ErrorCode::InvalidParams
            }
            ProviderError::Cloud(err) | ProviderError::Explained { source: err, .. } => {
                data.cloud_code = err.code().map(str::to_owned);
                data.request_id = err.request_id().map(str::to_owned);
                data.retryable = err.is_retryable();
                match err {
                    // A client that could not be built: the same code as a provider setting.
                    CloudError::Configuration(_) => ErrorCode::Configuration,
                    CloudError::Cancelled => ErrorCode::Cancelled,
                    CloudError::Timeout => ErrorCode::Timeout,
                    CloudError::Credentials { .. } => ErrorCode::Configuration,
                    _ => ErrorCode::CloudError,
                }
            }
            ProviderError::PartiallyCreated { id, outputs, .. } => {
                data.id = Some(id.clone());
                data.outputs = Some(serde_json::Value::Object(outputs.as_ref().clone()));
                ErrorCode::PartiallyCreated
            }
            ProviderError::Unproven { candidates, source, .. } => {
                data.candidates = candidates.clone();
                data.cloud_code = source.code().map(str::to_owned);
                data.request_id = source.request_id().map(str::to_owned);
                data.may_exist = true;
                ErrorCode::PartiallyCreated
            }
            ProviderError::MayExist(inner) => {
                let (code, mut inner_data) = inner.to_wire();
                inner_data.may_exist = true;
                return (code, inner_data);
            }
            ProviderError::Configuration(_) => ErrorCode::Configuration,
            ProviderError::Unsupported(_) => ErrorCode::Unsupported,
            ProviderError::Internal(_) => ErrorCode::InternalError,
        };
        (code, data)
    }
}
