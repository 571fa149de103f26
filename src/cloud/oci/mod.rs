//! OCI: HTTP request signatures, the config file, and the Identity API.

pub mod config;
pub mod settings;
pub mod client;
pub mod sign;
