//! The real binary over stdio and over HTTP: every method, the error codes and shapes, batches,
//! limits, and the bearer token.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod hardening;

const BIN: &str = env!("CARGO_BIN_EXE_credplane");
/// Bearer tokens long enough to be accepted (32 characters at least).
const T0KEN: &str = "t0ken-0123456789abcdef0123456789abcdef";
const WSTOKEN: &str = "wstoken-0123456789abcdef0123456789abcdef";

/// A provider over stdio; replies are collected by a reader thread.
struct StdioProvider {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Value>,
}

impl StdioProvider {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start credplane");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&line).expect("every reply line is JSON"));
            }
        });
        Self { child, stdin, replies }
    }

    fn send_raw(&mut self, line: &str) -> Value {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        self.replies.recv_timeout(Duration::from_secs(30)).expect("a reply")
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.send_raw(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string())
    }
}

impl Drop for StdioProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error: {reply}"))
}

#[test]
fn stdio_every_method() {
    let mut p = StdioProvider::start();
    let schema = p.call("getSchema", json!({}));
    assert_eq!(schema["id"], 7);
    let types: Vec<&String> = schema["result"]["resources"].as_object().unwrap().keys().collect();
    assert_eq!(
        types,
        [
            "alicloud_kms_secret",
            "alicloud_ram_access_key",
            "aws_iam_access_key",
            "oci_identity_auth_token",
            "oci_identity_customer_secret_key"
        ]
    );

    let discover = p.call("rpc.discover", json!({}));
    assert_eq!(discover["result"]["openrpc"], "1.3.2");

    let configure = p.call(
        "configure",
        json!({"aws": {"region": "eu-central-1", "secret_access_key": {"$credplane": "secret", "value": "x"}}}),
    );
    assert_eq!(configure["result"], json!({}));

    let check = p.call(
        "check",
        json!({"type": "aws_iam_access_key", "news": {"user": "alice"}}),
    );
    assert_eq!(
        check["result"],
        json!({"inputs": {"user": "alice", "status": "Active"}, "failures": []})
    );

    let diff = p.call("diff", json!({"type": "aws_iam_access_key", "id": "AKIA1", "olds": {"id": "AKIA1", "user": "alice", "status": "Active"}, "news": {"user": "alice", "status": "Inactive"}}));
    assert_eq!(diff["result"]["detailedDiff"], json!({"status": {"kind": "update"}}));
    assert_eq!(diff["result"]["deleteBeforeReplace"], false);

    let preview = p.call("create", json!({"type": "alicloud_kms_secret", "preview": true, "inputs": {"secret_name": "db", "secret_data": "s", "version_id": "v1"}}));
    let outputs = &preview["result"]["outputs"];
    assert_eq!(preview["result"]["id"], "");
    assert_eq!(outputs["create_time"], json!({"$credplane": "unknown"}));
    assert_eq!(outputs["secret_data"], json!({"$credplane": "secret", "value": "s"}));

    let update_preview = p.call("update", json!({"type": "aws_iam_access_key", "id": "AKIA1", "preview": true, "olds": {"id": "AKIA1", "user": "alice", "status": "Active"}, "news": {"user": "alice", "status": "Inactive"}}));
    assert_eq!(update_preview["result"]["outputs"]["status"], "Inactive");
    assert_eq!(update_preview["result"]["outputs"]["id"], "AKIA1");

    let cancel = p.call("cancel", json!({}));
    assert_eq!(cancel["result"], json!({"cancelled": 0}));

    // read and delete of an unknown type fail on params before any cloud is called.
    for method in ["read", "delete"] {
        let reply = p.call(method, json!({"type": "nope", "id": "x", "outputs": {}}));
        assert_eq!(error_code(&reply), -32602, "{method}: {reply}");
        assert_eq!(reply["error"]["data"]["failures"][0]["property"], "type");
    }
}

#[test]
fn stdio_protocol_errors() {
    let mut p = StdioProvider::start();
    let bad_json = p.send_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    assert_eq!(error_code(&bad_json), -32700);
    assert_eq!(bad_json["id"], Value::Null);

    let not_rpc = p.send_raw(r#"{"id": 3, "method": "check"}"#);
    assert_eq!(error_code(&not_rpc), -32600);
    assert_eq!(not_rpc["id"], 3);

    let unknown_method = p.call("frobnicate", json!({}));
    assert_eq!(error_code(&unknown_method), -32601);

    let wrong_type = p.call("check", json!({"type": "aws_iam_access_key", "news": "alice"}));
    assert_eq!(error_code(&wrong_type), -32602);
    assert_eq!(wrong_type["error"]["data"]["failures"][0]["property"], "news");

    let missing = p.call("diff", json!({"type": "aws_iam_access_key"}));
    assert_eq!(error_code(&missing), -32602);
    assert!(
        missing["error"]["data"]["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("missing field")
    );

    let unknown_type = p.call("check", json!({"type": "aws_iam_user", "news": {}}));
    assert_eq!(error_code(&unknown_type), -32602);
    assert_eq!(unknown_type["error"]["data"]["failures"][0]["property"], "type");

    let invalid_create = p.call(
        "create",
        json!({"type": "aws_iam_access_key", "inputs": {"status": "On"}}),
    );
    assert_eq!(error_code(&invalid_create), -32602);
    assert_eq!(invalid_create["error"]["data"]["failures"].as_array().unwrap().len(), 2);

    let empty_batch = p.send_raw("[]");
    assert_eq!(error_code(&empty_batch), -32600);
}

#[test]
fn stdio_batches_and_notifications() {
    let mut p = StdioProvider::start();
    let batch = p.send_raw(
        &json!([
            {"jsonrpc": "2.0", "id": 1, "method": "check", "params": {"type": "aws_iam_access_key", "news": {"user": "a"}}},
            {"jsonrpc": "2.0", "method": "cancel", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "nope"}
        ])
        .to_string(),
    );
    let replies = batch.as_array().expect("a batch reply");
    assert_eq!(replies.len(), 2, "the notification gets no reply: {batch}");
    assert_eq!(replies[0]["id"], 1);
    assert_eq!(replies[0]["result"]["failures"], json!([]));
    assert_eq!(replies[1]["error"]["code"], -32601);
}

#[test]
fn stdio_error_messages_never_carry_secret_values() {
    let mut p = StdioProvider::start();
    let reply = p.call("configure", json!({"aws": {"secret_access_key": 12345678}}));
    assert_eq!(error_code(&reply), -32602);
    assert!(!reply.to_string().contains("12345678"), "{reply}");
    let reply = p.call("check", json!({"type": "alicloud_kms_secret", "news": {"secret_name": "db", "version_id": "v1", "secret_data": ["TOPSECRET"]}}));
    assert!(
        !reply.to_string().contains("TOPSECRET") || reply["result"]["inputs"]["secret_data"]["$credplane"] == "secret"
    );
    assert!(
        reply["result"]["failures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f.to_string().contains("TOPSECRET"))
    );
}

/// A provider over HTTP on a free loopback port.
struct Http {
    child: Child,
    url: String,
}

impl Http {
    fn start(token: &str) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("CREDPLANE_TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start credplane");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut url = None;
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                url = Some(rest.split_whitespace().next().unwrap().to_string());
                break;
            }
        }
        Self {
            child,
            url: url.expect("the server prints its address"),
        }
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(url: &str, token: Option<&str>, body: String) -> (u16, String) {
    try_post(url, token, body).expect("HTTP reply")
}

fn try_post(url: &str, token: Option<&str>, body: String) -> Result<(u16, String), reqwest::Error> {
    hardening::try_post(url, token, &[], body)
}

#[test]
fn http_with_token_limits_and_batches() {
    let server = Http::start(T0KEN);
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "check", "params": {"type": "oci_identity_auth_token", "news": {"description": "d", "user_id": "bad"}}}).to_string();

    let (status, _) = post(&server.url, None, call.clone());
    assert_eq!(status, 401, "no token");
    let (status, _) = post(&server.url, Some("wrong"), call.clone());
    assert_eq!(status, 401, "wrong token");

    let (status, body) = post(&server.url, Some(T0KEN), call);
    assert_eq!(status, 200);
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["result"]["failures"][0]["property"], "user_id");

    let (_, body) = post(&server.url, Some(T0KEN), "{not json".into());
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32700);

    let (_, body) = post(
        &server.url,
        Some(T0KEN),
        json!({"jsonrpc": "2.0", "id": 2, "method": "nope"}).to_string(),
    );
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32601);

    let batch: Vec<Value> = (0..3)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "cancel", "params": {}}))
        .collect();
    let (_, body) = post(&server.url, Some(T0KEN), Value::Array(batch).to_string());
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap().as_array().unwrap().len(),
        3
    );

    let too_long: Vec<Value> = (0..65)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "cancel", "params": {}}))
        .collect();
    let (_, body) = post(&server.url, Some(T0KEN), Value::Array(too_long).to_string());
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert!(
        reply.get("error").is_some() || reply[0].get("error").is_some(),
        "an over-long batch is refused: {body}"
    );

    let huge = json!({"jsonrpc": "2.0", "id": 3, "method": "check", "params": {"type": "aws_iam_access_key", "news": {"user": "x".repeat(5 * 1024 * 1024)}}}).to_string();
    // The server answers 413 as soon as it sees the length; the client may still be writing the
    // body then, and see the connection closed instead. Either way the request was refused.
    match try_post(&server.url, Some(T0KEN), huge) {
        Ok((status, body)) => assert_eq!(status, 413, "oversized body refused: {body}"),
        Err(err) => assert!(
            err.is_request() && !err.is_connect(),
            "refused mid-upload, not unreachable: {err}"
        ),
    }
}

#[test]
fn http_refuses_remote_addresses_unless_asked() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("CREDPLANE_TOKEN", T0KEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
}

#[test]
fn sigterm_stops_the_http_server_cleanly() {
    let server = Http::start(T0KEN);
    let pid = server.child.id();
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let mut server = server;
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "exit status after SIGTERM: {exit:?}");
}

#[test]
fn call_subcommand_in_process_and_errors() {
    let out = Command::new(BIN)
        .args([
            "call",
            "check",
            r#"{"type":"aws_iam_access_key","news":{"user":"alice"}}"#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["inputs"]["status"], "Active");
    let out = Command::new(BIN)
        .args(["call", "check", r#"{"type":"nope","news":{}}"#])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["code"], -32602);
}

/// A minimal WebSocket client over a raw socket (RFC 6455): enough to prove the upgrade, the
/// token check and one call on the same port as HTTP.
mod websocket {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub fn handshake(addr: &str, token: Option<&str>) -> (TcpStream, String) {
        let mut stream = TcpStream::connect(addr).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        (stream, String::from_utf8_lossy(&head).into_owned())
    }

    pub fn send_text(stream: &mut TcpStream, text: &str) {
        let payload = text.as_bytes();
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        stream.write_all(&frame).unwrap();
    }

    pub fn read_text(stream: &mut TcpStream) -> String {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).unwrap();
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).unwrap();
                u16::from_be_bytes(ext) as usize
            }
            127 => {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).unwrap();
                u64::from_be_bytes(ext) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).unwrap();
        String::from_utf8(payload).unwrap()
    }
}

#[test]
fn websocket_on_the_same_port_needs_the_token() {
    let server = Http::start(WSTOKEN);
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();

    let (_, refused) = websocket::handshake(&addr, None);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");

    let (mut stream, accepted) = websocket::handshake(&addr, Some(WSTOKEN));
    assert!(accepted.starts_with("HTTP/1.1 101"), "{accepted}");
    websocket::send_text(
        &mut stream,
        &json!({"jsonrpc": "2.0", "id": 9, "method": "cancel", "params": {}}).to_string(),
    );
    let reply: Value = serde_json::from_str(&websocket::read_text(&mut stream)).unwrap();
    assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 9, "result": {"cancelled": 0}}));
}

/// The sandbox admin token the spawned servers get through `CREDPLANE_SANDBOX_TOKEN`.
const SANDBOX_TOKEN: &str = "sandbox-admin-token-for-tests-0123456789";

#[test]
fn sigterm_lets_a_call_in_flight_finish() {
    // A provider on the sandbox clouds, whose CreateAccessKey we make slow through the sandbox.
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--sandbox"])
        .env("CREDPLANE_TOKEN", T0KEN)
        .env("CREDPLANE_SANDBOX_TOKEN", SANDBOX_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start credplane");
    let mut lines = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let (mut sandbox, mut url) = (None, None);
    for line in lines.by_ref() {
        if let Some(rest) = line.split("cloud sandbox on ").nth(1) {
            sandbox = Some(rest.split_whitespace().next().unwrap().to_string());
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = Some(rest.split_whitespace().next().unwrap().to_string());
            break;
        }
    }
    let (sandbox, url) = (sandbox.expect("sandbox address"), url.expect("server address"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let faults = json!({"latency_ms": 1500, "actions": ["CreateAccessKey"]});
    runtime.block_on(async {
        reqwest::Client::new()
            .put(format!("{sandbox}/_sandbox/faults"))
            .bearer_auth(SANDBOX_TOKEN)
            .json(&faults)
            .send()
            .await
            .unwrap();
    });

    let create = json!({"jsonrpc": "2.0", "id": 1, "method": "create", "params": {"type": "aws_iam_access_key", "inputs": {"user": "alice"}}}).to_string();
    let caller = std::thread::spawn(move || post(&url, Some(T0KEN), create));
    // Once the create is held by the sandbox, ask the server to stop.
    let in_flight = format!("{sandbox}/_sandbox/in-flight");
    let held = (0..500).any(|_| {
        let counts: Value = runtime.block_on(async {
            let held = reqwest::Client::new().get(&in_flight).bearer_auth(SANDBOX_TOKEN).send();
            held.await.unwrap().json().await.unwrap()
        });
        std::thread::sleep(Duration::from_millis(10));
        counts["CreateAccessKey"] == 1
    });
    assert!(held, "the create never reached the sandbox");
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );

    let (status, body) = caller.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert!(
        reply["result"]["id"].as_str().unwrap().starts_with("AKIA"),
        "the call finished: {reply}"
    );
    assert!(child.wait().unwrap().success(), "clean exit after draining");
}
