//! Bearer-token authentication for the HTTP and WebSocket transport.

use subtle::ConstantTimeEq;

/// The shortest token accepted: shorter ones can be guessed or brute-forced.
pub const MIN_TOKEN_LEN: usize = 32;

/// A shared token; every request must carry `Authorization: Bearer <token>` (the scheme name in
/// any case, RFC 9110 section 11.1).
#[derive(Clone)]
pub struct BearerToken {
    expected: std::sync::Arc<[u8]>,
}

impl BearerToken {
    /// Uses `token`; refuses one shorter than [`MIN_TOKEN_LEN`] (the message never quotes it).
    pub fn new(token: &str) -> Result<Self, String> {
        if token.chars().count() < MIN_TOKEN_LEN {
            return Err(format!(
                "CREDPLANE_TOKEN must be at least {MIN_TOKEN_LEN} characters long (it has {}); \
                 unset it to have a random one generated",
                token.chars().count()
            ));
        }
        Ok(BearerToken {
            expected: token.as_bytes().into(),
        })
    }

    /// A fresh random token (244 random bits as hex).
    pub fn generate() -> String {
        format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
    }

    /// Whether the request carries the token. The comparison takes the same time for every wrong
    /// token of the right length.
    pub fn accepts<B>(&self, request: &http::Request<B>) -> bool {
        let Some(value) = request.headers().get(http::header::AUTHORIZATION) else {
            return false;
        };
        let value = value.as_bytes();
        let Some(space) = value.iter().position(|b| *b == b' ') else {
            return false;
        };
        let (scheme, rest) = value.split_at(space);
        let token = rest.trim_ascii_start();
        scheme.eq_ignore_ascii_case(b"bearer") && bool::from(token.ct_eq(&self.expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: &str) -> http::Request<()> {
        http::Request::builder().header("authorization", auth).body(()).unwrap()
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_exact() {
        let token = "a".repeat(40);
        let auth = BearerToken::new(&token).unwrap();
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert!(auth.accepts(&request(&format!("{scheme} {token}"))), "{scheme}");
        }
        assert!(!auth.accepts(&request(&format!("Basic {token}"))));
        assert!(!auth.accepts(&request(&format!("Bearer {token}x"))));
        assert!(!auth.accepts(&request(&format!("Bearer{token}"))));
        assert!(!auth.accepts(&http::Request::builder().body(()).unwrap()));
    }

    #[test]
    fn short_tokens_are_refused_without_quoting_them() {
        let err = BearerToken::new("hunter2").err().unwrap();
        assert!(err.contains("at least 32") && !err.contains("hunter2"), "{err}");
        assert!(BearerToken::new(&BearerToken::generate()).is_ok());
    }
}
