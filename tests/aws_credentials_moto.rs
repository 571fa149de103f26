//! The AWS credential chain against moto's STS and IAM, through the real binary with the SDKs'
//! standard variables: web identity (OIDC in CI), `configure`'s `assume_role`, a
//! `credential_process` profile whose credentials are cached, and a short-lived one that is
//! refreshed before it expires.
//!
//! Needs `MOTO_SERVER` (see tests/aws_common/moto.rs); fails, never skips, without it.

mod aws_common;

use aws_common::moto::{ALLOW_ALL, BOOTSTRAP_CALLS, bootstrap, start_moto};
use aws_common::process::{credential_process, home_with_process, runs};
use aws_common::stdio::StdioProvider;
use aws_common::*;
use serde_json::{Value, json};

/// Creates a key for `user` through `p`, checks it, deletes it, and checks moto holds no key.
async fn create_and_delete(p: &mut StdioProvider, admin: &Admin, user: &str) -> String {
    let created = p.ok("create", json!({"type": TYPE, "inputs": {"user": user}}));
    let id = created["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("AKIA"), "{id}");
    assert_eq!(created["outputs"]["user"], user);
    let (status, body) = admin.call("ListAccessKeys", &[("UserName", user)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&id), "moto does not hold {id}: {body}");
    p.ok("delete", json!({"type": TYPE, "id": id, "outputs": created["outputs"]}));
    let (status, body) = admin.call("ListAccessKeys", &[("UserName", user)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("<AccessKeyId>"), "key left behind: {body}");
    id
}

#[tokio::test]
async fn web_identity_through_moto_sts() {
    // moto refuses unsigned calls once it checks signatures, and AssumeRoleWithWebIdentity is
    // unsigned: this moto does not check them.
    let moto = start_moto(None).await;
    let admin = Admin {
        endpoint: moto.endpoint.clone(),
        access_key_id: "AKIAANYONE0000000000".into(),
        secret: "any".into(),
    };
    admin.create_user("ci-user").await;
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln").unwrap();
    let token = token.display().to_string();
    let web_identity = [
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.as_str()),
        ("AWS_ROLE_SESSION_NAME", "credplane-test"),
        // The generic variable, for STS (called by aws-config) and IAM alike.
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut p = StdioProvider::start(home.path(), &web_identity);
    create_and_delete(&mut p, &admin, "ci-user").await;

    // The same without the token file: nothing else provides credentials.
    let mut p = StdioProvider::start(home.path(), &web_identity[2..]);
    let reply = p.call("create", json!({"type": TYPE, "inputs": {"user": "ci-user"}}));
    assert_eq!(reply["error"]["code"], -32005, "{reply}");
}

#[tokio::test]
async fn assume_role_through_moto_sts() {
    // The set-up calls go before moto checks signatures (moto re-encodes a JSON policy in a form
    // body differently from the client, so it would refuse them): bootstrap, then six more.
    let moto = start_moto(Some(BOOTSTRAP_CALLS + 6)).await;
    let admin = bootstrap(&moto).await;
    admin.create_user("bob").await;
    // A base identity that may only assume the role: creating keys works only as the role.
    admin.create_user("ci").await;
    let assume_only =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let (status, body) = admin
        .call(
            "PutUserPolicy",
            &[
                ("UserName", "ci"),
                ("PolicyName", "assume"),
                ("PolicyDocument", assume_only),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, key) = admin.call("CreateAccessKey", &[("UserName", "ci")]).await;
    assert_eq!(status, 200, "{key}");
    let (ci_id, ci_secret) = (
        xml_text(&key, "AccessKeyId").unwrap(),
        xml_text(&key, "SecretAccessKey").unwrap(),
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let (status, body) = admin
        .call(
            "CreateRole",
            &[("RoleName", "deployer"), ("AssumeRolePolicyDocument", trust)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin
        .call(
            "PutRolePolicy",
            &[
                ("RoleName", "deployer"),
                ("PolicyName", "all"),
                ("PolicyDocument", ALLOW_ALL),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let home = tempfile::tempdir().unwrap();
    let settings = |assume_role: Option<Value>| {
        let mut aws = json!({"access_key_id": ci_id, "secret_access_key": ci_secret, "region": "us-east-1"});
        if let Some(role) = assume_role {
            aws["assume_role"] = role;
        }
        json!({ "aws": aws })
    };
    let env = [
        ("AWS_ENDPOINT_URL_STS", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_IAM", moto.endpoint.as_str()),
    ];
    // The base identity alone is refused.
    let mut p = StdioProvider::start(home.path(), &env);
    p.ok("configure", settings(None));
    let reply = p.call("create", json!({"type": TYPE, "inputs": {"user": "bob"}}));
    assert!(
        reply["error"]["data"]["cloudCode"] == "AccessDenied" || reply.to_string().contains("AccessDenied"),
        "the base identity must not create keys: {reply}"
    );
    // As the role it works.
    p.ok(
        "configure",
        settings(Some(json!({
            "role_arn": "arn:aws:iam::123456789012:role/deployer",
            "session_name": "credplane-test",
            "external_id": "ext-1",
            "duration_seconds": 900
        }))),
    );
    create_and_delete(&mut p, &admin, "bob").await;
}

#[tokio::test]
async fn credential_process_is_cached_and_refreshed_before_expiry() {
    let moto = start_moto(Some(BOOTSTRAP_CALLS)).await;
    let admin = bootstrap(&moto).await;
    admin.create_user("carol").await;
    let env = [("AWS_PROFILE", "ci"), ("AWS_ENDPOINT_URL_IAM", moto.endpoint.as_str())];

    // Valid for an hour: one run serves every call.
    let dir = tempfile::tempdir().unwrap();
    let home = home_with_process(&credential_process(
        dir.path(),
        &admin.access_key_id,
        &admin.secret,
        false,
        3600,
    ));
    let mut p = StdioProvider::start(home.path(), &env);
    create_and_delete(&mut p, &admin, "carol").await;
    assert_eq!(runs(dir.path()), 1, "cached credentials must not be fetched again");

    // Valid for 30 seconds, inside the refresh window: fetched again before every request.
    let dir = tempfile::tempdir().unwrap();
    let home = home_with_process(&credential_process(
        dir.path(),
        &admin.access_key_id,
        &admin.secret,
        false,
        30,
    ));
    let mut p = StdioProvider::start(home.path(), &env);
    create_and_delete(&mut p, &admin, "carol").await;
    assert!(
        runs(dir.path()) >= 2,
        "credentials about to expire must be refreshed, ran {}",
        runs(dir.path())
    );
}
