//! AWS: SigV4 signing and the IAM Query API.

pub mod settings;
pub mod sign;
