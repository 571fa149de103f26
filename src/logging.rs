//! Logging with `tracing` to stderr (stdout belongs to the stdio transport). `RUST_LOG` picks the
//! levels; human-readable by default, JSON with `--log-format json`.
//!
//! Secrets never reach a log line: our own code logs no values, and the libraries that log raw
//! request or response bodies at debug or trace (jsonrpsee, hyper, reqwest) are capped at info
//! whatever `RUST_LOG` asks for.

use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

/// Targets whose debug and trace events may contain message bodies.
const BODY_LOGGING_TARGETS: [&str; 6] = ["jsonrpsee", "hyper", "reqwest", "h2", "tower_http", "axum"];

/// Whether an event from `target` at `level` may be logged.
pub fn allowed(target: &str, level: &tracing::Level) -> bool {
    let chatty = BODY_LOGGING_TARGETS
        .iter()
        .any(|t| target == *t || target.starts_with(&format!("{t}::")) || target.starts_with(&format!("{t}_")));
    !(chatty && *level > tracing::Level::INFO)
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
    fn body_logging_libraries_are_capped_at_info() {
        assert!(!allowed("jsonrpsee_core::server::rpc_module", &Level::TRACE));
        assert!(!allowed("hyper::proto", &Level::DEBUG));
        assert!(allowed("jsonrpsee_server", &Level::INFO));
        assert!(allowed("credplane::provider", &Level::TRACE));
    }
}
