//! OCI: HTTP request signatures, the config file, session-token principals, realms and the home
//! region, and the Identity API.

pub mod client;
pub mod config;
pub mod home_region;
pub mod principal;
pub mod realm;
pub mod settings;
pub mod sign;
