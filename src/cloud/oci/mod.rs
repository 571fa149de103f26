//! OCI: HTTP request signatures and the Identity API.

pub mod config;
pub mod sign;
