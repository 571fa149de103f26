//! Error codes and the `data` member of JSON-RPC errors.
//!
//! JSON-RPC's own codes cover the envelope (-32700 bad JSON, -32600 bad request, -32601 unknown
//! method, -32602 bad params). Application errors use -32000..-32099 and always carry [`ErrorData`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every error code the provider returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ErrorCode {
    /// -32700: the message is not valid JSON.
    ParseError,
    /// -32600: valid JSON, but not a JSON-RPC 2.0 request.
    InvalidRequest,
    /// -32601: no such method.
    MethodNotFound,
    /// -32602: the params are malformed, or fail validation; `data.failures` says where.
    InvalidParams,
    /// -32603: a bug in the provider.
    InternalError,
    /// -32001: the cloud API answered with an error; `data.cloudCode` is its code.
    CloudError,
    /// -32002: the operation was cancelled by `cancel`.
    Cancelled,
    /// -32003: the operation did not finish within its timeout.
    Timeout,
    /// -32004: the resource was created (or changed) but a later step failed. `data.id` and
    /// `data.outputs` say what exists now, so the front-end can record it (Pulumi's
    /// ResourceInitFailed). When the provider cannot prove which credential its create made,
    /// `data.candidates` lists the ids that may be it instead; it deleted none of them.
    PartiallyCreated,
    /// -32005: credentials or configuration for a cloud are missing or invalid.
    Configuration,
    /// -32006: the operation is not supported for this resource type.
    Unsupported,
    /// -32010 (engine): wrong or missing passphrase, corrupted or tampered state.
    State,
    /// -32011 (engine): another engine holds the stack's lock; the message names it and its age.
    Locked,
    /// -32012 (engine): a protected resource would have been deleted.
    Protected,
    /// -32013 (engine): not applied, because a resource it depends on failed.
    DependencyFailed,
    /// -32014 (engine): an interrupted create may have left a resource behind.
    MayExist,
    /// -32015 (engine): the state is sealed and `CREDPLANE_PASSPHRASE` (or the passphrase param)
    /// is not set: a condition the user fixes by setting it, unlike a wrong passphrase (-32010).
    PassphraseRequired,
}

impl ErrorCode {
    /// The numeric JSON-RPC code.
    pub const fn code(self) -> i32 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::InternalError => -32603,
            ErrorCode::CloudError => -32001,
            ErrorCode::Cancelled => -32002,
            ErrorCode::Timeout => -32003,
            ErrorCode::PartiallyCreated => -32004,
            ErrorCode::Configuration => -32005,
            ErrorCode::Unsupported => -32006,
            ErrorCode::State => -32010,
            ErrorCode::Locked => -32011,
            ErrorCode::Protected => -32012,
            ErrorCode::DependencyFailed => -32013,
            ErrorCode::MayExist => -32014,
            ErrorCode::PassphraseRequired => -32015,
        }
    }

    /// The name SDKs give the error's exception or type (`ConfigurationError`, `StateError`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "ParseError",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::MethodNotFound => "MethodNotFound",
            ErrorCode::InvalidParams => "InvalidParams",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::CloudError => "CloudError",
            ErrorCode::Cancelled => "Cancelled",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::PartiallyCreated => "PartiallyCreated",
            ErrorCode::Configuration => "ConfigurationError",
            ErrorCode::Unsupported => "Unsupported",
            ErrorCode::State => "StateError",
            ErrorCode::Locked => "Locked",
            ErrorCode::Protected => "Protected",
            ErrorCode::DependencyFailed => "DependencyFailed",
            ErrorCode::MayExist => "MayExist",
            ErrorCode::PassphraseRequired => "PassphraseRequired",
        }
    }

    /// What the error means, in one sentence (the OpenRPC document's `ErrorCode` schema, and
    /// from there the generated SDK error types).
    pub const fn summary(self) -> &'static str {
        match self {
            ErrorCode::ParseError => "The message is not valid JSON.",
            ErrorCode::InvalidRequest => "Valid JSON, but not a JSON-RPC 2.0 request.",
            ErrorCode::MethodNotFound => "No such method.",
            ErrorCode::InvalidParams => {
                "Bad params or inputs; data.failures names each property and the rule it breaks."
            }
            ErrorCode::InternalError => "A bug in credplane.",
            ErrorCode::CloudError => "The cloud refused or failed the call (data.cloudCode, data.requestId).",
            ErrorCode::Cancelled => "The operation was cancelled.",
            ErrorCode::Timeout => "The operation did not finish within its timeout.",
            ErrorCode::PartiallyCreated => {
                "The resource exists (data.id, data.outputs) but a later step of its creation failed."
            }
            ErrorCode::Configuration => "Credentials or settings for a cloud are missing or wrong.",
            ErrorCode::Unsupported => "Not supported for this resource type.",
            ErrorCode::State => "Wrong or missing passphrase, corrupted or tampered state.",
            ErrorCode::Locked => "Another engine holds the stack's lock (named with its age).",
            ErrorCode::Protected => "A protected resource would have been deleted.",
            ErrorCode::DependencyFailed => "Not applied: a resource it depends on failed.",
            ErrorCode::MayExist => "An interrupted create may have left a resource behind.",
            ErrorCode::PassphraseRequired => "The state is sealed and CREDPLANE_PASSPHRASE is not set.",
        }
    }

    /// All codes, for documentation.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::ParseError,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::InternalError,
        ErrorCode::CloudError,
        ErrorCode::Cancelled,
        ErrorCode::Timeout,
        ErrorCode::PartiallyCreated,
        ErrorCode::Configuration,
        ErrorCode::Unsupported,
        ErrorCode::State,
        ErrorCode::Locked,
        ErrorCode::Protected,
        ErrorCode::DependencyFailed,
        ErrorCode::MayExist,
        ErrorCode::PassphraseRequired,
    ];
}

/// One validation failure: which property, and which rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// A dotted path into the inputs, such as `tags.env` or `secret_data`; empty for the whole object.
    pub property: String,
    /// The rule that failed, in words. Never contains a secret value.
    pub reason: String,
}

impl Failure {
    /// A failure at `property`.
    pub fn new(property: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure {
            property: property.into(),
            reason: reason.into(),
        }
    }
}

/// The `data` member of every provider error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorData {
    /// The cloud's own error code (`NoSuchEntity`, `NotAuthorizedOrNotFound`, ...), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_code: Option<String>,
    /// A human-readable message. Never contains a secret value.
    pub message: String,
    /// Whether repeating the same call may succeed.
    pub retryable: bool,
    /// The cloud's request id, for support tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For -32602: every failed validation rule.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failures: Vec<Failure>,
    /// For -32004: the id of the resource that exists although the operation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For -32004: the outputs of that resource, secrets wrapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Value>,
    /// For -32004 without `id`: credentials that the failed create may have made, which the
    /// provider could not prove were its own and so neither adopted nor deleted.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub candidates: Vec<String>,
    /// Set on an error of `create` whose cloud call may have taken effect (a cancel, a timeout, a
    /// lost or unreadable reply): a resource may exist although none was returned, so a front-end
    /// keeps its pending-create record and reads or reconciles before creating again.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub may_exist: bool,
}
