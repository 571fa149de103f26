//! Logging with `tracing` to stderr (stdout belongs to the stdio transport). `RUST_LOG` picks the
//! levels; human-readable by default, JSON with `--log-format json`.
//!
//! Secrets never reach a log line, at any level:
//! - our own code logs no values (ids, type names and error messages only);
//! - every other crate is capped at INFO whatever `RUST_LOG` asks for. This is an allow-list on
//!   purpose: libraries (jsonrpsee, hyper, reqwest, h2, rustls...) log request and response bodies
//!   and headers at debug and trace under target names we cannot enumerate in advance.

use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

/// The most verbose level any crate other than ours may log at.
pub const FOREIGN_MAX_LEVEL: tracing::Level = tracing::Level::INFO;

/// Whether `target` belongs to credplane's own code (the `credplane` crate or a `credplane_*` crate).
fn is_own(target: &str) -> bool {
    let crate_name = target.split("::").next().unwrap_or(target);
    crate_name == "credplane" || crate_name.starts_with("credplane_") || crate_name.starts_with("credplane-")
}

/// Whether an event from `target` at `level` may be logged (before `RUST_LOG` is applied).
pub fn allowed(target: &str, level: &tracing::Level) -> bool {
    is_own(target) || *level <= FOREIGN_MAX_LEVEL
}

/// Installs the global subscriber.
pub fn init(json: bool) {
    // Colours only for a person at a terminal, never in a log file or a CI log.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let guard = filter_fn(|meta| allowed(meta.target(), meta.level()));
    let registry = tracing_subscriber::registry();
    if json {
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_filter(env)
            .with_filter(guard);
        let _ = registry.with(layer).try_init();
    } else {
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .with_filter(env)
            .with_filter(guard);
        let _ = registry.with(layer).try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn only_our_own_targets_log_below_info() {
        // The names jsonrpsee really uses (the old deny-list missed the dashed ones), and names
        // nobody has thought of yet: all capped.
        for target in [
            "jsonrpsee-server",
            "jsonrpsee-http",
            "jsonrpsee-core",
            "jsonrpsee_core::server::rpc_module",
            "hyper::proto",
            "rustls::client",
            "some_future_crate",
            "credplanefake",
        ] {
            assert!(!allowed(target, &Level::TRACE), "{target} at trace");
            assert!(!allowed(target, &Level::DEBUG), "{target} at debug");
            assert!(allowed(target, &Level::INFO), "{target} at info");
        }
        assert!(allowed("credplane", &Level::TRACE));
        assert!(allowed("credplane::provider", &Level::TRACE));
        assert!(allowed("credplane_sandbox::iam", &Level::TRACE));
    }
}
