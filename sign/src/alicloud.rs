//! Alibaba Cloud RPC signature V1: pure functions, no I/O.
//!
//! `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`; the signature travels as the
//! `Signature` query/form parameter. The verifier (and the ACS3 "V3" scheme, which only the
//! sandbox speaks) live in the sandbox crate.

mod encode;
mod rpc;
mod time;

pub use encode::percent_encode;
pub use rpc::{SIGNATURE_METHOD, SIGNATURE_VERSION, canonical_query, common_params, mac, sign_rpc, string_to_sign};
pub use time::{format_timestamp, parse_timestamp};
