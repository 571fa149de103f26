//! Helpers shared by the tests that drive `credplane serve --stdio` engine processes (to kill
//! them, or to run two at once): a cloud sandbox process, and a JSON-RPC client over a child's
//! stdin/stdout.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The credplane binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_credplane");

/// `credplane sandbox` on a free port, and the provider settings it printed; killed on drop.
pub struct Sandbox(pub Child, pub Value);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the cloud sandbox in a process of its own (it outlives the engines under test).
pub fn sandbox() -> Sandbox {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let settings = loop {
        let line = lines.next().expect("sandbox output").unwrap();
        if let Some(json) = line.strip_prefix("provider settings: ") {
            break serde_json::from_str(json).unwrap();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Sandbox(child, settings)
}

/// An engine process spoken to over stdio; killed on drop.
pub struct Engine {
    /// The process (`kill()` is a SIGKILL).
    pub child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Value>,
    /// Replies that arrived before their `wait`.
    early: HashMap<u64, Value>,
    next: u64,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine {
    /// Spawns `command` (a `credplane serve --stdio` with its environment) and configures the
    /// provider with `settings`.
    pub fn start(mut command: Command, settings: &Value) -> Engine {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(serde_json::from_str::<Value>(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        let mut e = Engine {
            child,
            stdin,
            replies,
            early: HashMap::new(),
            next: 0,
        };
        e.call("configure", settings.clone()).unwrap();
        e
    }

    /// Sends a request; returns its id.
    pub fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next += 1;
        let msg = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        writeln!(self.stdin, "{msg}").unwrap();
        self.next
    }

    /// The reply to request `id`. Concurrent requests are answered in completion order, so
    /// replies to others that arrive first are kept for their own `wait`.
    pub fn wait(&mut self, id: u64) -> Result<Value, Value> {
        let reply = loop {
            if let Some(reply) = self.early.remove(&id) {
                break reply;
            }
            let reply = self.replies.recv_timeout(Duration::from_secs(120)).expect("a reply");
            match reply["id"].as_u64() {
                Some(got) if got == id => break reply,
                Some(got) => {
                    self.early.insert(got, reply);
                }
                None => panic!("a reply without an id: {reply}"),
            }
        };
        match reply.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(reply["result"].clone()),
        }
    }

    /// Sends a request and waits for its reply.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send(method, params);
        self.wait(id)
    }
}
