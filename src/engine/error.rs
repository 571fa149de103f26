//! Engine errors as JSON-RPC errors: the provider's codes for provider failures, and the
//! engine's own (-32010..-32015) for state, locks, protection, failed dependencies,
//! interrupted creates and a missing passphrase. Every message names the resource and the rule.

use super::state::StateError;
use crate::protocol::{ErrorCode, ErrorData, Failure};
use crate::provider::error::ProviderError;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;

/// Wrong passphrase, corrupted or tampered state.
pub const STATE: i32 = -32010;
/// The stack is locked by another engine.
pub const LOCKED: i32 = -32011;
/// A protected resource would be deleted.
pub const PROTECTED: i32 = -32012;
/// A dependency failed, so this step did not run.
pub const DEPENDENCY_FAILED: i32 = -32013;
/// Interrupted creates whose outcome is unknown.
pub const MAY_EXIST: i32 = -32014;
/// The state is sealed and no passphrase was given.
pub const PASSPHRASE_REQUIRED: i32 = -32015;

/// The engine's codes are the protocol's (documented in the OpenRPC document from there).
const _: () = assert!(
    STATE == ErrorCode::State.code()
        && LOCKED == ErrorCode::Locked.code()
        && PROTECTED == ErrorCode::Protected.code()
        && DEPENDENCY_FAILED == ErrorCode::DependencyFailed.code()
        && MAY_EXIST == ErrorCode::MayExist.code()
        && PASSPHRASE_REQUIRED == ErrorCode::PassphraseRequired.code()
);

/// An engine error: a code and the provider's error data (extra members allowed).
#[derive(Debug, Clone)]
pub struct EngineError {
    /// The JSON-RPC code.
    pub code: i32,
    /// `ErrorData` as JSON, plus engine members (`steps`, `plan`, `candidates`).
    pub data: serde_json::Map<String, Value>,
}

impl EngineError {
    /// An error with `code` and `message`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        let data = ErrorData {
            message: message.into(),
            ..Default::default()
        };
        EngineError {
            code,
            data: to_map(&data),
        }
    }

    /// Invalid params: the rule broken by `resource` (property `resources.<name>[.<field>]`).
    pub fn invalid(resource: &str, field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let property = if field.is_empty() {
            format!("resources.{resource}")
        } else {
            format!("resources.{resource}.{field}")
        };
        let data = ErrorData {
            message: format!("{property}: {reason}"),
            failures: vec![Failure::new(property, reason)],
            ..Default::default()
        };
        EngineError {
            code: ErrorCode::InvalidParams.code(),
            data: to_map(&data),
        }
    }

    /// A provider error while stepping `resource`; its message is prefixed with the name.
    pub fn provider(resource: &str, err: &ProviderError) -> Self {
        let (code, mut data) = err.to_wire();
        data.message = format!("{resource}: {}", data.message);
        for f in &mut data.failures {
            f.property = if f.property.is_empty() {
                format!("resources.{resource}")
            } else {
                format!("resources.{resource}.{}", f.property)
            };
        }
        EngineError {
            code: code.code(),
            data: to_map(&data),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.data.get("message").and_then(Value::as_str).unwrap_or("")
    }

    /// Adds a member to `data`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.data.insert(key.to_string(), value);
        self
    }

    /// The JSON-RPC error object.
    pub fn to_rpc(&self) -> ErrorObjectOwned {
        ErrorObjectOwned::owned(
            self.code,
            self.message().to_string(),
            Some(Value::Object(self.data.clone())),
        )
    }
}

impl From<StateError> for EngineError {
    fn from(e: StateError) -> Self {
        let code = match e {
            StateError::Locked(_) => LOCKED,
            StateError::Invalid(_) => ErrorCode::InvalidParams.code(),
            StateError::PassphraseRequired(_) => PASSPHRASE_REQUIRED,
            _ => STATE,
        };
        EngineError::new(code, e.to_string())
    }
}

fn to_map(data: &ErrorData) -> serde_json::Map<String, Value> {
    match serde_json::to_value(data) {
        Ok(Value::Object(m)) => m,
        _ => Default::default(),
    }
}

impl EngineError {
    /// Malformed params, as the provider reports them.
    pub fn from_provider(err: ProviderError) -> Self {
        let (code, data) = err.to_wire();
        EngineError {
            code: code.code(),
            data: to_map(&data),
        }
    }
}
