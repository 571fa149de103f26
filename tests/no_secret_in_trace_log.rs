//! Issue 10 item 1: at `RUST_LOG=trace`, nothing secret reaches stderr over either transport:
//! not the cloud secrets given to `configure`, not a secret minted by a create, not the bearer token.
//! Each run: a full lifecycle of all five types on the in-process sandbox, errors, then
//! `configure` with marker secrets for all three clouds and calls that sign with them.

mod hardening;

use hardening::{Http1, Stdio1, TOKEN};
use serde_json::{Value, json};

const ALICE_OCI: &str = "ocid1.user.oc1..aaaaaaaaalice";
const MARKER: &str = "MARKER-7f3a9c-secret";

/// Calls one method, over whichever transport.
trait Call {
    fn call(&mut self, method: &str, params: Value) -> Value;
}

impl Call for Stdio1 {
    fn call(&mut self, method: &str, params: Value) -> Value {
        Stdio1::call(self, method, params)
    }
}

impl Call for Http1 {
    fn call(&mut self, method: &str, params: Value) -> Value {
        Http1::call(self, method, params)
    }
}

/// Every string inside a `{"$credplane": "secret", "value": ...}` envelope.
fn secrets_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if map.get("$credplane") == Some(&json!("secret")) => {
            collect_strings(map.get("value").unwrap_or(&Value::Null), out)
        }
        Value::Object(map) => map.values().for_each(|v| secrets_in(v, out)),
        Value::Array(items) => items.iter().for_each(|v| secrets_in(v, out)),
        _ => {}
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() >= 8 => out.push(s.clone()),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn result(reply: Value, what: &str) -> Value {
    assert!(reply.get("error").is_none(), "{what}: {reply}");
    reply["result"].clone()
}

fn secret(value: &str) -> Value {
    json!({"$credplane": "secret", "value": value})
}

/// Check, create, read, update and delete one resource; returns the secrets seen in replies.
fn lifecycle(p: &mut dyn Call, ty: &str, news: Value, changed: Value) -> Vec<String> {
    let mut seen = Vec::new();
    let inputs = result(p.call("check", json!({"type": ty, "news": news})), "check")["inputs"].clone();
    let created = result(
        p.call("create", json!({"type": ty, "inputs": inputs})),
        &format!("create {ty}"),
    );
    secrets_in(&created, &mut seen);
    let id = created["id"].as_str().unwrap().to_string();
    let outputs = created["outputs"].clone();
    let read = result(
        p.call(
            "read",
            json!({"type": ty, "id": id, "inputs": inputs, "outputs": outputs}),
        ),
        &format!("read {ty}"),
    );
    secrets_in(&read, &mut seen);
    let mut changed_inputs = inputs.clone();
    for (k, v) in changed.as_object().unwrap() {
        changed_inputs[k] = v.clone();
    }
    let news = result(
        p.call("check", json!({"type": ty, "olds": inputs, "news": changed_inputs})),
        "check",
    )["inputs"]
        .clone();
    let updated = result(
        p.call("update", json!({"type": ty, "id": id, "olds": outputs, "news": news})),
        &format!("update {ty}"),
    );
    secrets_in(&updated, &mut seen);
    result(
        p.call("delete", json!({"type": ty, "id": id, "outputs": updated["outputs"]})),
        &format!("delete {ty}"),
    );
    seen
}

/// The whole scenario; returns every secret a reply carried, plus the markers.
fn scenario(p: &mut dyn Call) -> Vec<String> {
    let mut secrets = Vec::new();
    secrets.extend(lifecycle(
        p,
        "aws_iam_access_key",
        json!({"user": "alice", "status": "Active"}),
        json!({"status": "Inactive"}),
    ));
    secrets.extend(lifecycle(
        p,
        "alicloud_ram_access_key",
        json!({"user_name": "alice", "status": "Active"}),
        json!({"status": "Inactive"}),
    ));
    secrets.extend(lifecycle(
        p,
        "oci_identity_auth_token",
        json!({"description": "trace test", "user_id": ALICE_OCI}),
        json!({"description": "renamed"}),
    ));
    secrets.extend(lifecycle(
        p,
        "oci_identity_customer_secret_key",
        json!({"display_name": "trace test", "user_id": ALICE_OCI}),
        json!({"display_name": "renamed"}),
    ));
    let kms_one = format!("{MARKER}-kms-data-1");
    let kms_two = format!("{MARKER}-kms-data-2");
    secrets.extend(lifecycle(
        p,
        "alicloud_kms_secret",
        json!({"secret_name": "trace/test", "version_id": "v1", "secret_data": secret(&kms_one)}),
        json!({"version_id": "v2", "secret_data": secret(&kms_two)}),
    ));
    assert!(secrets.len() >= 4, "the lifecycle minted secrets: {secrets:?}");
    secrets.extend([kms_one, kms_two]);

    // Errors, some of them carrying a secret in the request.
    let bad_kms = json!({"type": "alicloud_kms_secret", "inputs": {"secret_name": "", "version_id": "v1", "secret_data": secret(MARKER)}});
    assert!(p.call("create", bad_kms).get("error").is_some());
    assert!(p.call("nope", json!({"x": MARKER})).get("error").is_some());
    let absent_user =
        json!({"type": "aws_iam_access_key", "inputs": {"user": "nobody-here", "status": "Active", "pgp_key": MARKER}});
    assert!(p.call("create", absent_user).get("error").is_some());

    // Marker secrets for every cloud, then calls that sign with them (and fail).
    let markers = [
        json!({"aws": {"access_key_id": "AKIAMARKER", "secret_access_key": format!("{MARKER}-aws"), "session_token": format!("{MARKER}-sts")}}),
        json!({"alicloud": {"access_key_id": "LTAIMARKER", "access_key_secret": format!("{MARKER}-ali")}}),
        json!({"oci": {"private_key": format!("-----BEGIN PRIVATE KEY-----\n{MARKER}-oci\n-----END PRIVATE KEY-----\n"), "pass_phrase": format!("{MARKER}-pass")}}),
    ];
    for settings in markers {
        p.call("configure", settings);
    }
    for (ty, inputs) in [
        ("aws_iam_access_key", json!({"user": "alice", "status": "Active"})),
        (
            "alicloud_ram_access_key",
            json!({"user_name": "alice", "status": "Active"}),
        ),
        (
            "oci_identity_auth_token",
            json!({"description": "d", "user_id": ALICE_OCI}),
        ),
    ] {
        let reply = p.call("create", json!({"type": ty, "inputs": inputs, "timeoutSeconds": 10}));
        assert!(
            reply.get("error").is_some(),
            "signed with a marker secret, {ty} must fail: {reply}"
        );
    }
    secrets.push(MARKER.into());
    secrets
}

fn assert_clean(log: &str, secrets: &[String]) {
    assert!(
        log.contains("TRACE") || log.contains("DEBUG") || log.contains("INFO"),
        "the log is not empty, so the check means something:\n{log}"
    );
    for secret in secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret ({}…) is in the trace log",
            &secret[..6]
        );
    }
}

#[test]
fn stdio_trace_log_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let mut p = Stdio1::start(&["--sandbox"], Some(&log), &[("RUST_LOG", "trace")]);
    let secrets = scenario(&mut p);
    p.finish();
    assert_clean(&std::fs::read_to_string(&log).unwrap(), &secrets);
}

#[test]
fn http_trace_log_holds_no_secret_and_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    // Set in the environment so the server prints no generated token (that print is deliberate).
    let mut p = Http1::start_with_env(&["--sandbox"], &log, TOKEN, &[("RUST_LOG", "trace")]);
    let mut secrets = scenario(&mut p);
    drop(p);
    secrets.push(TOKEN.into());
    assert_clean(&std::fs::read_to_string(&log).unwrap(), &secrets);
}
