//! Alibaba Cloud request verification, as the real APIs do it, for the sandbox.
//!
//! - RPC signature V1 ([`verify_rpc`]): the provider's own signer
//!   ([`credplane_sign::alicloud`]) run again over what arrived.
//! - ACS3-HMAC-SHA256 ("V3", [`acs3`]): signer and verifier, used by the current official SDKs
//!   that clients may point at the sandbox.
//!
//! Refusals are a typed [`VerifyError`] whose [`VerifyError::code`] gives Alibaba's own codes.

mod acs3;
mod error;
mod rpc;
mod time;

pub use acs3::{
    ACS3_ALGORITHM, Acs3Request, Acs3Signature, acs3_canonical_request, acs3_headers, acs3_string_to_sign,
    canonical_headers, canonical_uri, content_sha256, sign_acs3, verify_acs3,
};
pub use error::VerifyError;
pub use rpc::verify_rpc;
pub use time::{MAX_CLOCK_SKEW, Verified, parse};
