//! credplane: an infrastructure-as-code resource provider for cloud credentials, served over JSON-RPC.
//!
//! # Layout
//! The floors depend only downward: `protocol` ← `cloud` ← `resources` ← `provider` ← `rpc` ← `main`
//! (`tests/layers.rs` fails on an upward import). `secrets` is a leaf every floor may use.
//! - [`protocol`]: the wire types of every JSON-RPC method (the `configure` settings included),
//!   the secret envelope, the unknown sentinel and error codes. Imports only `secrets`.
//! - [`cloud`]: one folder per cloud: `sign.rs` (pure, from the `credplane-sign` crate), `client.rs`
//!   (transport through one send-and-classify helper, retries, not-found mapping, errors) and
//!   `config.rs` (the credential chain); the client factory [`cloud::Clouds`] and the call budget
//!   [`cloud::Call`]. Imports `protocol` and `secrets`, never a floor above.
//! - [`resources`]: the `Resource` trait, the registry, and one file per resource type. Its
//!   `Context` carries a [`cloud::Call`] down to the clients.
//! - [`engine`]: the stack engine above the provider: deployments, steps in parallel, journaled sealed state
//!   (`docs/engine.md`).
//! - [`provider`]: the one dispatcher from a method call to a resource type, with cancellation and timeouts.
//! - [`rpc`]: the jsonrpsee method table, served over stdio and over HTTP/WebSocket with a bearer token.
//! - [`secrets`]: `Secret<T>`, PGP encryption, the SES SMTP password, and `secret_file` writing.
//! - [`schema_files`]: the generated files under `schema/`.
//! - [`export`]: the schema in the shapes Pulumi and Terraform tools read (`credplane schema --format`).
//! - [`logging`]: tracing set-up that keeps secrets out of every log line.
//! - `sandbox` (feature `sandbox`, on by default): the `credplane-sandbox` crate re-exported, the
//!   emulated clouds with their signature verifiers. It depends on `credplane-sign`, never on this
//!   crate; `cargo build --no-default-features` leaves it (and axum) out.

#![warn(missing_docs)]
// A typed error carries the resource's own outputs (a partial result) by value: boxing it would
// add an allocation to every error path and obscure the types; error paths are not hot.
#![allow(clippy::result_large_err)]

pub mod cloud;
pub mod engine;
pub mod export;
pub mod logging;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod rpc;
/// The cloud sandbox crate, when built with the `sandbox` feature (the default).
#[cfg(feature = "sandbox")]
pub use credplane_sandbox as sandbox;
pub mod schema_files;
pub mod secrets;
