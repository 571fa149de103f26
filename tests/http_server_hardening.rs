//! Issue 10 item 9: the HTTP server refuses a short token, checks `Host`, takes the `Bearer`
//! scheme in any case, needs TLS (or an explicit flag) for `--allow-remote`, serves HTTPS with a
//! given certificate, and caps concurrent connections.

mod hardening;

use hardening::{BIN, Http1, TOKEN, post};
use serde_json::{Value, json};
use std::io::Read;
use std::process::Command;
use std::time::Duration;

fn cancel() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "cancel", "params": {}}).to_string()
}

#[test]
fn a_short_token_is_refused_with_a_clear_message() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CREDPLANE_TOKEN", "abc")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CREDPLANE_TOKEN must be at least 32 characters"),
        "{stderr}"
    );
}

#[test]
fn host_is_checked_and_the_bearer_scheme_is_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let server = Http1::start(&["--allow-host", "provider.internal"], &dir.path().join("log"), TOKEN);
    let port = server.url.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "provider.internal".into(),
    ] {
        let (status, body) = post(&server.url, Some(TOKEN), &[("host", host.as_str())], cancel());
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in [format!("evil.example:{port}"), "127.0.0.1.nip.io".into()] {
        let (status, _) = post(&server.url, Some(TOKEN), &[("host", host.as_str())], cancel());
        assert_eq!(status, 403, "{host} is refused (DNS rebinding)");
    }
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let auth = format!("{scheme} {TOKEN}");
        let (status, body) = post(&server.url, None, &[("authorization", auth.as_str())], cancel());
        assert_eq!(status, 200, "{scheme}: {body}");
    }
    let basic = format!("Basic {TOKEN}");
    let (status, _) = post(&server.url, None, &[("authorization", basic.as_str())], cancel());
    assert_eq!(status, 401);
}

#[test]
fn allow_remote_needs_tls_or_an_explicit_plain_http_flag() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--allow-remote"])
        .env("CREDPLANE_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--tls-cert") && stderr.contains("--insecure-plain-http"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    // Loopback address, so the test opens no port to the network; the rule is the same.
    let server = Http1::start(
        &["--allow-remote", "--insecure-plain-http"],
        &dir.path().join("log"),
        TOKEN,
    );
    assert_eq!(post(&server.url, Some(TOKEN), &[], cancel()).0, 200);
}

#[test]
fn https_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (it is in the CI image)");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let server = Http1::start(
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
        &dir.path().join("log"),
        TOKEN,
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let pem = std::fs::read(&cert).unwrap();
    let reply: Value = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
                .build()
                .unwrap();
            client
                .post(&server.url)
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(cancel())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
    assert!(reply.get("result").is_some(), "{reply}");
    // Plain HTTP to the TLS port gets no JSON-RPC answer.
    let plain = server.url.replacen("https://", "http://", 1);
    let refused = std::panic::catch_unwind(|| post(&plain, Some(TOKEN), &[], cancel()));
    assert!(refused.is_err() || refused.unwrap().0 != 200);
}

#[test]
fn concurrent_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let server = Http1::start(&["--max-connections", "2"], &dir.path().join("log"), TOKEN);
    let addr = server.url.trim_start_matches("http://").to_string();
    let held: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    // The third is closed at once: a read sees end of file (or a reset) without any request sent.
    let mut third = std::net::TcpStream::connect(&addr).unwrap();
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    match third.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("the third connection got {n} bytes"),
        Err(e) => assert!(
            !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            "the third connection was left open: {e}"
        ),
    }
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        post(&server.url, Some(TOKEN), &[], cancel()).0,
        200,
        "served again once below the cap"
    );
}
