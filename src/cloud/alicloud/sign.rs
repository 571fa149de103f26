//! Alibaba Cloud request signing: pure functions, no I/O.
//!
//! Two schemes are implemented, each with a signer (client side) and a
//! verifier (for our cloud sandbox, server side):
//!
//! - [RPC signature V1](rpc): `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`, the
//!   signature travels as the `Signature` query/form parameter.
//! - [ACS3-HMAC-SHA256](acs3) ("V3"): common `x-acs-*` headers and an `Authorization`
//!   header, used by the current official SDKs.
//!
//! Both share the RFC 3986 [`percent_encode`] and the typed [`VerifyError`], whose
//! [`VerifyError::code`] gives Alibaba's own error codes.

mod acs3;
mod encode;
mod error;
mod rpc;
mod time;

pub use acs3::{
    ACS3_ALGORITHM, Acs3Request, Acs3Signature, acs3_canonical_request, acs3_headers, acs3_string_to_sign,
    canonical_headers, canonical_uri, content_sha256, sign_acs3, verify_acs3,
};
pub use encode::percent_encode;
pub use error::VerifyError;
pub use rpc::{
    SIGNATURE_METHOD, SIGNATURE_VERSION, canonical_query, common_params, sign_rpc, string_to_sign, verify_rpc,
};
pub use time::{MAX_CLOCK_SKEW, Verified, format_timestamp, parse_timestamp};
