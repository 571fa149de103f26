//! The `Host` check of the HTTP server: a request must name the server by one of the allowed
//! host names (loopback names, the listen address, and any configured with `--allow-host`). A
//! page in a browser that rebinds its own DNS name to 127.0.0.1 sends its own name, and is refused.

use std::net::SocketAddr;

/// The host names a request may use (lowercase, without port).
#[derive(Clone, Debug)]
pub struct HostAllowList {
    names: Vec<String>,
}

impl HostAllowList {
    /// Loopback names, the listen address, and `extra`.
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).into();
        names.push(listen.ip().to_string());
        names.extend(extra.iter().map(|n| normalize(n)));
        names.sort();
        names.dedup();
        HostAllowList { names }
    }

    /// Whether the request's `Host` header (or, over HTTP/2, its URI authority) is allowed.
    pub fn accepts<B>(&self, request: &http::Request<B>) -> bool {
        let host = match request.headers().get(http::header::HOST) {
            Some(value) => value.to_str().ok().map(str::to_owned),
            None => request.uri().authority().map(|a| a.as_str().to_owned()),
        };
        host.is_some_and(|h| self.names.contains(&normalize(strip_port(&h))))
    }
}

/// `host:port`, `[v6]:port` or `[v6]` to the bare host.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

fn normalize(name: &str) -> String {
    name.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> http::Request<()> {
        http::Request::builder().header("host", host).body(()).unwrap()
    }

    #[test]
    fn loopback_names_the_listen_address_and_configured_names_only() {
        let list = HostAllowList::new("10.0.0.5:8080".parse().unwrap(), &["Provider.Example".into()]);
        for ok in [
            "localhost",
            "LOCALHOST:1234",
            "127.0.0.1:9",
            "[::1]:80",
            "10.0.0.5:8080",
            "provider.example",
        ] {
            assert!(list.accepts(&with_host(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.2",
            "localhost.evil.example",
            "",
        ] {
            assert!(!list.accepts(&with_host(bad)), "{bad}");
        }
        assert!(
            !list.accepts(&http::Request::builder().body(()).unwrap()),
            "no Host at all"
        );
    }
}
