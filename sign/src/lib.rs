//! Pure request signers: no clock, no file system, no network, no logging of their own.
//!
//! Both the provider (`credplane`, which signs) and its cloud sandbox (`credplane-sandbox`, which
//! verifies by signing again) depend on this crate, so each algorithm exists once and the
//! sandbox need not depend on the provider.
//!
//! - [`aws`]: AWS Signature Version 4: signing with the `aws-sigv4` crate, and each step by hand
//!   for the sandbox's verifier (plus the SES SMTP key derivation they share).
//! - [`oci`]: OCI HTTP signatures (draft-cavage-08, `rsa-sha256`) and API key loading.
//! - [`alicloud`]: Alibaba Cloud RPC signature V1 (HMAC-SHA1).

#![warn(missing_docs)]

pub mod alicloud;
pub mod aws;
pub mod oci;
