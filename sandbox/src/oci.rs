//! The OCI Identity API (20160918) of the sandbox: users, auth tokens and customer secret keys.
//!
//! Every request must carry a valid OCI HTTP signature ([`verify_request`]) from a known API key
//! (keyId `tenancy/user/fingerprint`). State keeps lifecycle states (CREATING until the next
//! read), the per-user limit of 2 credentials of each kind, and `opc-retry-token` replays.

use super::oci_principals::{self as principals, is_subscribed, split_region};
use super::{CloudApi, SandboxRequest};
use crate::faults::Faults;
use crate::oci_config::{OciConfigParts, write_config_file};
use crate::verify::oci::{VerifiableRequest, verify_request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use credplane_sign::oci::fingerprint;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The seeded tenancy.
pub const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaasandbox";
/// The seeded admin user, whose API key the provider signs with.
pub const ADMIN_USER: &str = "ocid1.user.oc1..aaaaaaaaadmin";
/// The seeded user with no credentials.
pub const ALICE: &str = "ocid1.user.oc1..aaaaaaaaalice";
/// The region written to client configs.
pub const REGION: &str = "us-ashburn-1";
/// How many credentials of one kind a user may have.
pub const PER_USER_LIMIT: usize = 2;
/// The name of this API in fixtures and state.
pub const NAME: &str = "oci-identity";
const PREFIX: &str = "/20160918/";
const AUTH_TOKENS: &str = "authTokens";
const SECRET_KEYS: &str = "customerSecretKeys";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: String,
    name: String,
    description: String,
    time_created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Credential {
    id: String,
    /// `authTokens` or `customerSecretKeys`.
    kind: String,
    user_id: String,
    /// The description (auth token) or display name (secret key).
    label: String,
    secret: String,
    time_created: String,
    lifecycle_state: String,
    inactive_status: Option<i64>,
    #[serde(default)]
    time_expires: Option<String>,
    /// Lists left before CREATING or DELETING ends (the `oci_transition_reads` knob).
    #[serde(default)]
    pending_reads: u32,
    /// The INACTIVE status CREATING ends in, instead of ACTIVE (the `oci_inactive_status` knob).
    #[serde(default)]
    settles_inactive: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RetryRecord {
    request: String,
    body_sha256: String,
    at: DateTime<Utc>,
    response: Value,
}

/// The whole state, as persisted and shown at `/_sandbox/state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    admin_private_key_pem: String,
    admin_fingerprint: String,
    users: BTreeMap<String, User>,
    /// keyId → public key PEM.
    api_keys: BTreeMap<String, String>,
    credentials: BTreeMap<String, Credential>,
    retry_tokens: BTreeMap<String, RetryRecord>,
    counter: u64,
}

/// The emulated OCI Identity API.
pub struct OciIdentity {
    state: Mutex<State>,
}

impl Default for OciIdentity {
    fn default() -> Self {
        Self::new()
    }
}

fn now_text(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl OciIdentity {
    /// A fresh sandbox with a newly generated 2048-bit admin API key.
    pub fn new() -> Self {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key generation");
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encoding").to_string();
        let public = RsaPublicKey::from(&key);
        let fp = fingerprint(&public);
        let public_pem = public.to_public_key_pem(LineEnding::LF).expect("SPKI encoding");
        let created = now_text(Utc::now());
        let user = |id: &str, name: &str, description: &str| {
            (
                id.to_string(),
                User {
                    id: id.into(),
                    name: name.into(),
                    description: description.into(),
                    time_created: created.clone(),
                },
            )
        };
        let state = State {
            admin_private_key_pem: pem,
            admin_fingerprint: fp.clone(),
            users: [
                user(ADMIN_USER, "admin", "sandbox administrator"),
                user(ALICE, "alice", "a user with no credentials"),
            ]
            .into(),
            api_keys: [(format!("{TENANCY}/{ADMIN_USER}/{fp}"), public_pem)].into(),
            credentials: BTreeMap::new(),
            retry_tokens: BTreeMap::new(),
            counter: 0,
        };
        OciIdentity {
            state: Mutex::new(state),
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    GetUser(String),
    Create(String, &'static str),
    List(String, &'static str),
    Update(String, &'static str, String),
    Delete(String, &'static str, String),
    ListRegionSubscriptions(String),
}

fn route(method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix(PREFIX)?.trim_end_matches('/');
    let parts: Vec<&str> = rest.split('/').collect();
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let kind = |s: &str| match s {
        AUTH_TOKENS => Some(AUTH_TOKENS),
        SECRET_KEYS => Some(SECRET_KEYS),
        _ => None,
    };
    match (method, parts.as_slice()) {
        (&Method::GET, ["users", user]) => Some(Route::GetUser(decode(user))),
        (&Method::GET, ["tenancies", tenancy, "regionSubscriptions"]) => {
            Some(Route::ListRegionSubscriptions(decode(tenancy)))
        }
        (&Method::POST, ["users", user, k]) => Some(Route::Create(decode(user), kind(k)?)),
        (&Method::GET, ["users", user, k]) => Some(Route::List(decode(user), kind(k)?)),
        (&Method::PUT, ["users", user, k, id]) => Some(Route::Update(decode(user), kind(k)?, decode(id))),
        (&Method::DELETE, ["users", user, k, id]) => Some(Route::Delete(decode(user), kind(k)?, decode(id))),
        _ => None,
    }
}

fn action_name(route: &Route) -> String {
    let noun = |k: &str, plural: bool| match (k, plural) {
        (AUTH_TOKENS, false) => "AuthToken",
        (AUTH_TOKENS, true) => "AuthTokens",
        (_, false) => "CustomerSecretKey",
        (_, true) => "CustomerSecretKeys",
    };
    match route {
        Route::GetUser(_) => "GetUser".into(),
        Route::ListRegionSubscriptions(_) => "ListRegionSubscriptions".into(),
        Route::Create(_, k) => format!("Create{}", noun(k, false)),
        Route::List(_, k) => format!("List{}", noun(k, true)),
        Route::Update(_, k, _) => format!("Update{}", noun(k, false)),
        Route::Delete(_, k, _) => format!("Delete{}", noun(k, false)),
    }
}

fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string().to_uppercase()
}

fn with_request_id(mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        resp.headers_mut().insert("opc-request-id", v);
    }
    resp
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    with_request_id((status, axum::Json(json!({ "code": code, "message": message.into() }))).into_response())
}

fn ok(status: StatusCode, body: Value) -> Response {
    with_request_id((status, axum::Json(body)).into_response())
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotAuthorizedOrNotFound",
        "Authorization failed or requested resource not found.",
    )
}

impl Credential {
    fn to_json(&self, with_secret: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "userId": self.user_id,
            "timeCreated": self.time_created,
            "timeExpires": self.time_expires,
            "lifecycleState": self.lifecycle_state,
            "inactiveStatus": self.inactive_status,
        });
        let (label, secret) = if self.kind == AUTH_TOKENS {
            ("description", "token")
        } else {
            ("displayName", "key")
        };
        v[label] = json!(self.label);
        if with_secret {
            v[secret] = json!(self.secret);
        }
        v
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    out.truncate(n);
    out
}

impl State {
    fn new_credential(
        &mut self,
        kind: &'static str,
        user_id: &str,
        label: String,
        now: DateTime<Utc>,
        knobs: &Faults,
    ) -> Credential {
        self.counter += 1;
        let (id, secret) = if kind == AUTH_TOKENS {
            // Auth tokens are 20 printable characters, ids are credential OCIDs.
            let token: String = base64::engine::general_purpose::STANDARD
                .encode(random_bytes(15))
                .replace(['/', '+'], "x");
            (
                format!(
                    "ocid1.credential.oc1..aaaaaaaasbx{:06}{}",
                    self.counter,
                    hex::encode(random_bytes(8))
                ),
                token,
            )
        } else {
            // The id of a customer secret key is its S3 access key id (40 hex digits); the key is 44 base64 chars.
            (
                hex::encode(random_bytes(20)),
                base64::engine::general_purpose::STANDARD.encode(random_bytes(33)),
            )
        };
        Credential {
            id,
            kind: kind.into(),
            user_id: user_id.into(),
            label,
            secret,
            time_created: now_text(now),
            lifecycle_state: "CREATING".into(),
            inactive_status: None,
            time_expires: knobs
                .oci_expires_in_seconds
                .map(|s| now_text(now + ChronoDuration::seconds(s as i64))),
            pending_reads: knobs.oci_transition_reads,
            settles_inactive: knobs.oci_inactive_status,
        }
    }

    fn live_count(&self, user_id: &str, kind: &str) -> usize {
        self.credentials
            .values()
            .filter(|c| c.user_id == user_id && c.kind == kind && c.lifecycle_state != "DELETED")
            .count()
    }
}

fn label_field(kind: &str) -> &'static str {
    if kind == AUTH_TOKENS {
        "description"
    } else {
        "displayName"
    }
}

fn read_label(req: &SandboxRequest, kind: &str) -> Result<String, Response> {
    let body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "CannotParseRequest",
            "The request body is not valid JSON.",
        )
    })?;
    let field = label_field(kind);
    match body.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!("{field} must be a string"),
        )),
    }
}

impl OciIdentity {
    fn verify(&self, req: &SandboxRequest) -> Result<(), Response> {
        let target = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let uri: http::Uri = target.parse().map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "CannotParseRequest",
                "The request target cannot be parsed.",
            )
        })?;
        let (keys, admin_pem) = {
            let st = self.state.lock().expect("oci state");
            (st.api_keys.clone(), st.admin_private_key_pem.clone())
        };
        // A session token (keyId `ST$<token>`) carries its own public key; a bad one is refused.
        let key_id = req
            .header("authorization")
            .and_then(|a| a.split("keyId=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        let session_key = principals::session_public_key(key_id, &admin_pem, req.now.timestamp()).map_err(|why| {
            error(
                StatusCode::UNAUTHORIZED,
                "NotAuthenticated",
                format!(
                    "The required information to complete authentication was not provided or was incorrect. ({why})"
                ),
            )
        })?;
        let verifiable = VerifiableRequest {
            method: &req.method,
            uri: &uri,
            headers: &req.headers,
            body: &req.body,
        };
        verify_request(&verifiable, req.now.into(), |key_id| {
            keys.get(key_id)
                .and_then(|pem| RsaPublicKey::from_public_key_pem(pem).ok())
                .or_else(|| session_key.clone())
        })
        .map(|_| ())
        .map_err(|e| {
            error(
                StatusCode::UNAUTHORIZED,
                "NotAuthenticated",
                format!("The required information to complete authentication was not provided or was incorrect. ({e})"),
            )
        })
    }

    fn apply(&self, req: &SandboxRequest, route: Route) -> Response {
        let mut st = self.state.lock().expect("oci state");
        match route {
            Route::ListRegionSubscriptions(tenancy) if tenancy == TENANCY => {
                ok(StatusCode::OK, principals::region_subscriptions())
            }
            Route::ListRegionSubscriptions(_) => not_found(),
            Route::GetUser(user) => match st.users.get(&user) {
                Some(u) => ok(
                    StatusCode::OK,
                    json!({
                        "id": u.id, "compartmentId": TENANCY, "name": u.name, "description": u.description,
                        "timeCreated": u.time_created, "lifecycleState": "ACTIVE", "isMfaActivated": false,
                    }),
                ),
                None => not_found(),
            },
            Route::Create(user, kind) => {
                if !st.users.contains_key(&user) {
                    return not_found();
                }
                let label = match read_label(req, kind) {
                    Ok(l) => l,
                    Err(resp) => return resp,
                };
                let retry_token = req.header("opc-retry-token").map(str::to_owned);
                let request = format!("{} {}", req.method, req.path.trim_end_matches('/'));
                let body_sha256 = hex::encode(Sha256::digest(&req.body));
                st.retry_tokens
                    .retain(|_, r| req.now - r.at < ChronoDuration::hours(24));
                if let Some(rec) = retry_token.as_ref().and_then(|t| st.retry_tokens.get(t)) {
                    // The same request again: the same answer, and no second credential.
                    if rec.request == request && rec.body_sha256 == body_sha256 {
                        return ok(StatusCode::OK, rec.response.clone());
                    }
                    return error(
                        StatusCode::CONFLICT,
                        "InvalidatedRetryToken",
                        "The retry token was already used for a different request; use a new retry token.",
                    );
                }
                if st.live_count(&user, kind) >= PER_USER_LIMIT {
                    let what = if kind == AUTH_TOKENS {
                        "auth tokens"
                    } else {
                        "customer secret keys"
                    };
                    return error(
                        StatusCode::BAD_REQUEST,
                        "LimitExceeded",
                        format!("User {user} has reached the maximum of {PER_USER_LIMIT} {what}."),
                    );
                }
                let cred = st.new_credential(kind, &user, label, req.now, &req.knobs);
                let body = cred.to_json(true);
                st.credentials.insert(cred.id.clone(), cred);
                if let Some(token) = retry_token {
                    st.retry_tokens.insert(
                        token,
                        RetryRecord {
                            request,
                            body_sha256,
                            at: req.now,
                            response: body.clone(),
                        },
                    );
                }
                ok(StatusCode::OK, body)
            }
            Route::List(user, kind) => {
                if !st.users.contains_key(&user) {
                    return not_found();
                }
                let mut items = Vec::new();
                for c in st
                    .credentials
                    .values_mut()
                    .filter(|c| c.user_id == user && c.kind == kind)
                {
                    // A transition completes by the next read, as it does (quickly) in the real
                    // cloud, unless the knobs make it last.
                    let moving = matches!(c.lifecycle_state.as_str(), "CREATING" | "DELETING");
                    if moving && c.pending_reads > 0 {
                        c.pending_reads -= 1;
                    } else if c.lifecycle_state == "DELETING" {
                        c.lifecycle_state = "DELETED".into();
                    } else if c.lifecycle_state == "CREATING" {
                        c.inactive_status = c.settles_inactive;
                        c.lifecycle_state = if c.settles_inactive.is_some() {
                            "INACTIVE"
                        } else {
                            "ACTIVE"
                        }
                        .into();
                    }
                    items.push(c.to_json(false));
                }
                ok(StatusCode::OK, Value::Array(items))
            }
            Route::Update(user, kind, id) => {
                let label = match read_label(req, kind) {
                    Ok(l) => l,
                    Err(resp) => return resp,
                };
                match st.credentials.get_mut(&id) {
                    Some(c) if c.user_id == user && c.kind == kind && c.lifecycle_state != "DELETED" => {
                        c.label = label;
                        ok(StatusCode::OK, c.to_json(false))
                    }
                    _ => not_found(),
                }
            }
            Route::Delete(user, kind, id) => match st.credentials.get_mut(&id) {
                Some(c) if c.user_id == user && c.kind == kind && c.lifecycle_state != "DELETED" => {
                    c.pending_reads = req.knobs.oci_transition_reads;
                    c.lifecycle_state = if c.pending_reads > 0 { "DELETING" } else { "DELETED" }.into();
                    with_request_id(StatusCode::NO_CONTENT.into_response())
                }
                _ => not_found(),
            },
        }
    }
}

impl CloudApi for OciIdentity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn matches(&self, req: &SandboxRequest) -> bool {
        split_region(&req.path).1.starts_with(PREFIX)
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        route(&req.method, split_region(&req.path).1).map(|r| action_name(&r))
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        let (region, path) = split_region(&req.path);
        if !is_subscribed(&region) {
            return error(
                StatusCode::UNAUTHORIZED,
                "NotAuthenticated",
                format!("The tenancy is not subscribed to region {region}."),
            );
        }
        if let Err(resp) = self.verify(req) {
            return resp;
        }
        // Identity is global but written only in the home region, as in the real service.
        if req.method != Method::GET && region != principals::HOME_REGION {
            return error(StatusCode::FORBIDDEN, "NotAllowed", principals::not_home_message());
        }
        match route(&req.method, path) {
            Some(r) => self.apply(req, r),
            None => error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "There is no operation supported at the URI path and HTTP method you specified.",
            ),
        }
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests for the user",
        )
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal error occurred",
        )
    }

    fn fixtures(&self) -> Value {
        let st = self.state.lock().expect("oci state");
        json!({
            "tenancy": TENANCY,
            "region": REGION,
            "admin": {
                "user": ADMIN_USER,
                "fingerprint": st.admin_fingerprint,
                "key_id": format!("{TENANCY}/{ADMIN_USER}/{}", st.admin_fingerprint),
                "private_key": st.admin_private_key_pem,
            },
            "alice": { "user": ALICE },
        })
    }

    fn provider_settings(&self, base_url: &str) -> Value {
        let st = self.state.lock().expect("oci state");
        json!({ "oci": {
            "tenancy": TENANCY,
            "user": ADMIN_USER,
            "fingerprint": st.admin_fingerprint,
            "private_key": st.admin_private_key_pem,
            "region": REGION,
            "endpoint": base_url,
        }})
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("oci state")).unwrap_or(Value::Null)
    }

    fn restore(&self, state: &Value) -> Result<(), String> {
        let restored: State = serde_json::from_value(state.clone()).map_err(|e| format!("oci-identity state: {e}"))?;
        *self.state.lock().expect("oci state") = restored;
        Ok(())
    }
}

/// Writes an OCI config file (profile `DEFAULT`) and its key file into `dir` for a client of the
/// sandbox, from the `oci-identity` fixtures. With a pass phrase the key is written as encrypted
/// PKCS#8 and the pass phrase goes into the config. Returns the config file path.
pub fn write_client_config(fixtures: &Value, dir: &Path, pass_phrase: Option<&str>) -> Result<PathBuf, String> {
    let get = |ptr: &str| {
        fixtures
            .pointer(ptr)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("fixtures have no {ptr}"))
    };
    let pem = get("/admin/private_key")?;
    let key_pem = match pass_phrase {
        None => pem.to_string(),
        Some(pass) => {
            let key = credplane_sign::oci::load_private_key_pem(pem, None).map_err(|e| e.to_string())?;
            key.to_pkcs8_encrypted_pem(&mut rsa::rand_core::OsRng, pass, LineEnding::LF)
                .map_err(|e| e.to_string())?
                .to_string()
        }
    };
    let key_file = dir.join("oci_api_key.pem");
    crate::files::write_private(&key_file, key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let config = dir.join("config");
    let parts = OciConfigParts {
        user: get("/admin/user")?.into(),
        fingerprint: get("/admin/fingerprint")?.into(),
        tenancy: get("/tenancy")?.into(),
        region: get("/region")?.into(),
        key_file,
        pass_phrase: pass_phrase.map(str::to_owned),
    };
    write_config_file(&config, "DEFAULT", &parts).map_err(|e| e.to_string())?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_actions() {
        let r = route(&Method::POST, "/20160918/users/ocid1.user.oc1..a/authTokens/").unwrap();
        assert_eq!(action_name(&r), "CreateAuthToken");
        let r = route(&Method::GET, "/20160918/users/u/customerSecretKeys").unwrap();
        assert_eq!(action_name(&r), "ListCustomerSecretKeys");
        let r = route(&Method::DELETE, "/20160918/users/u/customerSecretKeys/k").unwrap();
        assert_eq!(r, Route::Delete("u".into(), SECRET_KEYS, "k".into()));
        assert_eq!(
            route(&Method::GET, "/20160918/users/u").unwrap(),
            Route::GetUser("u".into())
        );
        assert_eq!(route(&Method::PATCH, "/20160918/users/u"), None);
        assert_eq!(route(&Method::GET, "/20160918/groups/g"), None);
    }

    #[test]
    fn snapshot_restores_keys_users_and_credentials() {
        let a = OciIdentity::new();
        {
            let mut st = a.state.lock().unwrap();
            let cred = st.new_credential(AUTH_TOKENS, ALICE, "kept".into(), Utc::now(), &Faults::default());
            st.credentials.insert(cred.id.clone(), cred);
        }
        let snap = a.snapshot();
        let b = OciIdentity::new();
        assert_ne!(b.fixtures(), a.fixtures(), "each sandbox generates its own admin key");
        b.restore(&snap).unwrap();
        assert_eq!(b.fixtures(), a.fixtures());
        assert_eq!(b.snapshot(), snap);
        assert_eq!(b.state.lock().unwrap().live_count(ALICE, AUTH_TOKENS), 1);
        assert!(b.restore(&json!({"users": 1})).is_err());
    }
}
