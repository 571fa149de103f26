//! Secret sinks on the sandbox clouds: a new key goes to a file (json, dotenv, aws-credentials;
//! 0600), an AWS credentials profile, or an Alibaba Cloud KMS secret; with
//! `store_secret_in_state: false` no reply and no state holds the secret, only its fingerprint.

use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

mod rpc_env;

use rpc_env::{Env, env};

impl Env {
    async fn ok(&self, method: &str, params: Value) -> Value {
        self.call_text(method, params).await.0.unwrap()
    }

    /// The secret the sandbox holds for key `id` (IAM or RAM).
    async fn secret_of(&self, id: &str) -> String {
        let state = self.state().await;
        let mut found = None;
        find_secret(&state, id, &mut found);
        found.unwrap_or_else(|| panic!("no key {id} in the sandbox"))
    }

    async fn key_count(&self, cloud: &str) -> usize {
        self.state().await[cloud].to_string().matches("\"create_date\"").count()
    }
}

fn find_secret(value: &Value, id: &str, out: &mut Option<String>) {
    match value {
        Value::Object(map) => {
            let is_it = ["access_key_id", "id"]
                .iter()
                .any(|k| map.get(*k).and_then(Value::as_str) == Some(id));
            if is_it {
                for field in ["secret_access_key", "secret"] {
                    if let Some(s) = map.get(field).and_then(Value::as_str) {
                        *out = Some(s.to_string());
                    }
                }
            }
            map.values().for_each(|v| find_secret(v, id, out));
        }
        Value::Array(items) => items.iter().for_each(|v| find_secret(v, id, out)),
        _ => {}
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn fingerprint(secret: &str) -> String {
    use sha2::Digest;
    format!("sha256:{}", &hex::encode(sha2::Sha256::digest(secret.as_bytes()))[..16])
}

#[tokio::test]
async fn each_file_format_is_written_0600_and_withdrawn_on_delete() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [
        ("json", "k.json"),
        ("dotenv", "k.env"),
        ("aws-credentials", "credentials"),
    ] {
        let path = dir.path().join(name);
        let inputs = json!({"user": "alice", "sink_file": path, "sink_file_format": format});
        let created = e
            .ok("create", json!({"type": "aws_iam_access_key", "inputs": inputs}))
            .await;
        let id = created["id"].as_str().unwrap();
        let secret = e.secret_of(id).await;
        assert_eq!(mode(&path), 0o600, "{format}");
        let text = std::fs::read_to_string(&path).unwrap();
        match format {
            "json" => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v, json!({"AccessKeyId": id, "SecretAccessKey": secret}));
            }
            "dotenv" => assert_eq!(
                text,
                format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
            ),
            _ => {
                let ini = ini::Ini::load_from_str(&text).unwrap();
                assert_eq!(ini.get_from(Some("default"), "aws_access_key_id"), Some(id));
                assert_eq!(
                    ini.get_from(Some("default"), "aws_secret_access_key"),
                    Some(secret.as_str())
                );
            }
        }
        // The state keeps the secret by default, and the fingerprint says which key the file holds.
        assert_eq!(created["outputs"]["secret"]["value"], secret.as_str());
        assert_eq!(created["outputs"]["secret_fingerprint"], fingerprint(&secret));
        e.ok(
            "delete",
            json!({"type": "aws_iam_access_key", "id": id, "outputs": created["outputs"]}),
        )
        .await;
        assert!(!path.exists(), "{format}: the file of a deleted key is removed");
    }
}

#[tokio::test]
async fn a_profile_is_merged_into_an_existing_credentials_file() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials");
    std::fs::write(&path, "[default]\naws_access_key_id=MINE\naws_secret_access_key=mine\n").unwrap();
    let inputs = json!({"user": "alice", "sink_aws_profile": "ci", "sink_aws_credentials_file": path});
    let created = e
        .ok("create", json!({"type": "aws_iam_access_key", "inputs": inputs}))
        .await;
    let id = created["id"].as_str().unwrap();
    let secret = e.secret_of(id).await;
    assert_eq!(mode(&path), 0o600);
    let ini = ini::Ini::load_from_file(&path).unwrap();
    assert_eq!(ini.get_from(Some("default"), "aws_access_key_id"), Some("MINE"));
    assert_eq!(ini.get_from(Some("ci"), "aws_access_key_id"), Some(id));
    assert_eq!(ini.get_from(Some("ci"), "aws_secret_access_key"), Some(secret.as_str()));
    e.ok(
        "delete",
        json!({"type": "aws_iam_access_key", "id": id, "outputs": created["outputs"]}),
    )
    .await;
    let ini = ini::Ini::load_from_file(&path).unwrap();
    assert_eq!(ini.section(Some("ci")), None, "the deleted key's profile is removed");
    assert_eq!(
        ini.get_from(Some("default"), "aws_access_key_id"),
        Some("MINE"),
        "the others stay"
    );
}

#[tokio::test]
async fn a_ram_key_goes_to_a_kms_secret_and_a_second_key_becomes_its_current_version() {
    let e = env().await;
    let inputs = json!({"user_name": "alice", "sink_kms_secret": "ci/ram", "store_secret_in_state": false});
    let mut ids = vec![];
    for _ in 0..2 {
        let (result, text) = e
            .call_text("create", json!({"type": "alicloud_ram_access_key", "inputs": inputs}))
            .await;
        let created = result.unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        let secret = e.secret_of(&id).await;
        assert!(!text.contains(&secret), "the create reply holds no secret");
        assert!(created["outputs"].get("secret").is_none());
        assert_eq!(created["outputs"]["secret_fingerprint"], fingerprint(&secret));
        let kms = e.state().await["alicloud-kms"]["secrets"]["ci/ram"].clone();
        let current = kms["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["stages"].as_array().unwrap().iter().any(|s| s == "ACSCurrent"))
            .unwrap()
            .clone();
        assert_eq!(current["id"], id.as_str(), "the version is named after the key");
        let value: Value = serde_json::from_str(current["data"].as_str().unwrap()).unwrap();
        assert_eq!(value, json!({"AccessKeyId": id, "AccessKeySecret": secret}));
        ids.push((id, created["outputs"].clone()));
    }
    for (id, outputs) in ids {
        e.ok(
            "delete",
            json!({"type": "alicloud_ram_access_key", "id": id, "outputs": outputs}),
        )
        .await;
    }
    assert!(
        e.state().await["alicloud-kms"]["secrets"]["ci/ram"].is_object(),
        "the KMS secret outlives the keys"
    );
}

#[tokio::test]
async fn an_unwritable_sink_is_refused_before_a_key_is_minted() {
    let e = env().await;
    let before = e.key_count("aws-iam").await;
    let inputs = json!({"user": "alice", "sink_file": "/nonexistent-dir/k.json"});
    let (result, _) = e
        .call_text("create", json!({"type": "aws_iam_access_key", "inputs": inputs}))
        .await;
    let err = result.unwrap_err();
    assert_eq!(err["code"], -32602, "{err}");
    assert!(err.to_string().contains("sink_file"), "{err}");
    let inputs = json!({"user": "alice", "store_secret_in_state": false});
    let (result, _) = e
        .call_text("create", json!({"type": "aws_iam_access_key", "inputs": inputs}))
        .await;
    assert!(result.unwrap_err().to_string().contains("no sink is set"));
    assert_eq!(e.key_count("aws-iam").await, before, "no key was created");
}

/// The whole lifecycle through the engine, rotation included: no reply and no state ever holds
/// the secret; the file always holds the current key.
#[tokio::test]
async fn no_secret_in_any_reply_or_state_through_a_lifecycle() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let backend = dir.path().join("state.json");
    let sink = dir.path().join("ci.env");
    let key = |keepers: &str| {
        json!({"type": "aws_iam_access_key", "name": "key", "inputs": {
            "user": "alice", "sink_file": sink, "sink_file_format": "dotenv",
            "store_secret_in_state": false, "keepers": {"v": keepers}}})
    };
    let mut replies = String::new();
    let mut run = async |action: &str, resources: Vec<Value>| {
        let open = json!({"stack": "t", "action": action, "backend": backend, "passphrase": "pw"});
        let (opened, text) = e.call_text("engine.open", open).await;
        replies.push_str(&text);
        let d = opened.unwrap()["deployment"].clone();
        for mut r in resources {
            r["deployment"] = d.clone();
            let (result, text) = e.call_text("engine.register", r).await;
            replies.push_str(&text);
            result.unwrap();
        }
        let (closed, text) = e.call_text("engine.close", json!({"deployment": d})).await;
        replies.push_str(&text);
        closed.unwrap()
    };
    run("up", vec![key("1")]).await;
    let first = std::fs::read_to_string(&sink).unwrap();
    let first_secret = first
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("AWS_SECRET_ACCESS_KEY=")
        .unwrap()
        .to_string();
    run("preview", vec![key("2")]).await;
    run("up", vec![key("2")]).await;
    let snapshot = std::fs::read_to_string(&backend).unwrap();
    let dotenv = std::fs::read_to_string(&sink).unwrap();
    let id = dotenv
        .lines()
        .next()
        .unwrap()
        .strip_prefix("AWS_ACCESS_KEY_ID=")
        .unwrap()
        .to_string();
    let secret = e.secret_of(&id).await;
    assert_eq!(
        dotenv,
        format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    );
    assert_eq!(mode(&sink), 0o600);
    run("destroy", vec![]).await;
    assert!(!sink.exists(), "destroy withdraws the current key's file");
    // Both keys of the run: neither secret was in a reply or the state.
    let state: Value = serde_json::from_str(&snapshot).unwrap();
    let outputs = state.to_string();
    assert!(
        !outputs.contains("\"secret\":"),
        "the state has no secret attribute: {outputs}"
    );
    assert!(outputs.contains(&fingerprint(&secret)), "the state has the fingerprint");
    assert!(
        !dotenv.contains(&first_secret),
        "the rotated key replaced the first one in the file"
    );
    for text in [&replies, &snapshot] {
        assert!(!text.contains(&secret) && !text.contains(&first_secret));
    }
}
