//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee), plain or TLS (rustls).
//!
//! Every request passes [`Front`]: the `Host` check, then the bearer token. An HTTP POST then goes
//! to the same dispatcher as stdio ([`super::dispatch`]), so both transports answer invalid
//! requests and handler panics alike; WebSocket upgrades go on to jsonrpsee. Connections are
//! capped, request size and batch length bounded, and SIGTERM or Ctrl-C stops gracefully.

use super::auth::BearerToken;
use super::catch_panic::CatchPanic;
use super::dispatch::handle_message;
pub use super::dispatch::{MAX_BATCH_LEN, MAX_REQUEST_BYTES};
use super::host::HostAllowList;
use bytes::Bytes;
use http_body_util::BodyExt;
use jsonrpsee::server::{
    BatchRequestConfig, HttpBody, HttpRequest, HttpResponse, Server, ServerConfig, ServerHandle,
    serve_with_graceful_shutdown, stop_channel,
};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The default cap on concurrent connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// How long a client may take over the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve.
pub struct HttpOptions {
    /// The address to listen on.
    pub addr: SocketAddr,
    /// The bearer token every request must carry.
    pub token: BearerToken,
    /// Whether a non-loopback address is allowed (needs `tls` or `insecure_plain_http`).
    pub allow_remote: bool,
    /// TLS, when given a certificate and key.
    pub tls: Option<TlsAcceptor>,
    /// Plain HTTP with `allow_remote`, said out loud.
    pub insecure_plain_http: bool,
    /// Host names accepted in `Host` besides loopback names and the listen address.
    pub allowed_hosts: Vec<String>,
    /// The most connections served at once; more are closed at once.
    pub max_connections: usize,
}

/// Starts serving. Refuses a non-loopback address unless `allow_remote`, and `allow_remote`
/// without TLS unless `insecure_plain_http`.
pub async fn start(module: super::Service, options: HttpOptions) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let refuse = |message: String| std::io::Error::new(std::io::ErrorKind::PermissionDenied, message);
    let addr = options.addr;
    if !addr.ip().is_loopback() && !options.allow_remote {
        return Err(refuse(format!(
            "{addr} is not a loopback address; pass --allow-remote to listen on it"
        )));
    }
    if options.allow_remote && options.tls.is_none() && !options.insecure_plain_http {
        return Err(refuse(
            "--allow-remote needs TLS (--tls-cert and --tls-key), or --insecure-plain-http to serve the \
             bearer token and every secret in clear text"
                .into(),
        ));
    }
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let config = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES as u32)
        .max_response_body_size(16 * 1024 * 1024)
        .max_connections(options.max_connections as u32)
        .set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH_LEN as u32))
        .build();
    // The method table for jsonrpsee (WebSocket); the module itself for POST.
    let methods = jsonrpsee::Methods::clone(&module);
    let front = FrontLayer {
        gate: Arc::new(Gate {
            token: options.token,
            hosts: HostAllowList::new(local, &options.allowed_hosts),
            module: Arc::new(module),
        }),
    };
    let builder = Server::builder()
        .set_config(config)
        .set_rpc_middleware(jsonrpsee::core::middleware::RpcServiceBuilder::new().layer_fn(CatchPanic))
        .set_http_middleware(tower::ServiceBuilder::new().layer(front))
        .to_service_builder();
    let (stop, handle) = stop_channel();
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let tls = options.tls;
    tokio::spawn(async move {
        // One shutdown future for the whole loop, so a stop between two accepts is not missed.
        let shutdown = stop.clone().shutdown();
        tokio::pin!(shutdown);
        loop {
            let socket = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _peer)) => socket,
                    Err(_) => continue,
                },
                _ = &mut shutdown => break,
            };
            // Over the cap: close at once rather than queue (the client sees a reset and retries).
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tracing::warn!("connection refused: at the cap of concurrent connections");
                drop(socket);
                continue;
            };
            let service = builder.clone().build(methods.clone(), stop.clone());
            let (stop, tls) = (stop.clone(), tls.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let _ = match tls {
                    Some(tls) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(socket)).await {
                        Ok(Ok(stream)) => serve_with_graceful_shutdown(stream, service, stop.shutdown()).await,
                        _ => return,
                    },
                    None => serve_with_graceful_shutdown(socket, service, stop.shutdown()).await,
                };
            });
        }
    });
    Ok((local, handle))
}

/// What [`Front`] checks and where it sends an HTTP POST.
struct Gate {
    token: BearerToken,
    hosts: HostAllowList,
    module: Arc<super::Service>,
}

/// The tower layer of [`Front`].
#[derive(Clone)]
struct FrontLayer {
    gate: Arc<Gate>,
}

impl<S> tower::Layer<S> for FrontLayer {
    type Service = Front<S>;

    fn layer(&self, inner: S) -> Front<S> {
        Front {
            gate: self.gate.clone(),
            inner,
        }
    }
}

/// Host check, token check, then JSON-RPC over POST here and WebSocket in jsonrpsee.
#[derive(Clone)]
struct Front<S> {
    gate: Arc<Gate>,
    inner: S,
}

fn json_response(status: http::StatusCode, body: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(HttpBody::from(body))
        .expect("static response")
}

fn refusal(status: http::StatusCode, message: &str) -> HttpResponse {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}});
    let mut response = json_response(status, body.to_string());
    if status == http::StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    }
    response
}

impl<S, B> tower::Service<HttpRequest<B>> for Front<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if !self.gate.hosts.accepts(&request) {
            let response = refusal(
                http::StatusCode::FORBIDDEN,
                "Host is not an allowed name of this server",
            );
            return Box::pin(std::future::ready(Ok(response)));
        }
        if !self.gate.token.accepts(&request) {
            let response = refusal(http::StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            return Box::pin(std::future::ready(Ok(response)));
        }
        if request.method() == http::Method::POST && !jsonrpsee::server::ws::is_upgrade_request(&request) {
            return Box::pin(post(self.gate.module.clone(), request));
        }
        // The inner service was polled ready; take it and leave a fresh clone (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(inner.call(request))
    }
}

/// One JSON-RPC POST: the body (bounded) to the shared dispatcher.
async fn post<B>(module: Arc<super::Service>, request: HttpRequest<B>) -> Result<HttpResponse, BoxError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let json = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Ok(refusal(
            http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ));
    }
    let too_large = || refusal(http::StatusCode::PAYLOAD_TOO_LARGE, "request too large");
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return Ok(too_large());
    }
    let body = match http_body_util::Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return Ok(too_large()),
        Err(err) => return Err(err),
    };
    let text = String::from_utf8_lossy(&body);
    Ok(match handle_message(&module, &text).await {
        Some(reply) => json_response(http::StatusCode::OK, reply),
        // Notifications only: nothing to answer.
        None => http::Response::builder()
            .status(http::StatusCode::NO_CONTENT)
            .body(HttpBody::empty())
            .expect("static response"),
    })
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
