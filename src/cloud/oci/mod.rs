//! OCI: HTTP request signatures and the Identity API.

pub mod settings;
pub mod sign;
