//! Bearer-token authentication for the HTTP and WebSocket transport.

use jsonrpsee::server::{HttpBody, HttpResponse};
use subtle::ConstantTimeEq;

/// A shared token; every request must carry `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct BearerToken {
    expected: std::sync::Arc<[u8]>,
}

impl BearerToken {
    /// Uses `token`.
    pub fn new(token: &str) -> Self {
        BearerToken {
            expected: format!("Bearer {token}").into_bytes().into(),
        }
    }

    /// A fresh random token (244 random bits as hex).
    pub fn generate() -> String {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    }

    /// Whether the request carries the token. The comparison takes the same time for every wrong token.
    pub fn accepts<B>(&self, request: &http::Request<B>) -> bool {
        request
            .headers()
            .get(http::header::AUTHORIZATION)
            .is_some_and(|value| bool::from(value.as_bytes().ct_eq(&self.expected)))
    }
}

impl<B> tower_http::validate_request::ValidateRequest<B> for BearerToken {
    type ResponseBody = HttpBody;

    fn validate(&mut self, request: &mut http::Request<B>) -> Result<(), HttpResponse> {
        if self.accepts(request) {
            return Ok(());
        }
        let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"missing or wrong bearer token"}}"#;
        Err(http::Response::builder()
            .status(http::StatusCode::UNAUTHORIZED)
            .header(http::header::WWW_AUTHENTICATE, "Bearer")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(HttpBody::from(body))
            .expect("static response"))
    }
}
