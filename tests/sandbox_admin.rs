//! The sandbox's admin API (`/_sandbox/*`) holds every secret the sandbox has: it needs the
//! bearer token, and a `Host` that names the sandbox; the emulated clouds stay open.

use credplane::sandbox::{SandboxHandle, SandboxOptions, start};

async fn sandbox(options: SandboxOptions) -> SandboxHandle {
    start(([127, 0, 0, 1], 0).into(), options)
        .await
        .expect("sandbox starts")
}

#[tokio::test]
async fn admin_api_needs_the_bearer_token() {
    let handle = sandbox(SandboxOptions::default()).await;
    let http = reqwest::Client::new();
    for path in ["fixtures", "state", "faults", "in-flight"] {
        let url = format!("{}/_sandbox/{path}", handle.url);
        let anonymous = http.get(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{path} without a token");
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
        let wrong = http.get(&url).bearer_auth("x".repeat(64)).send().await.unwrap();
        assert_eq!(wrong.status(), 401, "{path} with a wrong token");
        let ok = http.get(&url).bearer_auth(handle.admin_token()).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{path} with the token");
    }
    let put = http
        .put(format!("{}/_sandbox/faults", handle.url))
        .json(&serde_json::json!({"next_drops": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 401, "the faults cannot be changed without the token");
    assert!(handle.admin_token_generated());
    assert!(handle.admin_token().len() >= 32);
}

#[tokio::test]
async fn a_given_token_is_used_and_a_short_one_refused() {
    let token = "a-sandbox-admin-token-of-40-characters!!".to_string();
    let handle = sandbox(SandboxOptions {
        admin_token: Some(token.clone()),
        ..Default::default()
    })
    .await;
    assert_eq!(handle.admin_token(), token);
    assert!(!handle.admin_token_generated());
    let short = start(
        ([127, 0, 0, 1], 0).into(),
        SandboxOptions {
            admin_token: Some("too-short".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(short.err().is_some_and(|e| e.to_string().contains("at least 32")));
}

#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let handle = sandbox(SandboxOptions::default()).await;
    let url = format!("{}/_sandbox/state", handle.url);
    let rebinding = reqwest::Client::new()
        .get(&url)
        .bearer_auth(handle.admin_token())
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    let port = handle.url.rsplit(':').next().unwrap();
    let localhost = reqwest::Client::new()
        .get(&url)
        .bearer_auth(handle.admin_token())
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), 200);
}

#[tokio::test]
async fn the_emulated_clouds_need_no_admin_token() {
    let handle = sandbox(SandboxOptions::default()).await;
    // An unsigned IAM call reaches the emulated API, which answers as IAM would (not 401 Bearer).
    let reply = reqwest::Client::new()
        .post(format!("{}/", handle.url))
        .form(&[("Action", "ListAccessKeys"), ("Version", "2010-05-08")])
        .send()
        .await
        .unwrap();
    assert!(reply.headers().get("www-authenticate").is_none());
    assert!(reply.text().await.unwrap().contains("MissingAuthenticationToken"));
}

#[tokio::test]
async fn put_state_restores_what_get_shows_and_persists_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let handle = sandbox(SandboxOptions {
        state_file: Some(file.clone()),
        ..Default::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/_sandbox/state", handle.url);
    let mut state: serde_json::Value = http
        .get(&url)
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["aws-iam"]["users"]["alice"]["create_date"] = "2001-02-03T04:05:06Z".into();
    let put = http
        .put(&url)
        .bearer_auth(handle.admin_token())
        .json(&serde_json::json!({"aws-iam": state["aws-iam"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let after: serde_json::Value = put.json().await.unwrap();
    assert_eq!(
        after["aws-iam"]["users"]["alice"]["create_date"],
        "2001-02-03T04:05:06Z"
    );
    assert_eq!(
        after["oci-identity"], state["oci-identity"],
        "clouds the body leaves out are kept"
    );
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        saved["aws-iam"]["users"]["alice"]["create_date"],
        "2001-02-03T04:05:06Z"
    );
    let bad = http
        .put(&url)
        .bearer_auth(handle.admin_token())
        .json(&serde_json::json!({"aws-iam": {"users": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
