//! The Alibaba Cloud credential chain against the sandbox's STS and ECS metadata emulation:
//! every mode (environment AccessKey with an STS token, the OIDC role, the ECS RAM role, and the
//! `~/.aliyun/config.json` modes AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole,
//! OIDC) creates and deletes a RAM AccessKey with the credentials it yields; failures are
//! -32005 errors naming the source; an expired session is fetched again once, then reported.
//!
//! The environment and the home directory are injected into `config::resolve`, so the tests
//! never touch the process environment.

use axum::response::IntoResponse;
use credplane::cloud::alicloud::client::RpcClient;
use credplane::cloud::alicloud::config::resolve;
use credplane::cloud::alicloud::credentials::{CredentialChain, Source};
use credplane::cloud::alicloud::ram::RamClient;
use credplane::cloud::alicloud::settings::AlicloudSettings;
use credplane::cloud::call::Call;
use credplane::cloud::clouds::Clouds;
use credplane::cloud::error::CloudError;
use credplane::cloud::retry::RetryPolicy;
use credplane::protocol::{ConfigureRequest, ErrorCode};
use credplane::provider::error::ProviderError;
use credplane::resources::Context;
use credplane::sandbox::alicloud::metadata::ECS_ROLE_NAME;
use credplane::sandbox::alicloud::sts::{OIDC_PROVIDER_ARN, ROLE_ARN, oidc_token};
use credplane::sandbox::alicloud::{ADMIN_KEY_ID, ADMIN_KEY_SECRET};
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

async fn sandbox() -> SandboxHandle {
    credplane::sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap()
}

fn ctx() -> Context {
    Context {
        call: Call::new(
            Default::default(),
            tokio::time::Instant::now() + std::time::Duration::from_secs(30),
        ),
        clouds: Arc::new(Clouds::new(ConfigureRequest::default())),
    }
}

fn settings(sandbox: &SandboxHandle) -> AlicloudSettings {
    AlicloudSettings {
        sts_endpoint: Some(sandbox.url.clone()),
        ..Default::default()
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn home_with(profiles: Value, current: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aliyun")).unwrap();
    let config = json!({"current": current, "profiles": profiles});
    std::fs::write(home.path().join(".aliyun/config.json"), config.to_string()).unwrap();
    home
}

fn chain(
    settings: &AlicloudSettings,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Arc<CredentialChain> {
    let resolved = resolve(settings, env, home).unwrap();
    Arc::new(CredentialChain::new(resolved.source, reqwest::Client::new()))
}

fn ram(endpoint: &str, chain: Arc<CredentialChain>) -> RamClient {
    RamClient::new(RpcClient::new(
        "RAM",
        "2015-05-01",
        endpoint.to_string(),
        chain,
        "cn-hangzhou".into(),
        reqwest::Client::new(),
        RetryPolicy::default(),
    ))
}

/// Creates and deletes an AccessKey of `alice` with the chain's credentials; returns the key id
/// the calls were signed with.
async fn round_trip(sandbox: &SandboxHandle, chain: Arc<CredentialChain>) -> String {
    let signer = chain.current().await.unwrap().access_key_id;
    let ram = ram(&sandbox.url, chain);
    let ctx = ctx();
    let key = ram.create_access_key(&ctx, Some("alice")).await.unwrap();
    assert!(key.access_key_secret.is_some());
    ram.delete_access_key(&ctx, Some("alice"), &key.access_key_id)
        .await
        .unwrap();
    assert!(ram.list_access_keys(&ctx, Some("alice")).await.unwrap().is_empty());
    signer
}

fn oidc_file(dir: &Path, seconds: i64) -> String {
    let path = dir.join("oidc-token");
    std::fs::write(&path, oidc_token("ci-job", seconds)).unwrap();
    path.display().to_string()
}

/// The RRSA environment: the OIDC role with its token in `file`, STS at the sandbox.
fn oidc_env(sandbox: &SandboxHandle, file: &str) -> impl Fn(&str) -> Option<String> + use<> {
    env_of(&[
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER_ARN),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", file),
        ("ALIBABA_CLOUD_STS_ENDPOINT", &sandbox.url),
    ])
}

/// A session issued by the sandbox's STS to the admin key: `(id, secret, token)`.
async fn assumed_session(sandbox: &SandboxHandle) -> (String, String, String) {
    let admin = env_of(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ADMIN_KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ADMIN_KEY_SECRET),
    ]);
    let base = resolve(&settings(sandbox), &admin, None).unwrap().source;
    let role = Source::AssumeRole {
        base: Box::new(base),
        role: credplane::cloud::alicloud::credentials::RoleRequest {
            role_arn: ROLE_ARN.into(),
            session_name: "tests".into(),
            duration_seconds: 900,
            policy: None,
            external_id: None,
            sts_endpoint: sandbox.url.clone(),
        },
        origin: "test".into(),
    };
    let key = role.fetch(&reqwest::Client::new()).await.unwrap();
    (
        key.access_key_id,
        key.access_key_secret.expose().clone(),
        key.security_token.unwrap().expose().clone(),
    )
}

#[tokio::test]
async fn environment_sts_token_signs_as_security_token() {
    let sandbox = sandbox().await;
    let (id, secret, token) = assumed_session(&sandbox).await;
    assert!(id.starts_with("STS."), "{id}");
    let env = env_of(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", &token),
    ]);
    assert_eq!(round_trip(&sandbox, chain(&settings(&sandbox), &env, None)).await, id);

    // The same key without its token, or with another, is refused by RAM.
    let ctx = ctx();
    for bad in [None, Some("CAISnot-the-token")] {
        let mut pairs = vec![
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", id.as_str()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.as_str()),
        ];
        if let Some(t) = bad {
            pairs.push(("ALIBABA_CLOUD_SECURITY_TOKEN", t));
        }
        let err = ram(&sandbox.url, chain(&settings(&sandbox), &env_of(&pairs), None))
            .list_access_keys(&ctx, Some("alice"))
            .await
            .unwrap_err();
        assert!(
            err.code().is_some_and(|c| c.starts_with("InvalidSecurityToken")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn oidc_role_from_the_environment() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let file = oidc_file(dir.path(), 600);
    let env = oidc_env(&sandbox, &file);
    let chain = chain(&AlicloudSettings::default(), &env, None);
    let signer = round_trip(&sandbox, chain.clone()).await;
    assert!(signer.starts_with("STS."), "{signer}");
    // Cached: the second use signs with the same session.
    assert_eq!(chain.current().await.unwrap().access_key_id, signer);
}

#[tokio::test]
async fn ecs_ram_role_from_the_metadata_service_with_its_token() {
    let sandbox = sandbox().await;
    let env = env_of(&[
        ("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE_NAME),
        ("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", &sandbox.url),
    ]);
    let signer = round_trip(&sandbox, chain(&AlicloudSettings::default(), &env, None)).await;
    assert!(signer.starts_with("STS."), "{signer}");

    // Hardened mode: a read without the metadata token is refused.
    let plain = reqwest::get(format!(
        "{}/latest/meta-data/ram/security-credentials/{ECS_ROLE_NAME}",
        sandbox.url
    ))
    .await
    .unwrap();
    assert_eq!(plain.status().as_u16(), 401);
}

#[tokio::test]
async fn every_config_json_mode() {
    let sandbox = sandbox().await;
    let (id, secret, token) = assumed_session(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let file = oidc_file(dir.path(), 600);
    let ak = json!({"name": "ak", "mode": "AK", "access_key_id": ADMIN_KEY_ID, "access_key_secret": ADMIN_KEY_SECRET});
    let profiles = json!([
        ak,
        {"name": "sts", "mode": "StsToken", "access_key_id": id, "access_key_secret": secret, "sts_token": token},
        {"name": "role", "mode": "RamRoleArn", "access_key_id": ADMIN_KEY_ID, "access_key_secret": ADMIN_KEY_SECRET,
         "ram_role_arn": ROLE_ARN, "ram_session_name": "from-profile", "expired_seconds": 900},
        {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "role", "ram_role_arn": ROLE_ARN},
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": ECS_ROLE_NAME},
        {"name": "oidc", "mode": "OIDC", "ram_role_arn": ROLE_ARN, "oidc_provider_arn": OIDC_PROVIDER_ARN,
         "oidc_token_file": file},
        {"name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop", "ram_role_arn": ROLE_ARN},
    ]);
    let home = home_with(profiles, "ak");
    let mut signers = Vec::new();
    for profile in ["ak", "sts", "role", "chained", "ecs", "oidc"] {
        let s = AlicloudSettings {
            profile: Some(profile.into()),
            ecs_metadata_endpoint: Some(sandbox.url.clone()),
            ..settings(&sandbox)
        };
        signers.push((
            profile,
            round_trip(&sandbox, chain(&s, &env_of(&[]), Some(home.path()))).await,
        ));
    }
    assert_eq!(signers[0].1, ADMIN_KEY_ID);
    assert_eq!(signers[1].1, id);
    for (profile, signer) in &signers[2..] {
        assert!(signer.starts_with("STS."), "{profile}: {signer}");
    }
    let looped = AlicloudSettings {
        profile: Some("loop".into()),
        ..settings(&sandbox)
    };
    let err = resolve(&looped, &env_of(&[]), Some(home.path())).unwrap_err();
    assert!(err.contains("loop"), "{err}");
}

#[tokio::test]
async fn a_failing_source_is_a_configuration_error_naming_it_without_values() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let expired = oidc_token("ci-job", -60);
    std::fs::write(dir.path().join("oidc-token"), &expired).unwrap();
    let file = dir.path().join("oidc-token").display().to_string();
    let env = oidc_env(&sandbox, &file);
    let err = ram(&sandbox.url, chain(&AlicloudSettings::default(), &env, None))
        .list_access_keys(&ctx(), Some("alice"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CloudError::Credentials { .. }), "{text}");
    assert!(
        text.contains("ALIBABA_CLOUD_ROLE_ARN") && text.contains("AuthenticationFail.OIDCToken.Expired"),
        "{text}"
    );
    assert!(!text.contains(&expired), "{text}");
    let (code, _) = ProviderError::Cloud(err).to_wire();
    assert_eq!(code, ErrorCode::Configuration);
}

/// A RAM stand-in that refuses the first `refusals` calls as `InvalidSecurityToken.Expired`,
/// recording the AccessKey id of every call.
async fn expiring_ram(refusals: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        let log = log.clone();
        let count = count.clone();
        async move {
            let id = url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "AccessKeyId")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            log.lock().unwrap().push(id);
            if count.fetch_add(1, Ordering::SeqCst) < refusals {
                let doc = json!({"Code": "InvalidSecurityToken.Expired", "Message": "Specified SecurityToken is expired.", "RequestId": "r"});
                (axum::http::StatusCode::BAD_REQUEST, doc.to_string()).into_response()
            } else {
                json!({"AccessKeys": {"AccessKey": []}, "RequestId": "r"}).to_string().into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn an_expired_session_is_fetched_again_once_then_reported() {
    let sandbox = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let file = oidc_file(dir.path(), 600);
    let env = oidc_env(&sandbox, &file);

    // Refused once: a new session is fetched and the call succeeds with it.
    let (url, seen) = expiring_ram(1).await;
    ram(&url, chain(&AlicloudSettings::default(), &env, None))
        .list_access_keys(&ctx(), Some("alice"))
        .await
        .unwrap();
    let ids = seen.lock().unwrap().clone();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_ne!(ids[0], ids[1], "the second call must use a new session");

    // Refused every time: one refresh, then a credentials error.
    let (url, seen) = expiring_ram(usize::MAX).await;
    let err = ram(&url, chain(&AlicloudSettings::default(), &env, None))
        .list_access_keys(&ctx(), Some("alice"))
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert!(
        matches!(&err, CloudError::Credentials { reason, .. } if reason.contains("again after one refresh")),
        "{err}"
    );

    // A static token cannot be refreshed: reported at once.
    let (url, seen) = expiring_ram(usize::MAX).await;
    let fixed = env_of(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.fixed"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "CAIS-fixed-token"),
    ]);
    let err = ram(&url, chain(&AlicloudSettings::default(), &fixed, None))
        .list_access_keys(&ctx(), Some("alice"))
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1);
    let text = err.to_string();
    assert!(
        text.contains("ALIBABA_CLOUD_ACCESS_KEY_ID") && !text.contains("CAIS-fixed-token"),
        "{text}"
    );
}
