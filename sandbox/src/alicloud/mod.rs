//! Alibaba Cloud, emulated: RAM (`Version=2015-05-01`), KMS (`Version=2016-01-20`), STS
//! (`Version=2015-04-01`) and the ECS metadata service (`/latest/...`).
//!
//! The APIs share one account: the AccessKeys that RAM mints sign KMS calls too, and the
//! sessions STS issues sign RAM and KMS calls with their security token. Requests are
//! verified with our RPC V1 verifier, or the ACS3 (V3) one when `Authorization: ACS3-HMAC-SHA256`
//! is present; a replayed nonce is refused with `SignatureNonceUsed`. Answers are JSON shaped
//! like the official SDK models (`alibabacloud_ram20150501`, `alibabacloud_kms20160120`).

mod kms;
pub mod metadata;
mod ram;
pub mod sts;

pub use kms::Kms;
pub use metadata::EcsMetadata;
pub use ram::Ram;
pub use sts::Sts;

use super::{CloudApi, SandboxRequest};
use crate::verify::alicloud::{Acs3Request, MAX_CLOCK_SKEW, VerifyError, verify_acs3, verify_rpc};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The seeded account id.
pub const ACCOUNT_ID: &str = "1234567890123456";
/// The seeded region.
pub const REGION: &str = "cn-hangzhou";
/// The RAM user whose AccessKey the provider uses.
pub const ADMIN_USER: &str = "sandbox-admin";
/// The admin AccessKey id.
pub const ADMIN_KEY_ID: &str = "LTAI5tSandboxAdmin000001";
/// The admin AccessKey secret (a sandbox fixture, not a real credential).
pub const ADMIN_KEY_SECRET: &str = "SandboxAdminSecretNotReal0000000";
/// RAM's limit of AccessKeys per user.
pub const MAX_KEYS_PER_USER: usize = 2;

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";

/// Every emulated API, sharing one account.
pub fn apis() -> Vec<Arc<dyn CloudApi>> {
    let account = Arc::new(Mutex::new(Account::seeded()));
    vec![
        Arc::new(Ram::new(account.clone())),
        Arc::new(Kms::new(account.clone())),
        Arc::new(Sts::new(account.clone())),
        Arc::new(EcsMetadata::new(account)),
    ]
}

/// A RAM AccessKey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Key {
    pub id: String,
    pub secret: String,
    pub status: String,
    pub create_date: String,
}

/// A RAM user and its keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct User {
    pub keys: Vec<Key>,
}

/// Users, keys, STS sessions, and the nonces seen within the clock-skew window.
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub users: BTreeMap<String, User>,
    /// STS sessions by AccessKey id.
    pub sessions: BTreeMap<String, sts::Session>,
    nonces: Nonces,
}

/// The nonces seen within the clock-skew window, and the order they expire in: each request
/// forgets only the expired ones (sweeping them all on every request made a large run quadratic).
#[derive(Debug, Default)]
struct Nonces {
    seen: HashMap<String, DateTime<Utc>>,
    expiry: VecDeque<(DateTime<Utc>, String)>,
}

impl Nonces {
    /// Records `nonce` as used at `now`; false if it was used within the window.
    fn use_once(&mut self, nonce: &str, now: DateTime<Utc>) -> bool {
        while let Some((at, _)) = self.expiry.front()
            && now - *at > MAX_CLOCK_SKEW * 2
        {
            let (at, old) = self.expiry.pop_front().expect("front exists");
            if self.seen.get(&old) == Some(&at) {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains_key(nonce) {
            return false;
        }
        self.seen.insert(nonce.to_string(), now);
        self.expiry.push_back((now, nonce.to_string()));
        true
    }
}

impl Account {
    fn seeded() -> Self {
        let admin_key = Key {
            id: ADMIN_KEY_ID.into(),
            secret: ADMIN_KEY_SECRET.into(),
            status: "Active".into(),
            create_date: "2024-01-01T00:00:00Z".into(),
        };
        let mut users = BTreeMap::new();
        users.insert(ADMIN_USER.to_string(), User { keys: vec![admin_key] });
        users.insert("alice".to_string(), User::default());
        Account {
            users,
            sessions: BTreeMap::new(),
            nonces: Nonces::default(),
        }
    }

    fn key(&self, id: &str) -> Option<(&str, &Key)> {
        self.users
            .iter()
            .find_map(|(name, u)| u.keys.iter().find(|k| k.id == id).map(|k| (name.as_str(), k)))
    }
}

/// An error answer: HTTP status, code, message.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameter", message)
    }

    pub fn missing(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }
}

/// What a handler answers.
pub(crate) type Answer = Result<Value, ApiError>;

/// The error document, as both APIs send it.
pub(crate) fn error_response(host: &str, err: &ApiError) -> Response {
    let body = json!({
        "RequestId": request_id(),
        "HostId": host,
        "Code": err.code,
        "Message": err.message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}", err.code),
    });
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [("content-type", "application/json;charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// A success answer with its `RequestId`.
pub(crate) fn answer(host: &str, result: Answer) -> Response {
    match result {
        Ok(mut body) => {
            if let Value::Object(map) = &mut body {
                map.insert("RequestId".into(), Value::String(request_id()));
            }
            (
                StatusCode::OK,
                [("content-type", "application/json;charset=utf-8")],
                body.to_string(),
            )
                .into_response()
        }
        Err(err) => error_response(host, &err),
    }
}

/// The throttling answer of RAM and STS.
pub(crate) fn user_throttled_response(host: &str) -> Response {
    error_response(
        host,
        &ApiError::new(400, "Throttling.User", "Request was denied due to user flow control."),
    )
}

/// The 5xx answer, the same from both APIs.
pub(crate) fn server_error_response(host: &str) -> Response {
    error_response(
        host,
        &ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ),
    )
}

/// Serves one call of either API: authenticates it against the shared account, then lets
/// `dispatch` apply its action, and answers from `host`.
pub(crate) fn serve(
    host: &str,
    account: &Mutex<Account>,
    req: &SandboxRequest,
    dispatch: impl FnOnce(&str, &Call) -> Answer,
) -> Response {
    let result = authenticate(account, req).and_then(|call| {
        let action = action_of(req).ok_or_else(|| ApiError::missing("Action"))?;
        dispatch(&action, &call)
    });
    answer(host, result)
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// The parameters of one call.
pub(crate) struct Call {
    params: Vec<(String, String)>,
    /// The RAM user whose key signed the call.
    pub caller: String,
    /// When it arrived.
    pub now: DateTime<Utc>,
}

impl Call {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A parameter as sent, empty included (where an empty value means "clear it").
    pub fn given(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid(format!("{name} must be true or false, not {v:?}"))),
        }
    }
}

/// Whether the request is for API `version` (RPC `Version` parameter, or the V3 header).
pub(crate) fn is_version(req: &SandboxRequest, version: &str) -> bool {
    req.header("x-acs-version") == Some(version) || req.param("Version").as_deref() == Some(version)
}

/// The action (RPC `Action` parameter, or the V3 `x-acs-action` header).
pub(crate) fn action_of(req: &SandboxRequest) -> Option<String> {
    req.header("x-acs-action")
        .map(str::to_owned)
        .or_else(|| req.param("Action"))
}

/// Verifies the request's signature (V1 or V3), its timestamp, its nonce and its key's status.
pub(crate) fn authenticate(account: &Mutex<Account>, req: &SandboxRequest) -> Result<Call, ApiError> {
    let mut account = account.lock().expect("account lock");
    let params = req.params();
    let secret_for = |id: &str| {
        account
            .key(id)
            .map(|(_, k)| k.secret.clone())
            .or_else(|| account.sessions.get(id).map(|s| s.secret.clone()))
    };
    let is_v3 = req
        .header("authorization")
        .is_some_and(|a| a.starts_with("ACS3-HMAC-SHA256"));
    let verified = if is_v3 {
        let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query.as_bytes()).into_owned().collect();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let path = percent_encoding::percent_decode_str(&req.path)
            .decode_utf8_lossy()
            .into_owned();
        let signed = Acs3Request {
            method: req.method.as_str(),
            path: &path,
            query: &query,
            headers: &headers,
            body: &req.body,
        };
        verify_acs3(&signed, req.now, secret_for)
    } else {
        verify_rpc(req.method.as_str(), &params, req.now, secret_for)
    }
    .map_err(|e| ApiError::new(e.http_status(), e.code(), e.to_string()))?;

    if !account.nonces.use_once(&verified.nonce, req.now) {
        let e = VerifyError::NonceUsed(verified.nonce);
        return Err(ApiError::new(e.http_status(), e.code(), e.to_string()));
    }
    if let Some(session) = account.sessions.get(&verified.access_key_id) {
        // A session signs with its security token: the V3 header, or the RPC parameter.
        let sent = if is_v3 {
            req.header("x-acs-security-token").map(str::to_owned)
        } else {
            params
                .iter()
                .find(|(k, _)| k == "SecurityToken")
                .map(|(_, v)| v.clone())
        };
        sts::check_session(session, sent.as_deref(), req.now)?;
        return Ok(Call {
            caller: session.identity.clone(),
            params,
            now: req.now,
        });
    }
    let (user, key) = account
        .key(&verified.access_key_id)
        .expect("the verifier found this key");
    if key.status != "Active" {
        return Err(ApiError::new(
            400,
            "InvalidAccessKeyId.Inactive",
            "Specified access key is disabled.",
        ));
    }
    Ok(Call {
        params,
        caller: user.to_string(),
        now: req.now,
    })
}

/// `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    credplane_sign::alicloud::format_timestamp(t)
}

/// `n` random characters from `alphabet`.
pub(crate) fn random_chars(n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|_| alphabet[(uuid::Uuid::new_v4().as_u128() % alphabet.len() as u128) as usize] as char)
        .collect()
}

/// Fixtures shared by both APIs.
pub(crate) fn fixtures() -> Value {
    json!({
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "admin": {"user_name": ADMIN_USER, "access_key_id": ADMIN_KEY_ID, "access_key_secret": ADMIN_KEY_SECRET},
        "users": [{"user_name": "alice", "access_keys": []}],
    })
}

/// Provider settings shared by both APIs.
pub(crate) fn provider_settings(base_url: &str) -> Value {
    json!({"alicloud": {
        "access_key_id": ADMIN_KEY_ID,
        "access_key_secret": ADMIN_KEY_SECRET,
        "region": REGION,
        "ram_endpoint": base_url,
        "kms_endpoint": base_url,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_within_the_window_and_forgotten_after_it() {
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let later = |d: chrono::TimeDelta| t0 + d;
        let mut n = Nonces::default();
        assert!(n.use_once("a", t0));
        assert!(!n.use_once("a", later(MAX_CLOCK_SKEW)), "replayed within the window");
        assert!(n.use_once("b", later(MAX_CLOCK_SKEW)));
        let after = later(MAX_CLOCK_SKEW * 2 + chrono::TimeDelta::seconds(1));
        assert!(n.use_once("a", after), "expired, so usable again");
        assert!(!n.use_once("b", after), "b is still within its window");
        assert_eq!(n.seen.len(), 2, "only the expired entry was dropped");
    }
}
