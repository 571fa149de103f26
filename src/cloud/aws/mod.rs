//! AWS: the credential chain, partitions, SigV4 signing and the IAM Query API.

pub mod client;
pub mod config;
pub mod credentials;
pub mod partition;
pub mod settings;
pub mod sign;
