//! AWS credentials and partitions without a cloud: the SigV4 scope a capture server receives per
//! partition, and the -32005 errors of credential sources that fail (naming the source, never a
//! value), including credentials that stay expired after one refresh.

mod aws_common;

use aws_common::capture::{Capture, iam_error};
use aws_common::process::{credential_process, home_with_process, runs};
use aws_common::stdio::StdioProvider;
use aws_common::*;
use serde_json::json;

/// The credential scope (`<date>/<region>/<service>/aws4_request`) of a SigV4 Authorization header.
fn scope(authorization: &str) -> String {
    let credential = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .unwrap_or_else(|| panic!("no Credential in {authorization:?}"));
    credential.splitn(3, '/').nth(2).unwrap().to_string()
}

/// What a capture server saw when a provider configured for `aws` created a key.
async fn scope_seen(aws: serde_json::Value) -> Vec<String> {
    let capture = Capture::start(403, iam_error("AccessDenied"));
    let mut settings = aws;
    settings["endpoint"] = json!(capture.url);
    settings["access_key_id"] = json!("AKIAIOSFODNN7EXAMPLE");
    settings["secret_access_key"] = json!("x".repeat(40));
    let p = provider(json!({ "aws": settings }));
    let err = create(&p, json!({"user": "alice"}), Some(5.0))
        .await
        .expect_err("AccessDenied");
    assert_eq!(err.to_wire().1.cloud_code.as_deref(), Some("AccessDenied"), "{err}");
    let seen = capture.seen();
    assert!(!seen.is_empty(), "the capture server saw no request");
    seen.iter().map(|s| scope(&s.headers["authorization"])).collect()
}

#[tokio::test]
async fn signing_scope_follows_the_partition() {
    for (region, want) in [
        ("us-east-1", "us-east-1/iam/aws4_request"),
        ("eu-west-1", "us-east-1/iam/aws4_request"),
        ("cn-north-1", "cn-north-1/iam/aws4_request"),
        ("cn-northwest-1", "cn-north-1/iam/aws4_request"),
        ("us-gov-west-1", "us-gov-west-1/iam/aws4_request"),
        ("us-gov-east-1", "us-gov-west-1/iam/aws4_request"),
        ("us-isob-east-1", "us-isob-east-1/iam/aws4_request"),
    ] {
        let scopes = scope_seen(json!({ "region": region })).await;
        assert!(
            scopes.iter().all(|s| s == want),
            "{region}: want {want}, saw {scopes:?}"
        );
    }
    // An explicit signing region wins over the partition's.
    let scopes = scope_seen(json!({"region": "cn-north-1", "signing_region": "cn-northwest-1"})).await;
    assert!(
        scopes.iter().all(|s| s == "cn-northwest-1/iam/aws4_request"),
        "{scopes:?}"
    );
}

#[test]
fn expired_credentials_are_refreshed_once_then_reported() {
    let capture = Capture::start(403, iam_error("ExpiredToken"));
    let dir = tempfile::tempdir().unwrap();
    let secret = "SECRETVALUEFROMPROCESS0000000000000000000";
    let home = home_with_process(&credential_process(
        dir.path(),
        "ASIAPROCESS000000001",
        secret,
        true,
        3600,
    ));
    let mut p = StdioProvider::start(
        home.path(),
        &[("AWS_PROFILE", "ci"), ("AWS_ENDPOINT_URL_IAM", &capture.url)],
    );
    let reply = p.call(
        "create",
        json!({"type": TYPE, "inputs": {"user": "alice"}, "timeoutSeconds": 10}),
    );
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("profile ci"), "names the source: {message}");
    assert!(message.contains("after one refresh"), "{message}");
    assert!(
        !message.contains(secret) && !message.contains("token-"),
        "leaks a value: {message}"
    );
    // Loaded once, refreshed once; each set signed one request.
    assert_eq!(runs(dir.path()), 2);
    let tokens: Vec<String> = capture
        .seen()
        .iter()
        .map(|s| s.headers["x-amz-security-token"].clone())
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_ne!(tokens[0], tokens[1], "the retry must use the refreshed credentials");
}

#[test]
fn a_failing_source_is_named_without_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fail.sh");
    std::fs::write(&script, "#!/bin/sh\necho 'wJalrXUtnFEMI/LEAKED' >&2\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let home = home_with_process(&script.display().to_string());
    let mut p = StdioProvider::start(
        home.path(),
        &[("AWS_PROFILE", "ci"), ("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9/")],
    );
    let reply = p.call("create", json!({"type": TYPE, "inputs": {"user": "alice"}}));
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("profile ci"), "{message}");
    assert!(message.contains("exited"), "says why: {message}");
    assert!(!message.contains("LEAKED"), "{message}");

    // A web identity token file that does not exist.
    let home = tempfile::tempdir().unwrap();
    let mut p = StdioProvider::start(
        home.path(),
        &[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9/"),
        ],
    );
    let reply = p.call("create", json!({"type": TYPE, "inputs": {"user": "alice"}}));
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("web identity"), "{message}");
}

#[test]
fn no_credentials_anywhere() {
    let home = tempfile::tempdir().unwrap();
    let mut p = StdioProvider::start(home.path(), &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9/")]);
    let reply = p.call("create", json!({"type": TYPE, "inputs": {"user": "alice"}}));
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    for source in ["environment", "profile default", "web identity", "ECS", "IMDS"] {
        assert!(message.contains(source), "lists {source}: {message}");
    }
}
