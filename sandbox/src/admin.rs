//! Guarding the admin API (`/_sandbox/*`), which returns every secret the sandbox holds:
//! `Authorization: Bearer <token>` (401 otherwise), loopback peers only unless allowed, and a
//! `Host` that names this sandbox (so a web page cannot reach it through DNS rebinding).

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The environment variable that sets the admin token.
pub const TOKEN_ENV: &str = "CREDPLANE_SANDBOX_TOKEN";
/// The shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 32;

/// Why a configured admin token is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{TOKEN_ENV} must be at least {MIN_TOKEN_LEN} characters long (it is {0})")]
pub struct TokenTooShort(pub usize);

/// The token from [`TOKEN_ENV`] when set (and long enough), else `None`.
pub fn token_from_env() -> Result<Option<String>, TokenTooShort> {
    match std::env::var(TOKEN_ENV) {
        Ok(token) if !token.is_empty() => check_token(&token).map(|()| Some(token)),
        _ => Ok(None),
    }
}

/// Refuses a token shorter than [`MIN_TOKEN_LEN`].
pub fn check_token(token: &str) -> Result<(), TokenTooShort> {
    let len = token.chars().count();
    if len < MIN_TOKEN_LEN {
        Err(TokenTooShort(len))
    } else {
        Ok(())
    }
}

/// A fresh random token (244 random bits as hex).
pub fn generate_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// What an admin request must satisfy.
pub(crate) struct AdminGuard {
    /// `Bearer <token>`, compared in constant time.
    expected: Vec<u8>,
    /// Whether peers other than loopback may use the admin API.
    allow_remote: bool,
    /// The address the sandbox listens on.
    local: SocketAddr,
}

impl AdminGuard {
    pub(crate) fn new(token: &str, allow_remote: bool, local: SocketAddr) -> Self {
        AdminGuard {
            expected: token.as_bytes().to_vec(),
            allow_remote,
            local,
        }
    }

    /// Whether `value` is `Bearer <token>` (the scheme in any case).
    fn authorized(&self, value: Option<&[u8]>) -> bool {
        let Some((scheme, token)) = value.and_then(|v| std::str::from_utf8(v).ok()?.split_once(' ')) else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer") && bool::from(token.trim().as_bytes().ct_eq(&self.expected))
    }

    /// Whether `host` names this sandbox: a loopback name or the bound IP, with its port.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !name.ends_with(':') => (name, Some(port)),
            _ => (host, None),
        };
        if port.is_some_and(|p| p != self.local.port().to_string()) {
            return false;
        }
        let name = name.trim_start_matches('[').trim_end_matches(']');
        name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip == self.local.ip())
    }
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    response
}

/// The middleware in front of every `/_sandbox/*` route.
pub(crate) async fn guard(
    State(guard): State<Arc<AdminGuard>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !guard.allow_remote && !peer.ip().is_loopback() {
        return refuse(
            StatusCode::FORBIDDEN,
            "the sandbox admin API answers loopback clients only",
        );
    }
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    if !guard.host_allowed(host) {
        return refuse(StatusCode::FORBIDDEN, "the Host header does not name this sandbox");
    }
    let authorization = request.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if !guard.authorized(authorization) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the sandbox admin API needs Authorization: Bearer <admin token>",
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> AdminGuard {
        AdminGuard::new("t".repeat(32).as_str(), false, "127.0.0.1:8990".parse().unwrap())
    }

    #[test]
    fn bearer_token_in_any_case_only() {
        let g = guard();
        let token = "t".repeat(32);
        assert!(g.authorized(Some(format!("Bearer {token}").as_bytes())));
        assert!(g.authorized(Some(format!("bearer {token}").as_bytes())));
        assert!(!g.authorized(Some(format!("Basic {token}").as_bytes())));
        assert!(!g.authorized(Some(b"Bearer wrong")));
        assert!(!g.authorized(None));
    }

    #[test]
    fn host_must_name_this_sandbox() {
        let g = guard();
        for ok in ["127.0.0.1:8990", "localhost:8990", "[::1]:8990", "localhost"] {
            assert!(g.host_allowed(Some(ok)), "{ok}");
        }
        for bad in ["evil.example:8990", "127.0.0.1:8991", "10.0.0.1:8990", ""] {
            assert!(!g.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!g.host_allowed(None));
    }

    #[test]
    fn short_tokens_are_refused() {
        assert_eq!(check_token("short"), Err(TokenTooShort(5)));
        assert!(check_token(&generate_token()).is_ok());
    }
}
