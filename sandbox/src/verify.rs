//! The signature verifiers of the emulated clouds. Each re-runs the provider's pure signer
//! ([`credplane_sign`]) over what arrived and compares in constant time; none exists in the
//! provider binary built without the `sandbox` feature.

pub mod alicloud;
pub mod aws;
pub mod oci;
