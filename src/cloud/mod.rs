//! Cloud clients, one folder per cloud: `sign.rs` (pure, from `credplane-sign`), `client.rs`
//! (transport, retries, not-found mapping, errors) and `config.rs` (the credential chain).
//!
//! This layer imports only [`crate::protocol`] (the `configure` settings) and
//! [`crate::secrets`] (the `Secret` type), never the resources, the provider or the transport.

pub mod alicloud;
pub mod aws;
pub mod call;
pub mod clouds;
pub mod error;
pub mod http;
pub mod oci;
pub mod retry;

pub use call::Call;
pub use clouds::Clouds;
pub use error::CloudError;
