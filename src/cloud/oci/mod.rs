//! OCI: HTTP request signatures, the config file, and the Identity API.

pub mod client;
pub mod config;
pub mod settings;
pub mod sign;
