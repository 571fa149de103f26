//! The wire contract: method names, request and response types, the secret envelope, the unknown
//! sentinel, and error codes. Everything here derives `JsonSchema`, and `schema/openrpc.json` is
//! generated from it.

pub mod envelope;
pub mod errors;
pub mod messages;
pub mod openrpc;
pub mod settings;

pub use envelope::{ENVELOPE_KEY, is_unknown, unknown, unwrap_secret, wrap_secret};
pub use errors::{ErrorCode, ErrorData, Failure};
pub use messages::*;
