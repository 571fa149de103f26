//! OCI instance principals end to end, and session tokens that expire.
//!
//! The real binary (it reads the SDKs' variables from its environment) federates the sandbox's
//! emulated instance certificate at the sandbox's X.509 federation endpoint, then creates and
//! deletes an auth token with the session token it got. A proxy in front of the sandbox plays
//! the service refusing a token as expired (401 NotAuthenticated): the client loads the
//! principal once more (a new federation, or the session token file read again) and retries
//! once; refused again, the failure is a -32005 naming the source, never the token.

mod aws_common;

use aws_common::stdio::StdioProvider;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use credplane::protocol::ErrorCode;
use credplane::provider::Provider;
use credplane::sandbox::oci::ALICE;
use credplane::sandbox::oci_principals::mint_session_token;
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const AUTH: &str = "oci_identity_auth_token";

async fn sandbox() -> SandboxHandle {
    credplane::sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap()
}

/// Which session tokens the proxy refuses as expired.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refuse {
    /// The first `ST$` keyId it sees, every time; later ones pass.
    First,
    /// Every `ST$` keyId.
    All,
}

/// What the proxy saw.
#[derive(Default)]
struct Seen {
    /// `ST$` keyIds, in order of first sight.
    session_key_ids: Vec<String>,
    /// Requests refused.
    refused: usize,
    /// Federation requests (`POST /v1/x509`).
    federations: usize,
}

struct ProxyState {
    upstream: String,
    refuse: Refuse,
    seen: Mutex<Seen>,
    /// Runs when a token is first refused (e.g. `oci session refresh` rewriting the file).
    on_refuse: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    http: reqwest::Client,
}

async fn proxy_handler(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key_id = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("keyId=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let refuse = {
        let mut seen = state.seen.lock().unwrap();
        if uri.path() == "/v1/x509" {
            seen.federations += 1;
        }
        if key_id.starts_with("ST$") && !seen.session_key_ids.contains(&key_id) {
            seen.session_key_ids.push(key_id.clone());
        }
        let refuse = key_id.starts_with("ST$")
            && match state.refuse {
                Refuse::All => true,
                Refuse::First => seen.session_key_ids.first() == Some(&key_id),
            };
        if refuse {
            seen.refused += 1;
        }
        refuse
    };
    if refuse {
        if let Some(hook) = state.on_refuse.lock().unwrap().take() {
            hook();
        }
        let doc = json!({"code": "NotAuthenticated", "message": "The session token has expired."});
        return (StatusCode::UNAUTHORIZED, axum::Json(doc)).into_response();
    }
    // Forwarded as received, Host included (the signature covers it); the HTTP client sets
    // the same Content-Length again from the body.
    let url = format!("{}{}", state.upstream, uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut request = state.http.request(method, url).body(body);
    for (name, value) in headers
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "content-length" | "transfer-encoding" | "connection"))
    {
        request = request.header(name, value);
    }
    let reply = request.send().await.expect("the sandbox answers");
    let status = reply.status();
    let content_type = reply.headers().get("content-type").cloned();
    let bytes = reply.bytes().await.unwrap();
    let mut response = (status, bytes).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert("content-type", ct);
    }
    response
}

/// A proxy to `upstream` on loopback; its URL and shared state.
async fn proxy(
    upstream: &str,
    refuse: Refuse,
    on_refuse: Option<Box<dyn FnOnce() + Send>>,
) -> (String, Arc<ProxyState>) {
    let state = Arc::new(ProxyState {
        upstream: upstream.to_string(),
        refuse,
        seen: Mutex::default(),
        on_refuse: Mutex::new(on_refuse),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(proxy_handler).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// The environment of an instance principal whose metadata and Auth service are `base`.
fn instance_env(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OCI_CLI_AUTH", "instance_principal".to_string()),
        ("OCI_METADATA_BASE_URL", format!("{base}/opc/v2")),
        ("OCI_SDK_AUTH_CLIENT_REGION_URL", base.to_string()),
    ]
}

/// The binary in a clean environment plus `env`, configured to send Identity calls to
/// `identity` (a `{region}` template: the region comes from the metadata service).
fn binary(home: &Path, env: &[(&'static str, String)], identity: &str) -> StdioProvider {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut p = StdioProvider::start(home, &env);
    p.ok(
        "configure",
        json!({"oci": {"endpoint": format!("{identity}/region/{{region}}")}}),
    );
    p
}

fn create(p: &mut StdioProvider) -> Value {
    p.call(
        "create",
        json!({"type": AUTH, "inputs": {"user_id": ALICE, "description": "from an instance"}}),
    )
}

// The binary is driven with blocking calls: the sandbox and the proxy need threads of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_principal_federates_and_its_session_token_signs() {
    let sandbox = sandbox().await;
    // Only the federation goes through the proxy (to count it): no session token passes it.
    let (via, seen) = proxy(&sandbox.url, Refuse::All, None).await;
    let home = tempfile::tempdir().unwrap();
    let mut env = instance_env(&sandbox.url);
    env[2].1 = via.clone();
    let mut p = binary(home.path(), &env, &sandbox.url);
    let created = create(&mut p);
    assert!(created.get("error").is_none(), "{created}");
    let result = &created["result"];
    p.ok(
        "delete",
        json!({"type": AUTH, "id": result["id"], "outputs": result["outputs"]}),
    );
    // One federation served both calls: the token is cached.
    assert_eq!(seen.seen.lock().unwrap().federations, 1);
}

// The binary is driven with blocking calls: the sandbox and the proxy need threads of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_metadata_is_a_credentials_error_naming_the_source() {
    let home = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 (discard) on loopback here.
    let env = instance_env("http://127.0.0.1:9");
    let mut p = binary(home.path(), &env, "http://127.0.0.1:9");
    let reply = create(&mut p);
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["data"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("OCI instance principal (metadata http://127.0.0.1:9/opc/v2)"),
        "{message}"
    );
}

// The binary is driven with blocking calls: the sandbox and the proxy need threads of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_instance_token_is_federated_again_once() {
    let sandbox = sandbox().await;
    let (via, seen) = proxy(&sandbox.url, Refuse::First, None).await;
    let home = tempfile::tempdir().unwrap();
    let mut p = binary(home.path(), &instance_env(&via), &via);
    let created = create(&mut p);
    assert!(created.get("error").is_none(), "{created}");
    let seen = seen.seen.lock().unwrap();
    assert_eq!(
        (seen.federations, seen.refused, seen.session_key_ids.len()),
        (2, 1, 2),
        "one refusal, one new federation, a new token"
    );
}

// The binary is driven with blocking calls: the sandbox and the proxy need threads of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_token_refused_after_the_refresh_is_reported() {
    let sandbox = sandbox().await;
    let (via, seen) = proxy(&sandbox.url, Refuse::All, None).await;
    let home = tempfile::tempdir().unwrap();
    let mut p = binary(home.path(), &instance_env(&via), &via);
    let reply = create(&mut p);
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["data"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("OCI instance principal") && message.contains("after one refresh"),
        "{message}"
    );
    let seen = seen.seen.lock().unwrap();
    assert_eq!((seen.federations, seen.refused), (2, 2), "refreshed once, no more");
    for key_id in &seen.session_key_ids {
        let token = key_id.trim_start_matches("ST$");
        assert!(!reply.to_string().contains(token), "the token leaked: {reply}");
    }
}

/// A session-token profile (as `oci session authenticate` writes it) in `dir`: the config
/// file, and a function writing a new token for the same key into its token file.
fn session_profile(dir: &Path, sandbox: &SandboxHandle) -> (PathBuf, impl Fn() -> String + Send + 'static) {
    let fixtures = sandbox.fixtures()["oci-identity"].clone();
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    std::fs::write(
        dir.join("session.pem"),
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let token_file = dir.join("token");
    let public = RsaPublicKey::from(&key);
    let refresh = {
        let token_file = token_file.clone();
        let fixtures = fixtures.clone();
        // Tokens minted in the same second differ only by their lifetime.
        let minted = std::sync::atomic::AtomicI64::new(0);
        move || {
            let n = minted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let token = mint_session_token(&fixtures, &public, "user", 3600 + n).unwrap();
            std::fs::write(&token_file, &token).unwrap();
            token
        }
    };
    refresh();
    let config = format!(
        "[DEFAULT]\nfingerprint=00:00\nkey_file={}\ntenancy={}\nregion=us-ashburn-1\nsecurity_token_file={}\n",
        dir.join("session.pem").display(),
        fixtures["tenancy"].as_str().unwrap(),
        token_file.display()
    );
    std::fs::write(dir.join("config"), config).unwrap();
    (dir.join("config"), refresh)
}

async fn create_in_process(p: &Provider) -> Result<(), credplane::provider::error::ProviderError> {
    let request = json!({"type": AUTH, "inputs": {"user_id": ALICE, "description": "session"}});
    let created = p.create(serde_json::from_value(request).unwrap()).await?;
    let delete = json!({"type": AUTH, "id": created.id, "outputs": created.outputs});
    p.delete(serde_json::from_value(delete).unwrap()).await.map(drop)
}

#[tokio::test]
async fn an_expired_session_token_file_is_read_again_once() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, refresh) = session_profile(dir.path(), &sandbox);
    // When the service refuses the first token, `oci session refresh` has written a new one.
    let hook: Box<dyn FnOnce() + Send> = Box::new(move || drop(refresh()));
    let (via, seen) = proxy(&sandbox.url, Refuse::First, Some(hook)).await;
    let p = Provider::new(serde_json::from_value(json!({"oci": {"config_file": config, "endpoint": via}})).unwrap());
    create_in_process(&p).await.unwrap();
    let seen = seen.seen.lock().unwrap();
    assert_eq!((seen.refused, seen.session_key_ids.len()), (1, 2));
}

#[tokio::test]
async fn a_session_token_file_still_refused_after_one_read_is_reported() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = session_profile(dir.path(), &sandbox);
    let token = std::fs::read_to_string(dir.path().join("token")).unwrap();
    let (via, seen) = proxy(&sandbox.url, Refuse::All, None).await;
    let p = Provider::new(serde_json::from_value(json!({"oci": {"config_file": config, "endpoint": via}})).unwrap());
    let err = create_in_process(&p).await.unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::Configuration, "{err}");
    assert!(
        data.message.contains("OCI session token file") && data.message.contains("after one refresh"),
        "{}",
        data.message
    );
    assert!(!data.message.contains(&token), "{}", data.message);
    assert_eq!(seen.seen.lock().unwrap().refused, 2, "read again once, no more");
}
