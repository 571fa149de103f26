//! A real `kill -9` of a `credplane serve --stdio` process in the middle of an `up`, then `up`
//! again from a new process: the journal replays, interrupted creates are reconciled by name, and
//! every resource ends up in the state exactly once (a duplicate KMS create would fail).

mod engine_stdio;

use engine_stdio::{BIN, Engine, sandbox};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const N: usize = 300;

fn engine(settings: &Value) -> Engine {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--stdio"])
        .env("CREDPLANE_PASSPHRASE", "crash-test");
    Engine::start(command, settings)
}

fn register_all(e: &mut Engine, deployment: &Value) -> Vec<u64> {
    (0..N)
        .map(|i| {
            let inputs = json!({"secret_name": format!("crash/{i}"), "version_id": "v1", "secret_data": format!("v{i}")});
            e.send(
                "engine.register",
                json!({"deployment": deployment, "type": "alicloud_kms_secret", "name": format!("s{i}"), "inputs": inputs}),
            )
        })
        .collect()
}

#[test]
fn kill_9_mid_up_then_up_again_leaves_no_orphan_and_no_duplicate() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let journal = dir.path().join("state.json.journal");

    let mut first = engine(&sandbox.1);
    let open = json!({"stack": "crash", "action": "up", "backend": state, "parallelism": 4});
    let d = first.call("engine.open", open.clone()).unwrap()["deployment"].clone();
    register_all(&mut first, &d);
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

    let mut second = engine(&sandbox.1);
    let opened = second.call("engine.open", open).unwrap();
    let d = opened["deployment"].clone();
    let ids = register_all(&mut second, &d);
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
    assert_eq!(closed["resources"].as_object().unwrap().len(), N);
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
    let _ = second.child.kill();
}
