//! Alibaba Cloud RPC signature V1: the pure signer lives in [`credplane_sign::alicloud`],
//! shared with the cloud sandbox's verifier.

pub use credplane_sign::alicloud::*;
