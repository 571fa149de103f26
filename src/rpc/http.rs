//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee), behind a bearer token, with bounded
//! request size and batch length, and a graceful stop on SIGTERM or Ctrl-C.

use super::auth::BearerToken;
use crate::provider::Provider;
use jsonrpsee::RpcModule;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use std::net::SocketAddr;
use tower_http::validate_request::ValidateRequestHeaderLayer;

/// The largest request body accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// The longest batch accepted.
pub const MAX_BATCH_LEN: usize = 64;

/// Starts serving on `addr`. Refuses a non-loopback address unless `allow_remote`.
pub async fn start(
    module: RpcModule<Provider>,
    addr: SocketAddr,
    token: &str,
    allow_remote: bool,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{addr} is not a loopback address; pass --allow-remote to listen on it"),
        ));
    }
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES as u32)
        .max_response_body_size(16 * 1024 * 1024)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH_LEN as u32))
        .build();
    let middleware = tower::ServiceBuilder::new().layer(ValidateRequestHeaderLayer::custom(BearerToken::new(token)));
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(middleware)
        .build(addr)
        .await?;
    let local = server.local_addr()?;
    Ok((local, server.start(module)))
}

/// SIGTERM and Ctrl-C handlers, installed before the server announces itself so that a signal
/// sent right after the announcement is never met by the default action (exit by signal).
pub struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<Self> {
        Ok(ShutdownSignal {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    async fn received(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Waits for the signal, then stops accepting and lets calls in flight finish.
pub async fn run_until_signal(handle: ServerHandle, mut signal: ShutdownSignal) {
    let stop = handle.clone();
    tokio::select! {
        _ = signal.received() => {
            tracing::info!("stopping: no new connections, waiting for calls in flight");
            let _ = stop.stop();
            handle.stopped().await;
        }
        _ = handle.clone().stopped() => {}
    }
}
