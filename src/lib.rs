//! credplane: an infrastructure-as-code resource provider for cloud credentials, served over JSON-RPC.
//!
//! # Layout
//! - [`protocol`]: the wire types of every JSON-RPC method, the secret envelope, the unknown sentinel and error codes.
//! - [`rpc`]: the jsonrpsee method table, served over stdio and over HTTP/WebSocket with a bearer token.
//! - [`engine`]: the stack engine above the provider: deployments, steps in parallel, journaled sealed state.
//! - [`provider`]: the one dispatcher from a method call to a resource type, with cancellation and timeouts.
//! - [`resources`]: the `Resource` trait, the registry, and one file per resource type.
//! - [`cloud`]: one folder per cloud: a pure signer, a reqwest client with retries, and a credential chain.
//! - [`secrets`]: `Secret<T>`, PGP encryption, the SES SMTP password, and `secret_file` writing.
//! - [`sandbox`]: emulated cloud APIs for tests and first runs, one module per cloud, with fault knobs.
//! - [`schema_files`]: the generated files under `schema/`.
//! - [`logging`]: tracing set-up that keeps secrets out of every log line.

#![warn(missing_docs)]

pub mod cloud;
pub mod engine;
pub mod logging;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod rpc;
pub mod sandbox;
pub mod schema_files;
pub mod secrets;
