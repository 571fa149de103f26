//! The ECS instance metadata service, emulated in hardened mode: `PUT /latest/api/token` (with
//! `X-aliyun-ecs-metadata-token-ttl-seconds`) gives a token, and every read must carry it in
//! `X-aliyun-ecs-metadata-token`. The instance's RAM role credentials are STS sessions of the
//! shared account, kept until an hour before they expire, as the real service does.

use super::{Account, timestamp};
use crate::{CloudApi, SandboxRequest};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The RAM role attached to the emulated instance.
pub const ECS_ROLE_NAME: &str = "sandbox-ecs-role";
/// Its ARN.
pub const ECS_ROLE_ARN: &str = "acs:ram::1234567890123456:role/sandbox-ecs-role";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const MAX_TOKEN_TTL: i64 = 21600;
/// Instance role sessions last six hours and are replaced when less than one is left.
const SESSION_SECONDS: i64 = 6 * 3600;
const RENEW_BEFORE: Duration = Duration::hours(1);

/// The emulated metadata service.
pub struct EcsMetadata {
    account: Arc<Mutex<Account>>,
    /// Metadata tokens and when they expire.
    tokens: Mutex<HashMap<String, DateTime<Utc>>>,
    /// The current session of the instance role.
    current: Mutex<Option<String>>,
}

impl EcsMetadata {
    /// The service over the shared `account`.
    pub(crate) fn new(account: Arc<Mutex<Account>>) -> Self {
        EcsMetadata {
            account,
            tokens: Mutex::default(),
            current: Mutex::default(),
        }
    }

    fn issue_token(&self, req: &SandboxRequest) -> Response {
        let ttl = req
            .header("x-aliyun-ecs-metadata-token-ttl-seconds")
            .and_then(|v| v.trim().parse::<i64>().ok());
        let Some(ttl) = ttl.filter(|t| (1..=MAX_TOKEN_TTL).contains(t)) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("X-aliyun-ecs-metadata-token-ttl-seconds must be 1 to {MAX_TOKEN_TTL}"),
            );
        };
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut tokens = self.tokens.lock().expect("metadata tokens");
        tokens.retain(|_, until| *until > req.now);
        tokens.insert(token.clone(), req.now + Duration::seconds(ttl));
        text(StatusCode::OK, token)
    }

    fn token_ok(&self, req: &SandboxRequest) -> bool {
        let sent = req.header("x-aliyun-ecs-metadata-token").unwrap_or_default();
        self.tokens
            .lock()
            .expect("metadata tokens")
            .get(sent)
            .is_some_and(|until| *until > req.now)
    }

    fn role_credentials(&self, now: DateTime<Utc>) -> Value {
        let mut account = self.account.lock().expect("account lock");
        let mut current = self.current.lock().expect("metadata session");
        let fresh = current
            .as_ref()
            .and_then(|id| account.sessions.get(id))
            .is_some_and(|s| s.expiration - now > RENEW_BEFORE);
        if !fresh {
            *current = Some(account.issue_session(ECS_ROLE_NAME, "ecs-instance", now, SESSION_SECONDS));
        }
        let id = current.as_deref().expect("a session was just issued");
        let mut body = account.credentials_json(id);
        body["Code"] = json!("Success");
        body["LastUpdated"] = json!(timestamp(now));
        body
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/plain")], body).into_response()
}

impl CloudApi for EcsMetadata {
    fn name(&self) -> &'static str {
        "alicloud-ecs-metadata"
    }

    /// Only Alibaba's own requests: the token request with its Aliyun TTL header, and the RAM
    /// paths (AWS's instance metadata shares the `/latest/` prefix and may be emulated too).
    fn matches(&self, req: &SandboxRequest) -> bool {
        (req.path == TOKEN_PATH && req.header("x-aliyun-ecs-metadata-token-ttl-seconds").is_some())
            || req.path.starts_with(CREDENTIALS_PATH)
    }

    fn action(&self, req: &SandboxRequest) -> Option<String> {
        Some(if req.path == TOKEN_PATH {
            "GetMetadataToken".into()
        } else {
            "GetMetadata".into()
        })
    }

    fn handle(&self, req: &SandboxRequest) -> Response {
        if req.path == TOKEN_PATH {
            return if req.method == Method::PUT {
                self.issue_token(req)
            } else {
                text(StatusCode::METHOD_NOT_ALLOWED, "use PUT".into())
            };
        }
        if req.method != Method::GET {
            return text(StatusCode::METHOD_NOT_ALLOWED, "use GET".into());
        }
        // Hardened mode: no token, no metadata.
        if !self.token_ok(req) {
            return text(
                StatusCode::UNAUTHORIZED,
                "a valid X-aliyun-ecs-metadata-token is required".into(),
            );
        }
        match req.path.strip_prefix(CREDENTIALS_PATH) {
            Some("") => text(StatusCode::OK, ECS_ROLE_NAME.into()),
            Some(ECS_ROLE_NAME) => (StatusCode::OK, axum::Json(self.role_credentials(req.now))).into_response(),
            _ => text(StatusCode::NOT_FOUND, "Not Found".into()),
        }
    }

    fn throttled(&self, _req: &SandboxRequest) -> Response {
        text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests".into())
    }

    fn server_error(&self, _req: &SandboxRequest) -> Response {
        text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error".into())
    }

    fn fixtures(&self) -> Value {
        json!({"role_name": ECS_ROLE_NAME, "role_arn": ECS_ROLE_ARN})
    }

    fn provider_settings(&self, _base_url: &str) -> Value {
        json!({})
    }

    fn snapshot(&self) -> Value {
        // Tokens and the current session id are ephemeral; the session itself is in STS's state.
        json!({})
    }

    fn restore(&self, _state: &Value) -> Result<(), String> {
        Ok(())
    }
}
