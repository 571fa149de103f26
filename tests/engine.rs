//! The engine end to end, in-process over the sandbox clouds: step generation, parallel steps,
//! journaled state (compaction, tampering, version-1 upgrade), locks and bad input.

use credplane::provider::Provider;
use credplane::rpc;
use credplane::sandbox::{self, SandboxHandle, SandboxOptions, faults::Faults};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

struct Engine {
    module: credplane::rpc::Service,
    sandbox: SandboxHandle,
}

async fn engine(latency_ms: u64) -> Engine {
    let faults = Faults {
        latency_ms,
        actions: vec!["CreateSecret".into()],
        ..Default::default()
    };
    let sandbox = sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            faults,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    Engine {
        module: rpc::module(Arc::new(Provider::new(settings))),
        sandbox,
    }
}

impl Engine {
    async fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let text = rpc::stdio::handle_message(&self.module, &request.to_string())
            .await
            .unwrap();
        let reply: Value = serde_json::from_str(&text).unwrap();
        match reply.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(reply["result"].clone()),
        }
    }

    /// Opens, then registers `resources` and closes, all pipelined, as the SDKs do: close
    /// (told how many registrations were sent) is what says that no other resource will come.
    /// An `up` of `resources` that must fail with an error whose message contains `expected`.
    async fn refused(&self, backend: &Path, resources: &[Value], expected: &str) {
        let err = self.run(backend, "up", resources).await.unwrap_err();
        assert!(err["message"].as_str().unwrap().contains(expected), "{err}");
    }

    /// Watches the sandbox for `polls` x 20 ms: the most CreateSecret calls it saw in flight at once.
    fn most_creates_in_flight(&self, polls: usize) -> tokio::task::JoinHandle<u64> {
        let url = format!("{}/_sandbox/in-flight", self.sandbox.url);
        let admin = self.sandbox.admin_token().to_string();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut most = 0u64;
            for _ in 0..polls {
                if let Ok(r) = http.get(&url).bearer_auth(&admin).send().await
                    && let Ok(v) = r.json::<Value>().await
                {
                    most = most.max(v["CreateSecret"].as_u64().unwrap_or(0));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            most
        })
    }

    async fn run(&self, backend: &Path, action: &str, resources: &[Value]) -> Result<Value, Value> {
        let open = json!({"stack": "t", "action": action, "backend": backend, "passphrase": "pw"});
        let d = self.call("engine.open", open).await?["deployment"].clone();
        let calls = resources.iter().map(|r| {
            let mut params = r.clone();
            params["deployment"] = d.clone();
            self.call("engine.register", params)
        });
        let close = self.call(
            "engine.close",
            json!({"deployment": d, "registrations": resources.len()}),
        );
        let (results, closed) = futures_util::future::join(futures_util::future::join_all(calls), close).await;
        // Close's error is the first one recorded (its data lists them all).
        let closed = closed?;
        for r in results {
            r?;
        }
        Ok(closed)
    }
}

fn kms(name: &str, secret_name: &str, description: &str) -> Value {
    json!({"type": "alicloud_kms_secret", "name": name, "inputs": {
        "secret_name": secret_name, "version_id": "v1", "description": description,
        "secret_data": {"$credplane": "secret", "value": format!("plain-{name}")}}})
}

fn ops(closed: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = closed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["op"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[tokio::test]
async fn steps_are_generated_from_registrations_and_state() {
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let one = e
        .run(&state, "up", &[kms("a", "s/a", "one"), kms("b", "s/b", "x")])
        .await
        .unwrap();
    assert_eq!(ops(&one), vec![pair("a", "create"), pair("b", "create")]);
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(!text.contains("plain-a"), "secrets are sealed in the snapshot");
    assert!(
        !dir.path().join("state.json.journal").exists(),
        "the journal was compacted"
    );
    let same = e
        .run(&state, "up", &[kms("a", "s/a", "one"), kms("b", "s/b", "x")])
        .await
        .unwrap();
    assert_eq!(ops(&same), vec![pair("a", "same"), pair("b", "same")]);
    let preview = e
        .run(&state, "preview", &[kms("a", "s/a", "two"), kms("b", "s/b2", "x")])
        .await
        .unwrap();
    assert_eq!(ops(&preview), vec![pair("a", "update"), pair("b", "replace")]);
    assert!(
        preview["plan"]
            .as_str()
            .unwrap()
            .contains("Resources: 1 to update, 1 to replace, 0 unchanged")
    );
    let changed = e
        .run(&state, "up", &[kms("a", "s/a", "two"), kms("b", "s/b2", "x")])
        .await
        .unwrap();
    assert_eq!(
        ops(&changed),
        vec![pair("a", "update"), pair("b", "delete"), pair("b", "replace")]
    );
    let dropped = e.run(&state, "up", &[kms("a", "s/a", "two")]).await.unwrap();
    assert_eq!(ops(&dropped), vec![pair("a", "same"), pair("b", "delete")]);
    let gone = e.run(&state, "destroy", &[]).await.unwrap();
    assert_eq!(ops(&gone), vec![pair("a", "delete")]);
}

#[tokio::test]
async fn independent_steps_run_in_parallel_and_dependents_wait() {
    let e = engine(400).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut resources: Vec<Value> = (0..6).map(|i| kms(&format!("s{i}"), &format!("p/{i}"), "d")).collect();
    let mut last = kms("last", "p/last", "d");
    last["inputs"]["description"] = json!({"$credplane": "ref", "resource": "s0", "property": "arn"});
    resources.push(last);
    let watcher = e.most_creates_in_flight(200);
    let closed = e.run(&state, "up", &resources).await.unwrap();
    let most = watcher.await.unwrap();
    assert!(most >= 2, "independent creates overlapped: at most {most} at once");
    let names: Vec<&str> = closed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&"last"));
    assert_eq!(e.run(&state, "destroy", &[]).await.unwrap()["summary"]["delete"], 7);
}

/// A reference takes the value its dependency's step recorded, in an up (from the state) as in
/// a preview (from the step: unknown until applied).
#[tokio::test]
async fn a_reference_takes_the_output_its_dependency_recorded() {
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut b = kms("b", "s/b", "d");
    b["inputs"]["description"] = json!({"$credplane": "ref", "resource": "a", "property": "arn"});
    b["inputs"]["secret_data"] = json!({"$credplane": "ref", "resource": "a", "property": "secret_data"});
    let resources = [kms("a", "s/a", "d"), b.clone()];
    let preview = e.run(&state, "preview", &resources).await.unwrap();
    let planned = preview["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "b")
        .unwrap();
    let description = planned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "description");
    assert_eq!(description.unwrap()["new"], "(unknown)", "{planned}");
    let up = e.run(&state, "up", &resources).await.unwrap();
    let (a, b) = (&up["resources"]["a"]["outputs"], &up["resources"]["b"]["outputs"]);
    assert!(a["arn"].as_str().is_some_and(|arn| arn.contains("s/a")), "{a}");
    assert_eq!(b["description"], a["arn"]);
    assert_eq!(
        b["secret_data"],
        json!({"$credplane": "secret", "value": "plain-a"}),
        "a secret stays one"
    );
}

/// Cloud calls mostly wait on the network: by default, many more than 16 steps run at once.
#[tokio::test]
async fn the_default_parallelism_runs_dozens_of_steps_at_once() {
    let e = engine(600).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let resources: Vec<Value> = (0..48).map(|i| kms(&format!("s{i}"), &format!("p/{i}"), "d")).collect();
    let watcher = e.most_creates_in_flight(100);
    let closed = e.run(&state, "up", &resources).await.unwrap();
    assert_eq!(closed["summary"]["create"], 48);
    let most = watcher.await.unwrap();
    assert!(most > 16, "at most {most} creates at once");
}

#[tokio::test]
async fn bad_input_names_the_resource_and_the_rule() {
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    e.run(&state, "up", &[kms("a", "s/a", "one")]).await.unwrap();
    let before = std::fs::read(&state).unwrap();
    let dup = e
        .run(&state, "up", &[kms("a", "s/a", "one"), kms("a", "s/x", "one")])
        .await
        .unwrap_err();
    assert!(
        dup["message"]
            .as_str()
            .unwrap()
            .contains("resources.a.name: two resources are named"),
        "{dup}"
    );
    let mut cyc_a = kms("a", "s/a", "one");
    cyc_a["options"] = json!({"dependsOn": ["b"]});
    let mut cyc_b = kms("b", "s/b", "one");
    cyc_b["options"] = json!({"dependsOn": ["a"]});
    let cycle = e.run(&state, "up", &[cyc_a, cyc_b]).await.unwrap_err();
    let message = cycle["message"].as_str().unwrap();
    // Whichever of the two arrives second closes the cycle and is named.
    assert!(
        message.contains("resources.b.options.dependsOn: dependency cycle: b -> a -> b")
            || message.contains("resources.a.options.dependsOn: dependency cycle: a -> b -> a"),
        "{cycle}"
    );
    let mut dangling = kms("c", "s/c", "one");
    dangling["inputs"]["description"] = json!({"$credplane": "ref", "resource": "nope", "property": "arn"});
    e.refused(
        &state,
        &[kms("a", "s/a", "one"), dangling],
        "resources.c.inputs.description: refers to \"nope\", which is not a resource",
    )
    .await;
    let mut bad_prop = kms("c", "s/c", "one");
    bad_prop["inputs"]["description"] = json!({"$credplane": "ref", "resource": "a", "property": "nope"});
    e.refused(
        &state,
        &[kms("a", "s/a", "one"), bad_prop],
        "resources.c.inputs.description: a (alicloud_kms_secret) has no output \"nope\"",
    )
    .await;
    let mut undeclared = kms("c", "s/c", "one");
    undeclared["options"] = json!({"dependsOn": ["ghost"]});
    e.refused(
        &state,
        &[kms("a", "s/a", "one"), undeclared],
        "resources.c.options.dependsOn: refers to \"ghost\"",
    )
    .await;
    // A typo in the type of a resource of the state fails the run; it must not delete it.
    let mut typo = kms("a", "s/a", "one");
    typo["type"] = json!("alicloud_kms_secrett");
    e.refused(&state, &[typo], "resources.a.type: unknown resource type")
        .await;
    // Failed runs delete nothing: "a" is still there, unchanged.
    let same = e.run(&state, "up", &[kms("a", "s/a", "one")]).await.unwrap();
    assert_eq!(ops(&same), vec![pair("a", "same")]);
    assert_ne!(
        before,
        std::fs::read(&state).unwrap(),
        "compaction rewrote the snapshot"
    );
}

/// A reference to a property the referenced resource's type does not have is refused as soon as
/// both are registered, without waiting for that resource's step (here it never runs: it waits
/// for a resource the program has not registered yet).
#[tokio::test]
async fn a_reference_to_a_missing_output_answers_before_its_resource_runs() {
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let open = json!({"stack": "t", "action": "up", "backend": dir.path().join("state.json"), "passphrase": "pw"});
    let d = e.call("engine.open", open).await.unwrap()["deployment"].clone();
    let mut blocked = kms("blocked", "s/blocked", "one");
    blocked["options"] = json!({"dependsOn": ["later"]});
    blocked["deployment"] = d.clone();
    let mut bad = kms("c", "s/c", "one");
    bad["inputs"]["description"] = json!({"$credplane": "ref", "resource": "blocked", "property": "nope"});
    bad["deployment"] = d.clone();
    let blocked = e.call("engine.register", blocked);
    let answer = async {
        // Liveness guard only: without the fix this reply never comes.
        tokio::time::timeout(std::time::Duration::from_secs(60), e.call("engine.register", bad))
            .await
            .expect("the bad reference is answered while its resource still waits")
    };
    tokio::pin!(blocked);
    let err = tokio::select! {
        err = answer => err.unwrap_err(),
        _ = &mut blocked => panic!("the blocked resource cannot finish first"),
    };
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("resources.c.inputs.description: blocked (alicloud_kms_secret) has no output \"nope\""),
        "{err}"
    );
    e.call("engine.cancel", json!({"deployment": d})).await.unwrap();
    assert_eq!(
        blocked.await.unwrap_err()["code"],
        -32602,
        "the waiting one fails at cancel"
    );
}

#[tokio::test]
async fn wrong_passphrase_tampering_and_a_held_lock_are_refused() {
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    e.run(&state, "up", &[kms("a", "s/a", "one")]).await.unwrap();
    let wrong = e
        .call(
            "engine.open",
            json!({"stack": "t", "action": "up", "backend": state, "passphrase": "nope"}),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong["code"], -32010);
    let missing = e
        .call(
            "engine.open",
            json!({"stack": "t", "action": "up", "backend": state, "passphrase": ""}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        missing["code"], -32015,
        "a missing passphrase has its own code: {missing}"
    );
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .starts_with("set CREDPLANE_PASSPHRASE"),
        "{missing}"
    );
    assert!(
        wrong["message"]
            .as_str()
            .unwrap()
            .contains("wrong CREDPLANE_PASSPHRASE")
    );
    let held = e
        .call(
            "engine.open",
            json!({"stack": "t", "action": "up", "backend": state, "passphrase": "pw"}),
        )
        .await
        .unwrap();
    let locked = e
        .call(
            "engine.open",
            json!({"stack": "t", "action": "preview", "backend": state, "passphrase": "pw"}),
        )
        .await
        .unwrap_err();
    assert_eq!(locked["code"], -32011);
    assert!(
        locked["message"].as_str().unwrap().contains("locked by pid"),
        "{locked}"
    );
    e.call("engine.cancel", json!({"deployment": held["deployment"]}))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&state).unwrap();
    let id_edit = text.replacen("\"id\": \"s/a\"", "\"id\": \"s/evil\"", 1);
    assert_ne!(text, id_edit);
    std::fs::write(&state, id_edit).unwrap();
    let tampered = e
        .call(
            "engine.open",
            json!({"stack": "t", "action": "up", "backend": state, "passphrase": "pw"}),
        )
        .await
        .unwrap_err();
    assert_eq!(tampered["code"], -32010);
    assert!(tampered["message"].as_str().unwrap().contains("tampered"), "{tampered}");
}

#[tokio::test]
async fn a_version_1_state_loads_and_is_upgraded() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let e = engine(0).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    // Today's SDKs: scrypt(N=2^12 here, r=8, p=1) -> 32 bytes, AES-256-GCM with AAD "credplane-state-v1".
    let salt = b"0123456789abcdef";
    let mut key = [0u8; 32];
    scrypt::scrypt(b"pw", salt, &scrypt::Params::new(12, 8, 1, 32).unwrap(), &mut key).unwrap();
    let aead = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let seal = |plain: &[u8]| {
        use base64::Engine as _;
        let nonce = [7u8; 12];
        let mut out = nonce.to_vec();
        out.extend(
            aead.encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain,
                    aad: b"credplane-state-v1",
                },
            )
            .unwrap(),
        );
        base64::engine::general_purpose::STANDARD.encode(out)
    };
    // Create the secret in the cloud first (as the old SDK did), then write its v1 state.
    let created = e
        .run(&dir.path().join("scratch.json"), "up", &[kms("a", "s/a", "one")])
        .await
        .unwrap();
    assert_eq!(ops(&created), vec![pair("a", "create")]);
    let secret = seal(br#"{"$credplane":"secret","value":"plain-a"}"#);
    // The outputs as the old SDK recorded them: every property, the secret sealed.
    let mut sealed_outputs = created["resources"]["a"]["outputs"].clone();
    sealed_outputs["secret_data"] = json!({"$credplane": "secret", "ciphertext": secret});
    let v1 = json!({"version": 1, "stack": "t", "encryption": {"cipher": "AES-256-GCM", "kdf": "scrypt",
        "salt": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, salt), "n": 4096, "r": 8, "p": 1,
        "verifier": seal(b"credplane-state-verifier")},
        "resources": [{"type": "alicloud_kms_secret", "name": "a", "id": "s/a",
            "inputs": {"secret_name": "s/a", "version_id": "v1", "description": "one", "secret_data": {"$credplane": "secret", "ciphertext": secret}},
            "outputs": sealed_outputs,
            "dependencies": []}],
        "pending": [], "pendingDeletes": []});
    std::fs::write(&state, serde_json::to_vec(&v1).unwrap()).unwrap();
    let preview = e.run(&state, "preview", &[kms("a", "s/a", "one")]).await.unwrap();
    assert_eq!(preview["resources"]["a"]["id"], "s/a");
    assert_eq!(
        serde_json::from_slice::<Value>(&std::fs::read(&state).unwrap()).unwrap()["version"],
        1,
        "a preview writes nothing"
    );
    e.run(&state, "up", &[kms("a", "s/a", "one")]).await.unwrap();
    let upgraded: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(upgraded["version"], 2);
    assert!(upgraded["mac"].is_string());
    e.run(&state, "destroy", &[]).await.unwrap();
}
