//! AWS Signature Version 4: the pure signer lives in [`credplane_sign::aws`], shared with the
//! cloud sandbox's verifier; re-exported here so the client reads `sign::sign(...)`.

pub use credplane_sign::aws::*;
