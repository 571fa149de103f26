//! AWS: SigV4 signing and the IAM Query API.

pub mod client;
pub mod config;
pub mod settings;
pub mod sign;
