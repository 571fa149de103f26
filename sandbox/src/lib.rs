//! The cloud sandbox: emulated cloud APIs on one HTTP port, for tests, docs and first runs.
//!
//! Each cloud is one module implementing [`CloudApi`]; the framework here routes a request to the
//! first API that claims it (by the `Version` parameter of query-style APIs, or by path), applies
//! the [`faults`] knobs, and persists state to a file if asked. Every API verifies the real
//! signature of its cloud, so a client that passes here signs like the official SDKs.
//!
//! Admin endpoints (never faulted): `GET|PUT /_sandbox/faults`, `GET /_sandbox/fixtures`,
//! `GET|PUT /_sandbox/state` (PUT restores the clouds it names, e.g. to age a key in a test),
//! `GET /_sandbox/in-flight` (requests not yet answered, by action). They
//! need `Authorization: Bearer <admin token>` ([`SandboxHandle::admin_token`]), answer loopback
//! clients only unless [`SandboxOptions::admin_allow_remote`], and check `Host` ([`admin`]).

// Handlers answer `Result<_, Response>`, axum's idiom; the large error is the HTTP reply itself.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod admin;
pub mod alicloud;
pub mod aws;
pub mod faults;
pub mod files;
pub mod oci;
pub mod oci_config;
pub mod oci_instance;
pub mod oci_principals;
pub mod verify;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use faults::{Fault, Faults};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One request as an emulated API sees it.
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    /// HTTP method.
    pub method: Method,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The raw query string (without `?`), as received.
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// When it arrived.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The knobs as they were when it arrived (the lifecycle knobs shape how an API applies it).
    pub knobs: Faults,
}

impl SandboxRequest {
    /// Query and (for form posts) body parameters, decoded, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect();
        let is_form = self
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            params.extend(url::form_urlencoded::parse(&self.body).into_owned());
        }
        params
    }

    /// The first parameter called `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One emulated cloud API.
pub trait CloudApi: Send + Sync + 'static {
    /// A short name (`aws-iam`, `oci-identity`, `alicloud-ram`, `alicloud-kms`).
    fn name(&self) -> &'static str;
    /// Whether this API serves the request.
    fn matches(&self, req: &SandboxRequest) -> bool;
    /// The action the request asks for (`CreateAccessKey`, `CreateAuthToken`, ...), for fault filters.
    fn action(&self, req: &SandboxRequest) -> Option<String>;
    /// Serves the request: verifies its signature, applies it, answers as the cloud would.
    fn handle(&self, req: &SandboxRequest) -> Response;
    /// The cloud's throttling answer.
    fn throttled(&self, req: &SandboxRequest) -> Response;
    /// The cloud's 5xx answer.
    fn server_error(&self, req: &SandboxRequest) -> Response;
    /// Seeded users and credentials, as JSON, to print at start and serve at `/_sandbox/fixtures`.
    fn fixtures(&self) -> Value;
    /// The provider `configure` settings that point a client at this API (e.g. `{"aws": {...}}`).
    fn provider_settings(&self, base_url: &str) -> Value;
    /// The whole state, for persistence and inspection.
    fn snapshot(&self) -> Value;
    /// Restores a snapshot.
    fn restore(&self, state: &Value) -> Result<(), String>;
}

/// Options of a sandbox.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Persist state here after each request, and load it at start.
    pub state_file: Option<PathBuf>,
    /// Initial fault knobs.
    pub faults: Faults,
    /// The admin API's bearer token (at least 32 characters); `None` generates one.
    pub admin_token: Option<String>,
    /// Let non-loopback clients use the admin API (they still need the token).
    pub admin_allow_remote: bool,
}

struct Shared {
    apis: Vec<Arc<dyn CloudApi>>,
    faults: Mutex<Faults>,
    state_file: Option<PathBuf>,
    /// Requests received and not yet answered, by action: lets a test act while one is in flight.
    in_flight: Mutex<std::collections::BTreeMap<String, u32>>,
}

/// Counts a request as in flight for its lifetime.
struct InFlight<'a>(&'a Shared, String);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared, action: String) -> Self {
        *shared
            .in_flight
            .lock()
            .expect("in-flight lock")
            .entry(action.clone())
            .or_default() += 1;
        InFlight(shared, action)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut counts = self.0.in_flight.lock().expect("in-flight lock");
        if let Some(n) = counts.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.1);
            }
        }
    }
}

/// A running sandbox.
pub struct SandboxHandle {
    /// The base URL, such as `http://127.0.0.1:41234`.
    pub url: String,
    shared: Arc<Shared>,
    admin_token: String,
    token_generated: bool,
}

impl SandboxHandle {
    /// The provider `configure` params that point every cloud at this sandbox.
    pub fn provider_settings(&self) -> Map<String, Value> {
        let mut merged = Map::new();
        for api in &self.shared.apis {
            if let Value::Object(settings) = api.provider_settings(&self.url) {
                for (cloud, value) in settings {
                    match (merged.get_mut(&cloud), value) {
                        (Some(Value::Object(existing)), Value::Object(extra)) => existing.extend(extra),
                        (_, value) => {
                            merged.insert(cloud, value);
                        }
                    }
                }
            }
        }
        merged
    }

    /// Every API's fixtures, by API name.
    pub fn fixtures(&self) -> Value {
        fixtures(&self.shared)
    }

    /// The admin API's bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Whether the admin token was generated here (and so must be shown to the user).
    pub fn admin_token_generated(&self) -> bool {
        self.token_generated
    }
}

/// Every emulated API: one line per cloud module.
fn all_apis() -> Vec<Arc<dyn CloudApi>> {
    let oci = Arc::new(oci::OciIdentity::new());
    let mut apis: Vec<Arc<dyn CloudApi>> = vec![
        Arc::new(aws::AwsIam::new()),
        oci.clone(),
        Arc::new(oci_instance::OciInstance::new(oci)),
    ];
    apis.extend(alicloud::apis()); // RAM and KMS, sharing one account
    apis
}

fn fixtures(shared: &Shared) -> Value {
    Value::Object(
        shared
            .apis
            .iter()
            .map(|api| (api.name().to_string(), api.fixtures()))
            .collect(),
    )
}

fn snapshot(shared: &Shared) -> Value {
    Value::Object(
        shared
            .apis
            .iter()
            .map(|api| (api.name().to_string(), api.snapshot()))
            .collect(),
    )
}

/// Starts a sandbox on `addr` (port 0 picks a free one).
///
/// Refuses an `admin_token` shorter than [`admin::MIN_TOKEN_LEN`].
pub async fn start(addr: SocketAddr, options: SandboxOptions) -> std::io::Result<SandboxHandle> {
    let (admin_token, token_generated) = match options.admin_token {
        Some(token) => {
            admin::check_token(&token).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            (token, false)
        }
        None => (admin::generate_token(), true),
    };
    let shared = Arc::new(Shared {
        apis: all_apis(),
        faults: Mutex::new(options.faults),
        state_file: options.state_file,
        in_flight: Mutex::default(),
    });
    if let Some(path) = &shared.state_file
        && let Ok(text) = std::fs::read_to_string(path)
    {
        let saved: Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        for api in &shared.apis {
            if let Some(state) = saved.get(api.name()) {
                api.restore(state).map_err(std::io::Error::other)?;
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let guard = Arc::new(admin::AdminGuard::new(&admin_token, options.admin_allow_remote, local));
    let admin_routes = Router::new()
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route(
            "/_sandbox/fixtures",
            get(|State(s): State<Arc<Shared>>| async move { Json(fixtures(&s)) }),
        )
        .route(
            "/_sandbox/state",
            get(|State(s): State<Arc<Shared>>| async move { Json(snapshot(&s)) }).put(put_state),
        )
        .route(
            "/_sandbox/in-flight",
            get(
                |State(s): State<Arc<Shared>>| async move { Json(s.in_flight.lock().expect("in-flight lock").clone()) },
            ),
        )
        .route_layer(axum::middleware::from_fn_with_state(guard, admin::guard));
    let router = admin_routes.fallback(serve_cloud).with_state(shared.clone());
    // Serves until the runtime stops.
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    Ok(SandboxHandle {
        url: format!("http://{local}"),
        shared,
        admin_token,
        token_generated,
    })
}

/// Restores the clouds the body names from their snapshots (the shape `GET` returns): how a test
/// sets what no cloud API can, such as a key's creation time.
async fn put_state(State(shared): State<Arc<Shared>>, Json(state): Json<Value>) -> Response {
    for api in &shared.apis {
        if let Some(part) = state.get(api.name())
            && let Err(err) = api.restore(part)
        {
            return (StatusCode::BAD_REQUEST, format!("{}: {err}", api.name())).into_response();
        }
    }
    let state = snapshot(&shared);
    if let Some(path) = &shared.state_file
        && let Err(err) = persist(path, &state)
    {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("persisting the state failed: {err}"),
        )
            .into_response();
    }
    Json(state).into_response()
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.faults.lock().expect("faults lock").clone())
}

async fn put_faults(State(shared): State<Arc<Shared>>, Json(faults): Json<Faults>) -> Json<Faults> {
    *shared.faults.lock().expect("faults lock") = faults.clone();
    Json(faults)
}

async fn serve_cloud(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = SandboxRequest {
        method,
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        headers,
        body,
        now: chrono::Utc::now(),
        knobs: shared.faults.lock().expect("faults lock").clone(),
    };
    let Some(api) = shared.apis.iter().find(|api| api.matches(&req)).cloned() else {
        return (StatusCode::NOT_FOUND, "no emulated API serves this request").into_response();
    };
    let action = api.action(&req);
    let _in_flight = InFlight::enter(&shared, action.clone().unwrap_or_default());
    let (fault, latency) = {
        let mut faults = shared.faults.lock().expect("faults lock");
        (faults.decide(action.as_deref()), faults.latency_for(action.as_deref()))
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match fault {
        Fault::Throttle => return api.throttled(&req),
        Fault::ServerError => return api.server_error(&req),
        Fault::None | Fault::DropReply => api.handle(&req),
    };
    if let Some(path) = &shared.state_file
        && let Err(err) = persist(path, &snapshot(&shared))
    {
        tracing::error!(error = %err, "could not persist the sandbox state");
    }
    if fault == Fault::DropReply {
        return dropped_reply();
    }
    response
}

/// A reply whose body breaks after the headers: the client sees a lost connection although the
/// action took effect, as with a reset or a timeout in the real world.
fn dropped_reply() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reply dropped by the sandbox",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::from_stream(broken))
        .expect("static response")
}

/// Writes the state atomically (it holds credentials: mode 0600).
fn persist(path: &std::path::Path, state: &Value) -> std::io::Result<()> {
    files::write_private(path, serde_json::to_string_pretty(state)?.as_bytes())
}
