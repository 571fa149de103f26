//! OCI credentials beyond API keys, and regions, against the in-process sandbox: a session-token
//! profile (as `oci session authenticate` writes it) and a resource principal (v2.2), both
//! signing with keyId `ST$<token>`; the realm's endpoint domain; and Identity writes redirected
//! to the tenancy's home region, which the sandbox enforces as the real service does.

use credplane::cloud::oci::client::{CredentialKind, IdentityClient};
use credplane::cloud::oci::principal::resource_principal;
use credplane::cloud::retry::RetryPolicy;
use credplane::cloud::{Call, Clouds};
use credplane::protocol::{ConfigureRequest, ErrorCode};
use credplane::provider::Provider;
use credplane::provider::error::ProviderError;
use credplane::sandbox::oci::ALICE;
use credplane::sandbox::oci_principals::mint_session_token;
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const AUTH: &str = "oci_identity_auth_token";

async fn sandbox() -> SandboxHandle {
    credplane::sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap()
}

fn oci_fixtures(handle: &SandboxHandle) -> Value {
    handle.fixtures()["oci-identity"].clone()
}

fn provider(settings: Value) -> Provider {
    Provider::new(serde_json::from_value(settings).unwrap())
}

async fn create_and_delete(p: &Provider) -> Result<(), ProviderError> {
    let r = p
        .create(
            serde_json::from_value(json!({"type": AUTH, "inputs": {"user_id": ALICE, "description": "ci"}})).unwrap(),
        )
        .await?;
    p.delete(serde_json::from_value(json!({"type": AUTH, "id": r.id, "outputs": r.outputs})).unwrap())
        .await?;
    Ok(())
}

fn session_key() -> (RsaPrivateKey, String) {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    (key, pem)
}

/// A profile as `oci session authenticate` writes it: no `user`, a `security_token_file`.
fn session_profile(dir: &std::path::Path, fixtures: &Value, ttl: i64) -> (std::path::PathBuf, String) {
    let (key, pem) = session_key();
    let token = mint_session_token(fixtures, &RsaPublicKey::from(&key), "user", ttl).unwrap();
    std::fs::write(dir.join("session.pem"), pem).unwrap();
    std::fs::write(dir.join("token"), &token).unwrap();
    let config = format!(
        "[DEFAULT]\nfingerprint=00:00\nkey_file={}\ntenancy={}\nregion=us-ashburn-1\nsecurity_token_file={}\n",
        dir.join("session.pem").display(),
        fixtures["tenancy"].as_str().unwrap(),
        dir.join("token").display()
    );
    std::fs::write(dir.join("config"), config).unwrap();
    (dir.join("config"), token)
}

#[tokio::test]
async fn session_token_profile_signs_with_st_key_id() {
    let sandbox = sandbox().await;
    let fixtures = oci_fixtures(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = session_profile(dir.path(), &fixtures, 3600);
    let settings = json!({"oci": {"config_file": config, "endpoint": sandbox.url}});
    create_and_delete(&provider(settings.clone())).await.unwrap();
    // Selected explicitly too.
    let mut explicit = settings.clone();
    explicit["oci"]["auth"] = json!("security_token");
    create_and_delete(&provider(explicit)).await.unwrap();
}

#[tokio::test]
async fn an_expired_session_token_is_a_configuration_error_naming_the_file() {
    let sandbox = sandbox().await;
    let fixtures = oci_fixtures(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let (config, token) = session_profile(dir.path(), &fixtures, -10);
    let err = create_and_delete(&provider(
        json!({"oci": {"config_file": config, "endpoint": sandbox.url}}),
    ))
    .await
    .unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::Configuration, "{err}");
    assert!(
        data.message.contains("token") && data.message.contains("expired"),
        "{}",
        data.message
    );
    assert!(!data.message.contains(&token));
}

#[tokio::test]
async fn a_session_token_the_service_did_not_issue_is_refused() {
    let sandbox = sandbox().await;
    let mut foreign = oci_fixtures(&sandbox);
    foreign["admin"]["private_key"] = json!("another service's secret");
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = session_profile(dir.path(), &foreign, 3600);
    let err = create_and_delete(&provider(
        json!({"oci": {"config_file": config, "endpoint": sandbox.url}}),
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("NotAuthenticated"), "{err}");
}

#[tokio::test]
async fn resource_principal_v2_2() {
    let sandbox = sandbox().await;
    let fixtures = oci_fixtures(&sandbox);
    let (key, pem) = session_key();
    let rpst = mint_session_token(&fixtures, &RsaPublicKey::from(&key), "resource", 3600).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The token inline, the key as an absolute path: both forms of the v2.2 environment.
    let pem_path = dir.path().join("rp.pem");
    std::fs::write(&pem_path, pem).unwrap();
    let vars: HashMap<&str, String> = [
        ("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2".to_string()),
        ("OCI_RESOURCE_PRINCIPAL_RPST", rpst),
        ("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", pem_path.display().to_string()),
        ("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1".to_string()),
    ]
    .into();
    let principal = resource_principal(&|n: &str| vars.get(n).cloned()).unwrap().unwrap();
    assert_eq!(principal.tenancy.as_deref(), fixtures["tenancy"].as_str());
    assert_eq!(principal.region.as_deref(), Some("us-ashburn-1"));
    assert!(principal.signer.key_id().starts_with("ST$"));
    let client = IdentityClient::new(
        reqwest::Client::new(),
        sandbox.url.clone(),
        principal.signer,
        RetryPolicy::default(),
    );
    let call = Call::new(
        Default::default(),
        tokio::time::Instant::now() + std::time::Duration::from_secs(30),
    );
    let made = client
        .create_credential(&call, CredentialKind::AuthToken, ALICE, "rp", "retry-token-rp-1")
        .await
        .unwrap();
    assert!(made.secret.is_some());
    client
        .delete_credential(&call, CredentialKind::AuthToken, ALICE, &made.id)
        .await
        .unwrap();
}

/// The sandbox's API-key settings in `region`, with `endpoint` (or none, for the real one).
fn api_key_settings(sandbox: &SandboxHandle, region: &str, endpoint: Option<&str>) -> Value {
    let mut oci: Map<String, Value> = serde_json::from_value(sandbox.provider_settings()["oci"].clone()).unwrap();
    oci.insert("region".into(), json!(region));
    match endpoint {
        Some(e) => oci.insert("endpoint".into(), json!(e)),
        None => oci.remove("endpoint"),
    };
    json!({"oci": oci})
}

#[tokio::test]
async fn the_endpoint_domain_follows_the_realm() {
    let sandbox = sandbox().await;
    for (region, endpoint) in [
        ("us-ashburn-1", "https://identity.us-ashburn-1.oraclecloud.com"),
        ("ric", "https://identity.us-gov-ashburn-1.oraclegovcloud.com"),
        ("uk-gov-london-1", "https://identity.uk-gov-london-1.oraclegovcloud.uk"),
        ("ap-chiyoda-1", "https://identity.ap-chiyoda-1.oraclecloud8.com"),
    ] {
        let settings: ConfigureRequest = serde_json::from_value(api_key_settings(&sandbox, region, None)).unwrap();
        let client = Clouds::new(settings).oci_identity().unwrap();
        assert_eq!(client.endpoint(), endpoint, "{region}");
    }
}

#[tokio::test]
async fn writes_go_to_the_home_region() {
    let sandbox = sandbox().await;
    // Configured in Phoenix; the tenancy's home is Ashburn. The endpoint follows the region.
    let template = format!("{}/region/{{region}}", sandbox.url);
    create_and_delete(&provider(api_key_settings(&sandbox, "phx", Some(&template))))
        .await
        .unwrap();

    // Pinned to Phoenix (no template), the write meets the home-region rule.
    let pinned = format!("{}/region/us-phoenix-1", sandbox.url);
    let err = create_and_delete(&provider(api_key_settings(&sandbox, "us-phoenix-1", Some(&pinned))))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("NotAllowed") && text.contains("home region IAD"),
        "{text}"
    );
}
