//! The one send-and-classify step every cloud client shares: send a built request, read the
//! whole reply, and turn transport failures into [`CloudError::Transport`] with the right
//! ambiguity. Parsing the cloud's own error document stays with each client.

use super::error::CloudError;
use super::retry::parse_retry_after;
use bytes::Bytes;
use std::time::Duration;

/// A complete HTTP reply.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The headers (request ids live here for some clouds).
    pub headers: reqwest::header::HeaderMap,
    /// How long the cloud asked us to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `request` for `service` and reads the whole reply. `what` names the call in errors.
///
/// A connection that was never made is not ambiguous (the request cannot have taken effect);
/// anything after that, including a body that breaks off after the headers, may have been
/// applied, so it is.
pub async fn send(service: &'static str, what: &str, request: reqwest::RequestBuilder) -> Result<Reply, CloudError> {
    let response = request.send().await.map_err(|e| CloudError::Transport {
        service,
        detail: format!("{what}: {}", transport_detail(&e)),
        ambiguous: !e.is_connect(),
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let retry_after = parse_retry_after(headers.get(reqwest::header::RETRY_AFTER));
    let body = response.bytes().await.map_err(|e| CloudError::Transport {
        service,
        detail: format!("the reply to {what} broke off: {}", transport_detail(&e)),
        ambiguous: true,
    })?;
    Ok(Reply {
        status,
        headers,
        retry_after,
        body,
    })
}

/// A transport error's description, with its causes (reqwest's own message is terse). The URL
/// reqwest includes holds ids only, never a secret.
fn transport_detail(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
