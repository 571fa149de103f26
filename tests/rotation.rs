//! Built-in rotation (`rotate_after`, `keepers`) end to end on the sandbox clouds: a key is aged by
//! re-dating it in the sandbox (the admin API's `PUT /_sandbox/state`), then the engine replaces
//! it (new key first, the dependent KMS secret updated to the new secret, the old key deleted);
//! a user already at the key limit is refused by `diff`, before anything is created.

use serde_json::{Value, json};
use std::path::Path;

mod rpc_env;

use rpc_env::{Env, env};

impl Env {
    async fn call(&self, method: &str, params: Value) -> Result<Value, Value> {
        self.call_text(method, params).await.0
    }

    /// Opens, registers `resources` concurrently, closes: the close result and each registration's.
    async fn run(&self, backend: &Path, action: &str, resources: &[Value]) -> Result<(Value, Vec<Value>), Value> {
        let open = json!({"stack": "t", "action": action, "backend": backend, "passphrase": "pw"});
        let d = self.call("engine.open", open).await?["deployment"].clone();
        let calls = resources.iter().map(|r| {
            let mut params = r.clone();
            params["deployment"] = d.clone();
            self.call("engine.register", params)
        });
        let results = futures_util::future::join_all(calls).await;
        let closed = self.call("engine.close", json!({"deployment": d})).await?;
        let registered = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok((closed, registered))
    }

    /// Re-dates the key `id` in the sandbox `days` days back, in every cloud that holds it.
    async fn age(&self, id: &str, days: i64) {
        let mut state = self.state().await;
        let when = (chrono::Utc::now() - chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%SZ");
        assert!(
            redate(&mut state, id, &when.to_string()),
            "the sandbox holds no key {id}"
        );
        self.admin(reqwest::Method::PUT, "state", Some(state)).await;
    }

    /// The ids of the keys of a user, as the sandbox holds them.
    async fn key_ids(&self, cloud: &str) -> Vec<String> {
        let state = self.state().await;
        let mut ids = vec![];
        collect_ids(&state[cloud], &mut ids);
        ids.sort();
        ids
    }

    async fn provider(&self, method: &str, params: Value) -> Result<Value, Value> {
        self.call(method, params).await
    }
}

/// Sets the creation time of the object whose id is `id`; whether one was found.
fn redate(value: &mut Value, id: &str, when: &str) -> bool {
    match value {
        Value::Object(map) => {
            let is_it = ["access_key_id", "id"]
                .iter()
                .any(|k| map.get(*k).and_then(Value::as_str) == Some(id));
            if is_it {
                for field in ["create_date", "time_created"] {
                    if map.contains_key(field) {
                        map.insert(field.into(), Value::String(when.into()));
                        return true;
                    }
                }
            }
            map.values_mut().any(|v| redate(v, id, when))
        }
        Value::Array(items) => items.iter_mut().any(|v| redate(v, id, when)),
        _ => false,
    }
}

/// Every key id under a cloud's state (IAM `access_key_id`, RAM `keys[].id`, OCI credentials).
fn collect_ids(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(id) = map.get("access_key_id").and_then(Value::as_str) {
                out.push(id.to_string());
            } else if map.contains_key("secret")
                && let Some(id) = map.get("id").and_then(Value::as_str)
            {
                out.push(id.to_string());
            }
            map.values().for_each(|v| collect_ids(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

fn reference(resource: &str, property: &str) -> Value {
    json!({"$credplane": "ref", "resource": resource, "property": property})
}

fn iam_key(extra: Value) -> Value {
    let mut inputs = json!({"user": "alice"});
    inputs
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"type": "aws_iam_access_key", "name": "key", "inputs": inputs})
}

/// A KMS secret holding the key's secret, versioned by the key's id (a new key, a new version).
fn holder() -> Value {
    json!({"type": "alicloud_kms_secret", "name": "holder", "inputs": {
        "secret_name": "ci/aws", "version_id": reference("key", "id"),
        "secret_data": reference("key", "secret")}})
}

fn ops(closed: &Value) -> Vec<(String, String, String)> {
    closed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["op"].as_str().unwrap().to_string(),
                s["note"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn step(name: &str, op: &str, note: &str) -> (String, String, String) {
    (name.into(), op.into(), note.into())
}

fn secret_of(registered: &Value) -> String {
    registered["outputs"]["secret"]["value"].as_str().unwrap().to_string()
}

/// The value of the KMS secret's current version in the sandbox.
async fn kms_value(e: &Env, name: &str) -> String {
    let state = e.state().await;
    let versions = state["alicloud-kms"]["secrets"][name]["versions"]
        .as_array()
        .unwrap()
        .clone();
    let current = versions
        .iter()
        .find(|v| v["stages"].as_array().unwrap().iter().any(|s| s == "ACSCurrent"))
        .unwrap();
    current["data"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_aged_key_is_replaced_its_dependent_updated_and_the_old_key_deleted() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let program = [iam_key(json!({"rotate_after": "90d"})), holder()];
    let (_, first) = e.run(&state, "up", &program).await.unwrap();
    let old_id = first[0]["id"].as_str().unwrap().to_string();
    assert_eq!(kms_value(&e, "ci/aws").await, secret_of(&first[0]));

    let (same, _) = e.run(&state, "preview", &program).await.unwrap();
    assert!(
        ops(&same).iter().all(|(_, op, _)| op == "same"),
        "a young key is left alone: {:?}",
        ops(&same)
    );

    e.age(&old_id, 100).await;
    let (preview, _) = e.run(&state, "preview", &program).await.unwrap();
    let plan = preview["plan"].as_str().unwrap();
    assert!(ops(&preview).contains(&step("key", "replace", "")), "{plan}");
    assert!(ops(&preview).contains(&step("holder", "update", "")), "{plan}");
    assert!(plan.contains("rotate_after") && plan.contains("100 days ago"), "{plan}");
    let key_step = &preview["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "key")
        .unwrap()
        .clone();
    let change = key_step["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rotate_after")
        .unwrap()
        .clone();
    assert!(change["replace"].as_bool().unwrap() && change["reason"].as_str().unwrap().contains("100 days ago"));
    assert_eq!(
        e.key_ids("aws-iam").await.len(),
        2,
        "a preview creates nothing (alice's key and the admin's)"
    );

    let (up, second) = e.run(&state, "up", &program).await.unwrap();
    let steps = ops(&up);
    let new_id = second[0]["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    let updated = steps
        .iter()
        .position(|s| *s == step("holder", "update", ""))
        .expect("holder updated");
    let deleted = steps
        .iter()
        .position(|s| *s == step("key", "delete", "replaced"))
        .expect("old key deleted");
    assert!(
        updated < deleted,
        "the dependent is updated before the old key is deleted: {steps:?}"
    );
    assert!(steps.contains(&step("key", "replace", "")), "{steps:?}");
    assert_eq!(
        kms_value(&e, "ci/aws").await,
        secret_of(&second[0]),
        "the KMS secret holds the new key"
    );
    let ids = e.key_ids("aws-iam").await;
    assert!(ids.contains(&new_id) && !ids.contains(&old_id), "{ids:?}");

    let (again, _) = e.run(&state, "up", &program).await.unwrap();
    assert!(
        ops(&again).iter().all(|(_, op, _)| op == "same"),
        "the new key is young: {:?}",
        ops(&again)
    );
}

#[tokio::test]
async fn a_keepers_change_replaces_the_key() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let v1 = [iam_key(json!({"keepers": {"policy": "1"}})), holder()];
    let (_, first) = e.run(&state, "up", &v1).await.unwrap();
    let v2 = [iam_key(json!({"keepers": {"policy": "2"}})), holder()];
    let (up, second) = e.run(&state, "up", &v2).await.unwrap();
    let steps = ops(&up);
    assert!(steps.contains(&step("key", "replace", "")), "{steps:?}");
    assert!(steps.contains(&step("key", "delete", "replaced")), "{steps:?}");
    assert_ne!(first[0]["id"], second[0]["id"]);
    assert_eq!(kms_value(&e, "ci/aws").await, secret_of(&second[0]));
    let (same, _) = e.run(&state, "up", &v2).await.unwrap();
    assert!(ops(&same).iter().all(|(_, op, _)| op == "same"), "{:?}", ops(&same));
}

#[tokio::test]
async fn a_user_at_the_key_limit_is_refused_before_anything_is_created() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let program = [iam_key(json!({"rotate_after": "90d"})), holder()];
    let (_, first) = e.run(&state, "up", &program).await.unwrap();
    let managed = first[0]["id"].as_str().unwrap().to_string();
    // A second key of alice's, made outside this stack.
    let other = e
        .provider(
            "create",
            json!({"type": "aws_iam_access_key", "inputs": {"user": "alice"}}),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    e.age(&managed, 100).await;
    let before = e.key_ids("aws-iam").await;
    for action in ["preview", "up"] {
        let err = e.run(&state, action, &program).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("maximum of 2 access keys") && text.contains(&managed) && text.contains(&other),
            "{action}: {text}"
        );
        assert_eq!(e.key_ids("aws-iam").await, before, "{action} created nothing");
    }
}

/// Every key type: `diff` of an aged key plans a replacement with the reason; a young one does not.
#[tokio::test]
async fn every_key_type_plans_a_rotation_when_aged() {
    let e = env().await;
    let fixtures = e.admin(reqwest::Method::GET, "fixtures", None).await;
    let oci_user = fixtures["oci-identity"]["alice"]["user"].as_str().unwrap().to_string();
    let cases = [
        ("aws_iam_access_key", json!({"user": "alice"})),
        ("alicloud_ram_access_key", json!({"user_name": "alice"})),
        (
            "oci_identity_auth_token",
            json!({"user_id": oci_user, "description": "ci"}),
        ),
        (
            "oci_identity_customer_secret_key",
            json!({"user_id": oci_user, "display_name": "ci"}),
        ),
    ];
    for (type_name, base) in cases {
        let mut inputs = base.clone();
        inputs["rotate_after"] = json!("30d");
        let checked = e
            .provider("check", json!({"type": type_name, "news": inputs}))
            .await
            .unwrap();
        assert_eq!(checked["failures"], json!([]), "{type_name}");
        let created = e
            .provider("create", json!({"type": type_name, "inputs": checked["inputs"]}))
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap();
        let diff = |news: Value| {
            e.provider(
                "diff",
                json!({"type": type_name, "id": id, "olds": created["outputs"], "news": news}),
            )
        };
        let young = diff(checked["inputs"].clone()).await.unwrap();
        assert_eq!(young["changes"], false, "{type_name}: {young}");
        e.age(id, 31).await;
        let aged = diff(checked["inputs"].clone()).await.unwrap();
        assert_eq!(aged["replaces"], json!(["rotate_after"]), "{type_name}: {aged}");
        let reason = aged["detailedDiff"]["rotate_after"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("31 days ago") && reason.contains("rotate_after 30d"),
            "{type_name}: {reason}"
        );
        assert_eq!(aged["detailedDiff"]["rotate_after"]["kind"], "update-replace");
        // A longer rotate_after: not due, and changing it alone is an in-place no-op.
        let mut longer = checked["inputs"].clone();
        longer["rotate_after"] = json!("60d");
        let relaxed = diff(longer).await.unwrap();
        assert_eq!(relaxed["replaces"], json!([]), "{type_name}: {relaxed}");
        e.provider(
            "delete",
            json!({"type": type_name, "id": id, "outputs": created["outputs"]}),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn check_names_a_bad_rotate_after_and_the_rule() {
    let e = env().await;
    for bad in ["90", "90 days", "0d", "1.5d", "99999w"] {
        let checked = e
            .provider(
                "check",
                json!({"type": "aws_iam_access_key", "news": {"user": "alice", "rotate_after": bad}}),
            )
            .await
            .unwrap();
        let failures = checked["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{bad}: {failures:?}");
        assert_eq!(failures[0]["property"], "rotate_after");
        let reason = failures[0]["reason"].as_str().unwrap();
        assert!(reason.starts_with("must be"), "{bad}: {reason}");
    }
    let checked = e
        .provider(
            "check",
            json!({"type": "oci_identity_auth_token", "news": {"user_id": "ocid1.user.oc1..aaaa", "description": "", "keepers": {"a": 1}}}),
        )
        .await
        .unwrap();
    assert_eq!(checked["failures"][0]["property"], "keepers.a", "{checked}");
}

#[tokio::test]
async fn the_sandbox_state_cannot_be_set_without_the_admin_token() {
    let e = env().await;
    let status = reqwest::Client::new()
        .put(format!("{}/_sandbox/state", e.sandbox.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

/// Create-before-delete: while the dependent has not taken the new key, the old one stays.
#[tokio::test]
async fn a_failed_dependent_update_keeps_the_old_key_until_an_up_succeeds() {
    let e = env().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let program = [iam_key(json!({"rotate_after": "90d"})), holder()];
    let (_, first) = e.run(&state, "up", &program).await.unwrap();
    let old_id = first[0]["id"].as_str().unwrap().to_string();
    e.age(&old_id, 100).await;
    let faults = json!({"error_rate": 1.0, "actions": ["PutSecretValue"]});
    e.admin(reqwest::Method::PUT, "faults", Some(faults)).await;
    // A short update timeout: the KMS client would otherwise retry the 5xx answers for long.
    let mut impatient = holder();
    impatient["options"] = json!({"customTimeouts": {"update": 1}});
    let err = e.run(&state, "up", &[program[0].clone(), impatient]).await.unwrap_err();
    assert!(err.to_string().contains("holder"), "{err}");
    let ids = e.key_ids("aws-iam").await;
    assert!(
        ids.contains(&old_id),
        "the old key stays while the KMS secret holds it: {ids:?}"
    );
    assert_eq!(
        kms_value(&e, "ci/aws").await,
        secret_of(&first[0]),
        "the KMS secret still holds the old key"
    );

    e.admin(reqwest::Method::PUT, "faults", Some(json!({}))).await;
    let (up, second) = e.run(&state, "up", &program).await.unwrap();
    let steps = ops(&up);
    assert!(steps.contains(&step("holder", "update", "")), "{steps:?}");
    assert!(steps.contains(&step("key", "delete", "replaced")), "{steps:?}");
    let ids = e.key_ids("aws-iam").await;
    assert!(!ids.contains(&old_id), "{ids:?}");
    assert_eq!(kms_value(&e, "ci/aws").await, secret_of(&second[0]));
}

/// The key limit of RAM and OCI, through `diff` directly: refused, naming the keys.
#[tokio::test]
async fn diff_names_the_keys_of_an_owner_at_the_limit_in_every_cloud() {
    let e = env().await;
    let fixtures = e.admin(reqwest::Method::GET, "fixtures", None).await;
    let oci_user = fixtures["oci-identity"]["alice"]["user"].as_str().unwrap().to_string();
    let cases = [
        (
            "alicloud_ram_access_key",
            json!({"user_name": "alice"}),
            "user_name",
            "access keys",
        ),
        (
            "oci_identity_auth_token",
            json!({"user_id": oci_user, "description": "ci"}),
            "user_id",
            "auth tokens",
        ),
        (
            "oci_identity_customer_secret_key",
            json!({"user_id": oci_user, "display_name": "ci"}),
            "user_id",
            "customer secret keys",
        ),
    ];
    for (type_name, base, owner, noun) in cases {
        let mut managed = base.clone();
        managed["rotate_after"] = json!("30d");
        let created = e
            .provider("create", json!({"type": type_name, "inputs": managed}))
            .await
            .unwrap();
        let other = e
            .provider("create", json!({"type": type_name, "inputs": base}))
            .await
            .unwrap();
        let (id, other_id) = (created["id"].as_str().unwrap(), other["id"].as_str().unwrap());
        e.age(id, 31).await;
        let err = e
            .provider(
                "diff",
                json!({"type": type_name, "id": id, "olds": created["outputs"], "news": managed}),
            )
            .await
            .unwrap_err();
        assert_eq!(err["code"], -32602, "{type_name}: {err}");
        let failure = &err["data"]["failures"][0];
        assert_eq!(failure["property"], owner, "{type_name}: {err}");
        let reason = failure["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("maximum of 2 {noun}")) && reason.contains(id) && reason.contains(other_id),
            "{type_name}: {reason}"
        );
        for r in [&created, &other] {
            e.provider(
                "delete",
                json!({"type": type_name, "id": r["id"], "outputs": r["outputs"]}),
            )
            .await
            .unwrap();
        }
    }
}
