//! OCI HTTP request signatures: the pure signer and key loading live in
//! [`credplane_sign::oci`], shared with the cloud sandbox's verifier.

pub use credplane_sign::oci::*;
