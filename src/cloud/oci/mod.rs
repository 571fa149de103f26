//! OCI: HTTP request signatures, the config file, session-token principals (session tokens,
//! resource and instance principals), realms and the home region, and the Identity API.

pub mod client;
pub mod config;
pub mod home_region;
pub mod instance_principal;
pub mod principal;
pub mod realm;
pub mod settings;
pub mod sign;
