//! A real `kill -9` of a `credplane serve --stdio` process in the middle of an `up`, then `up`
//! again from a new process: the journal replays, interrupted creates are reconciled by name, and
//! every resource ends up in the state exactly once (a duplicate KMS create would fail), and the
//! cloud holds exactly the secrets the state names (no orphan).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_credplane");
const N: usize = 300;

/// The sandbox process, its provider settings, its URL and its admin token.
struct Sandbox(Child, Value, String, String);

impl Sandbox {
    /// The live (not pending deletion) KMS secrets whose names start with `prefix`.
    fn live_secrets(&self, prefix: &str) -> Vec<String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let state: Value = runtime.block_on(async {
            reqwest::Client::new()
                .get(format!("{}/_sandbox/state", self.2))
                .bearer_auth(&self.3)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let secrets = state["alicloud-kms"]["secrets"].as_object().expect("the KMS secrets");
        let mut names: Vec<String> = secrets
            .iter()
            .filter(|(name, s)| name.starts_with(prefix) && s["planned_delete_time"].is_null())
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sandbox() -> Sandbox {
    let mut child = Command::new(BIN)
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut url, mut token) = (String::new(), String::new());
    let settings = loop {
        let line = lines.next().expect("sandbox output").unwrap();
        if let Some(u) = line.strip_prefix("credplane sandbox: listening on ") {
            url = u.trim().to_string();
        }
        if let Some(t) = line.strip_prefix("credplane sandbox: admin token: ") {
            token = t.trim().to_string();
        }
        if let Some(json) = line.strip_prefix("provider settings: ") {
            break serde_json::from_str(json).unwrap();
        }
    };
    assert!(
        !url.is_empty() && !token.is_empty(),
        "the sandbox prints its URL and admin token"
    );
    std::thread::spawn(move || lines.for_each(drop));
    Sandbox(child, settings, url, token)
}

struct Engine {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Value>,
    /// Replies read while waiting for another id (they come back in completion order).
    early: std::collections::HashMap<u64, Value>,
    next: u64,
}

impl Engine {
    fn start(settings: &Value) -> Engine {
        let mut child = Command::new(BIN)
            .args(["serve", "--stdio"])
            .env("CREDPLANE_PASSPHRASE", "crash-test")
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
            early: Default::default(),
            next: 0,
        };
        e.call("configure", settings.clone()).unwrap();
        e
    }

    fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next += 1;
        let msg = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        writeln!(self.stdin, "{msg}").unwrap();
        self.next
    }

    fn wait(&mut self, id: u64) -> Result<Value, Value> {
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

    fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send(method, params);
        self.wait(id)
    }

    fn register_all(&mut self, deployment: &Value) -> Vec<u64> {
        (0..N)
            .map(|i| {
                let inputs = json!({"secret_name": format!("crash/{i}"), "version_id": "v1", "secret_data": format!("v{i}")});
                self.send(
                    "engine.register",
                    json!({"deployment": deployment, "type": "alicloud_kms_secret", "name": format!("s{i}"), "inputs": inputs}),
                )
            })
            .collect()
    }
}

#[test]
fn kill_9_mid_up_then_up_again_leaves_no_orphan_and_no_duplicate() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let journal = dir.path().join("state.json.journal");

    let mut first = Engine::start(&sandbox.1);
    let open = json!({"stack": "crash", "action": "up", "backend": state, "parallelism": 4});
    let d = first.call("engine.open", open.clone()).unwrap()["deployment"].clone();
    first.register_all(&d);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0) < 30_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let kept = std::fs::metadata(&journal).unwrap().len();
    assert!(kept > 0, "the journal survives");
    assert!(
        !state.exists() || std::fs::read(&state).unwrap().len() < 2000,
        "nothing was compacted yet"
    );

    let mut second = Engine::start(&sandbox.1);
    let opened = second.call("engine.open", open).unwrap();
    eprintln!("second open: {}", opened["warnings"]);
    let d = opened["deployment"].clone();
    let ids = second.register_all(&d);
    let mut ops = std::collections::BTreeMap::<String, usize>::new();
    for id in ids {
        let reply = second
            .wait(id)
            .expect("every registration succeeds: no duplicate create");
        *ops.entry(reply["op"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let closed = second.call("engine.close", json!({"deployment": d})).unwrap();
    assert!(
        ops.get("same").copied().unwrap_or(0) > 0,
        "creates of the killed run were kept: {ops:?}"
    );
    let resources = closed["resources"].as_object().unwrap();
    assert_eq!(resources.len(), N);
    let mut ids: Vec<String> = resources
        .values()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        sandbox.live_secrets("crash/"),
        ids,
        "the cloud holds exactly the secrets of the state: no orphan, no duplicate"
    );
    assert!(!journal.exists(), "compacted at close");
    let destroy = second
        .call(
            "engine.open",
            json!({"stack": "crash", "action": "destroy", "backend": state}),
        )
        .unwrap();
    let gone = second
        .call("engine.close", json!({"deployment": destroy["deployment"]}))
        .unwrap();
    assert_eq!(gone["summary"]["delete"], N);
    assert_eq!(
        sandbox.live_secrets("crash/"),
        Vec::<String>::new(),
        "destroy left nothing"
    );
    let _ = second.child.kill();
}
