//! credplane: an infrastructure-as-code resource provider for cloud credentials, served over JSON-RPC.
//!
//! # Layout
//! - [`protocol`]: the wire types of every JSON-RPC method, the secret envelope, the unknown sentinel and error codes.
//! - [`rpc`]: the jsonrpsee server (stdio, HTTP and WebSocket), its bearer-token auth and limits.
//! - [`provider`]: the one dispatcher from a method call to a resource type, with cancellation and timeouts.
//! - [`resources`]: the `Resource` trait, the registry, and one file per resource type.
//! - [`cloud`]: one folder per cloud: a pure signer, a reqwest client with retries, and a credential chain.
//! - [`secrets`]: `Secret<T>`, PGP encryption, the SES SMTP password, and `secret_file` writing.
//! - [`sandbox`]: emulated cloud APIs for tests and first runs, one module per cloud, with fault knobs.

pub mod cloud;
pub mod secrets;
