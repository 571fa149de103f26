//! "A CI job with only an OIDC token and a role ARN can run `up`": the engine CLI
//! (`credplane up -- <program>`) in a clean environment whose only credentials are an OIDC
//! token file and a role ARN, the way GitHub Actions and Alibaba Cloud's RRSA provide them.
//!
//! - AWS: `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, with STS and IAM at moto through the
//!   SDKs' standard `AWS_ENDPOINT_URL`. Then `credplane destroy` deletes the key the same way.
//! - Alibaba Cloud: `ALIBABA_CLOUD_ROLE_ARN` + `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` +
//!   `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, with STS at the sandbox (`ALIBABA_CLOUD_STS_ENDPOINT`);
//!   the program points RAM at the sandbox with `configure` (an endpoint, no credential).
//!
//! The program is a shell script speaking JSON-RPC to `$CREDPLANE_ENGINE` with curl, as any
//! language host would. Needs `MOTO_SERVER` (see tests/aws_common/moto.rs) and `curl`.

mod aws_common;

use aws_common::moto::start_moto;
use aws_common::{Admin, xml_text};
use credplane::sandbox::SandboxOptions;
use credplane::sandbox::alicloud::sts::{OIDC_PROVIDER_ARN, ROLE_ARN, oidc_token};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

/// `credplane <args>` with only `PATH`, `HOME`, a state passphrase and `env`.
fn credplane(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_credplane"));
    command
        .args(args)
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("CREDPLANE_PASSPHRASE", "ci passphrase for the state file")
        // No EC2 metadata service here: do not wait for one.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run credplane")
}

/// A program that sends `calls` (JSON-RPC requests, `{deployment}` replaced) to the engine in
/// order, writes each reply to `<out>.<n>`, and fails unless the last one has a result.
fn program(dir: &Path, calls: &[Value]) -> String {
    let mut script = String::from("set -eu\n");
    for (n, call) in calls.iter().enumerate() {
        let body = call.to_string().replace("{deployment}", "'\"$CREDPLANE_DEPLOYMENT\"'");
        script.push_str(&format!(
            "curl -sS -H \"authorization: Bearer $CREDPLANE_ENGINE_TOKEN\" -H 'content-type: application/json' \
             --data '{body}' \"$CREDPLANE_ENGINE\" > {out}.{n}\n",
            out = dir.join("reply").display()
        ));
    }
    let last = dir.join("reply").display().to_string() + &format!(".{}", calls.len() - 1);
    script.push_str(&format!("grep -q '\"result\"' {last}\n"));
    let path = dir.join("program.sh");
    std::fs::write(&path, script).unwrap();
    path.display().to_string()
}

fn reply(dir: &Path, n: usize) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("reply.{n}"))).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn register(type_name: &str, inputs: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "engine.register", "params": {
        "deployment": "{deployment}", "type": type_name, "name": "ci-key", "inputs": inputs
    }})
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn aws_up_and_destroy_with_only_a_web_identity_token_and_a_role_arn() {
    let moto = start_moto(None).await;
    let admin = Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: "AKIAANYONE0000000000".into(),
        secret: "any".into(),
    };
    admin.create_user("ci-user").await;
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("oidc-token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNpIn0.c2ln").unwrap();
    let token = token.display().to_string();
    let env = [
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.as_str()),
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
    ];
    let program = program(
        home.path(),
        &[register("aws_iam_access_key", json!({"user": "ci-user"}))],
    );
    let state = home.path().join("state").display().to_string();
    let up = credplane(
        home.path(),
        &["up", "--stack", "ci", "--state", &state, "--", "sh", &program],
        &env,
    );
    assert_success("up", &up);
    let id = reply(home.path(), 0)["result"]["id"]
        .as_str()
        .expect("a key id")
        .to_string();
    let (status, keys) = admin.call("ListAccessKeys", &[("UserName", "ci-user")]).await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(xml_text(&keys, "AccessKeyId").as_deref(), Some(id.as_str()), "{keys}");

    let destroy = credplane(home.path(), &["destroy", "--stack", "ci", "--state", &state], &env);
    assert_success("destroy", &destroy);
    let (_, keys) = admin.call("ListAccessKeys", &[("UserName", "ci-user")]).await;
    assert!(!keys.contains("<AccessKeyId>"), "key left behind: {keys}");
}

// `credplane up` is awaited with a blocking call: the sandbox needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alicloud_up_with_only_an_rrsa_token_and_a_role_arn() {
    let sandbox = credplane::sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("oidc-token");
    std::fs::write(&token, oidc_token("ci-job", 3600)).unwrap();
    let token = token.display().to_string();
    let env = [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER_ARN),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token.as_str()),
        ("ALIBABA_CLOUD_STS_ENDPOINT", sandbox.url.as_str()),
    ];
    let configure = json!({"jsonrpc": "2.0", "id": 1, "method": "configure",
        "params": {"alicloud": {"ram_endpoint": sandbox.url}}});
    let program = program(
        home.path(),
        &[
            configure,
            register("alicloud_ram_access_key", json!({"user_name": "alice"})),
        ],
    );
    let state = home.path().join("state").display().to_string();
    let up = credplane(
        home.path(),
        &["up", "--stack", "ci", "--state", &state, "--", "sh", &program],
        &env,
    );
    assert_success("up", &up);
    assert!(
        reply(home.path(), 0).get("result").is_some(),
        "{}",
        reply(home.path(), 0)
    );
    let id = reply(home.path(), 1)["result"]["id"]
        .as_str()
        .expect("a key id")
        .to_string();

    // The sandbox holds the key, made by the role's STS session.
    let state = reqwest::Client::new()
        .get(format!("{}/_sandbox/state", sandbox.url))
        .bearer_auth(sandbox.admin_token())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(state.contains(&id), "the sandbox does not hold {id}");
}
