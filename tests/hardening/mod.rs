//! The real binary over stdio and HTTP, for the hardening tests: stderr goes to a file so a test
//! can search the log afterwards.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_credplane");
/// A bearer token long enough to be accepted.
pub const TOKEN: &str = "test-token-0123456789abcdef0123456789";

/// A provider over stdio.
pub struct Stdio1 {
    child: Child,
    stdin: Option<ChildStdin>,
    replies: mpsc::Receiver<Value>,
    next_id: u64,
}

fn command(args: &[&str], log: Option<&Path>, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("RUST_LOG").env_remove("CREDPLANE_TOKEN");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stderr(match log {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    });
    cmd
}

impl Stdio1 {
    /// `serve --stdio` with `extra` args; stderr to `log`.
    pub fn start(extra: &[&str], log: Option<&Path>, envs: &[(&str, &str)]) -> Self {
        let mut args = vec!["serve", "--stdio"];
        args.extend_from_slice(extra);
        let mut child = command(&args, log, envs)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
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
        Self {
            child,
            stdin: Some(stdin),
            replies,
            next_id: 0,
        }
    }

    /// Writes `text` as is (it may hold several lines).
    pub fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub fn recv(&self, within: Duration) -> Option<Value> {
        self.replies.recv_timeout(within).ok()
    }

    pub fn send_raw(&mut self, line: &str) -> Value {
        self.write(&format!("{line}\n"));
        self.recv(Duration::from_secs(60)).expect("a reply")
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let line = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        self.send_raw(&line.to_string())
    }

    /// Closes stdin and waits for the exit.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Stdio1 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A provider over HTTP on a free loopback port.
pub struct Http1 {
    child: Child,
    pub url: String,
    token: String,
    next_id: u64,
}

impl Http1 {
    pub fn start(extra: &[&str], log: &Path, token: &str) -> Self {
        Self::start_with_env(extra, log, token, &[])
    }

    pub fn start_with_env(extra: &[&str], log: &Path, token: &str, envs: &[(&str, &str)]) -> Self {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut envs = envs.to_vec();
        envs.push(("CREDPLANE_TOKEN", token));
        let mut child = command(&args, Some(log), &envs)
            .stdout(Stdio::null())
            .spawn()
            .expect("start credplane");
        let started = std::time::Instant::now();
        let url = loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(rest) = text.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("credplane exited {status}: {text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no address printed: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            url,
            token: token.into(),
            next_id: 0,
        }
    }

    /// POSTs `body`; (status, body).
    pub fn post(&self, body: &str) -> (u16, String) {
        post(&self.url, Some(&self.token), &[], body.to_string())
    }

    pub fn send_raw(&self, body: &str) -> Value {
        let (status, text) = self.post(body);
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let line = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        self.send_raw(&line.to_string())
    }
}

impl Drop for Http1 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `body` with the token and extra headers.
pub fn post(url: &str, token: Option<&str>, headers: &[(&str, &str)], body: String) -> (u16, String) {
    try_post(url, token, headers, body).expect("HTTP reply")
}

/// POSTs `body` as JSON with the token and extra headers; (status, body) or the transport error.
pub fn try_post(
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: String,
) -> Result<(u16, String), reqwest::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut req = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let resp = req.send().await?;
            Ok((resp.status().as_u16(), resp.text().await?))
        })
}

/// A temp file path for a log.
pub fn log_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
