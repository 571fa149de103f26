//! oci_identity_auth_token and oci_identity_customer_secret_key end to end, against the
//! in-process sandbox (which verifies every request's OCI signature).

use credplane::cloud::oci::sign::{OciSigner, SignableRequest, load_private_key_pem};
use credplane::protocol::{ErrorCode, ReadResponse};
use credplane::provider::Provider;
use credplane::provider::error::ProviderError;
use credplane::sandbox::oci::{ALICE, write_client_config};
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use serde_json::{Map, Value, json};
use std::time::{Duration, SystemTime};

const AUTH: &str = "oci_identity_auth_token";
const CSK: &str = "oci_identity_customer_secret_key";
const NOBODY: &str = "ocid1.user.oc1..aaaaaaaanobody";

/// One credential kind's names.
struct Kind {
    ty: &'static str,
    label: &'static str,
    secret: &'static str,
    segment: &'static str,
    action: &'static str,
}

const AUTH_KIND: Kind = Kind {
    ty: AUTH,
    label: "description",
    secret: "token",
    segment: "authTokens",
    action: "CreateAuthToken",
};
const CSK_KIND: Kind = Kind {
    ty: CSK,
    label: "display_name",
    secret: "key",
    segment: "customerSecretKeys",
    action: "CreateCustomerSecretKey",
};

async fn sandbox() -> SandboxHandle {
    credplane::sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap()
}

fn provider_with(settings: Map<String, Value>) -> Provider {
    Provider::new(serde_json::from_value(Value::Object(settings)).unwrap())
}

fn provider(handle: &SandboxHandle) -> Provider {
    provider_with(handle.provider_settings())
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

async fn create(p: &Provider, ty: &str, inputs: Value) -> Result<(String, Map<String, Value>), ProviderError> {
    let r = p.create(from(json!({"type": ty, "inputs": inputs}))).await?;
    Ok((r.id, r.outputs))
}

async fn read(p: &Provider, ty: &str, id: &str, outputs: Option<&Map<String, Value>>) -> Option<ReadResponse> {
    let mut req = json!({"type": ty, "id": id});
    if let Some(o) = outputs {
        req["outputs"] = Value::Object(o.clone());
        let mut inputs = o.clone();
        inputs.retain(|k, _| k == "user_id" || k == "description" || k == "display_name");
        req["inputs"] = Value::Object(inputs);
    }
    p.read(from(req)).await.unwrap()
}

async fn delete(p: &Provider, ty: &str, id: &str, outputs: &Map<String, Value>) {
    p.delete(from(json!({"type": ty, "id": id, "outputs": outputs})))
        .await
        .unwrap();
}

async fn state(handle: &SandboxHandle) -> Value {
    reqwest::Client::new()
        .get(format!("{}/_sandbox/state", handle.url))
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn set_faults(handle: &SandboxHandle, faults: Value) {
    let resp = reqwest::Client::new()
        .put(format!("{}/_sandbox/faults", handle.url))
        .bearer_auth(handle.admin_token())
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

/// Credentials of `segment` for `user` in the sandbox state that are not DELETED.
async fn live(handle: &SandboxHandle, user: &str, segment: &str) -> Vec<Value> {
    let st = state(handle).await;
    st["oci-identity"]["credentials"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["user_id"] == user && c["kind"] == segment && c["lifecycle_state"] != "DELETED")
        .cloned()
        .collect()
}

fn secret_value(outputs: &Map<String, Value>, name: &str) -> String {
    let v = &outputs[name];
    assert_eq!(v["$credplane"], "secret", "{name} must be wrapped: {v}");
    v["value"].as_str().unwrap().to_string()
}

fn wire(err: &ProviderError) -> (ErrorCode, credplane::protocol::ErrorData) {
    err.to_wire()
}

fn is_rfc3339_millis_z(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == "2016-08-25T21:10:29.600Z".len()
}

async fn lifecycle(kind: Kind) {
    let handle = sandbox().await;
    let p = provider(&handle);

    // create
    let (id, outputs) = create(&p, kind.ty, json!({kind.label: "ci", "user_id": ALICE}))
        .await
        .unwrap();
    assert_eq!(outputs["id"], id.as_str());
    assert_eq!(outputs["user_id"], ALICE);
    assert_eq!(outputs[kind.label], "ci");
    assert_eq!(outputs["state"], "ACTIVE");
    assert!(outputs.get("inactive_state").is_none());
    assert!(
        is_rfc3339_millis_z(outputs["time_created"].as_str().unwrap()),
        "{}",
        outputs["time_created"]
    );
    let secret = secret_value(&outputs, kind.secret);
    let in_cloud = live(&handle, ALICE, kind.segment).await;
    assert_eq!(in_cloud.len(), 1);
    assert_eq!(in_cloud[0]["id"], id.as_str());
    assert_eq!(in_cloud[0]["secret"], secret.as_str());

    // read keeps the secret the cloud no longer shows
    let found = read(&p, kind.ty, &id, Some(&outputs)).await.unwrap();
    assert_eq!(found.id, id);
    assert_eq!(secret_value(&found.outputs, kind.secret), secret);
    assert_eq!(
        found.inputs,
        from::<Map<String, Value>>(json!({kind.label: "ci", "user_id": ALICE}))
    );

    // update in place
    let updated = p
        .update(from(
            json!({"type": kind.ty, "id": id, "olds": outputs, "news": {kind.label: "renamed", "user_id": ALICE}}),
        ))
        .await
        .unwrap()
        .outputs;
    assert_eq!(updated[kind.label], "renamed");
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(secret_value(&updated, kind.secret), secret);
    let found = read(&p, kind.ty, &id, Some(&updated)).await.unwrap();
    assert_eq!(found.outputs[kind.label], "renamed");

    // import: no prior state, the long id form
    let import_id = format!("users/{ALICE}/{}/{id}", kind.segment);
    let imported = read(&p, kind.ty, &import_id, None).await.unwrap();
    assert_eq!(imported.id, id);
    assert_eq!(
        imported.inputs,
        from::<Map<String, Value>>(json!({kind.label: "renamed", "user_id": ALICE}))
    );
    assert!(imported.outputs.get(kind.secret).is_none());
    assert_eq!(imported.outputs["state"], "ACTIVE");
    // a bare id with no state cannot be imported
    let err = p.read(from(json!({"type": kind.ty, "id": id}))).await.unwrap_err();
    assert_eq!(wire(&err).0, ErrorCode::InvalidParams);

    // delete, then it is gone; deleting again succeeds
    delete(&p, kind.ty, &id, &updated).await;
    assert!(live(&handle, ALICE, kind.segment).await.is_empty());
    assert!(read(&p, kind.ty, &id, Some(&updated)).await.is_none());
    assert!(read(&p, kind.ty, &import_id, None).await.is_none());
    delete(&p, kind.ty, &id, &updated).await;
}

#[tokio::test]
async fn auth_token_lifecycle() {
    lifecycle(AUTH_KIND).await;
}

#[tokio::test]
async fn customer_secret_key_lifecycle() {
    lifecycle(CSK_KIND).await;
}

async fn limit(kind: Kind) {
    let handle = sandbox().await;
    let p = provider(&handle);
    let (a, _) = create(&p, kind.ty, json!({kind.label: "one", "user_id": ALICE}))
        .await
        .unwrap();
    let (b, _) = create(&p, kind.ty, json!({kind.label: "two", "user_id": ALICE}))
        .await
        .unwrap();
    let err = create(&p, kind.ty, json!({kind.label: "three", "user_id": ALICE}))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Explained { .. }), "{err:?}");
    let (code, data) = wire(&err);
    assert_eq!(code, ErrorCode::CloudError);
    assert_eq!(data.cloud_code.as_deref(), Some("LimitExceeded"));
    assert!(!data.retryable);
    assert!(data.request_id.is_some());
    for needle in [ALICE, a.as_str(), b.as_str()] {
        assert!(data.message.contains(needle), "{} lacks {needle}", data.message);
    }
    assert_eq!(live(&handle, ALICE, kind.segment).await.len(), 2);
}

#[tokio::test]
async fn auth_token_limit_is_explained() {
    limit(AUTH_KIND).await;
}

#[tokio::test]
async fn customer_secret_key_limit_is_explained() {
    limit(CSK_KIND).await;
}

#[tokio::test]
async fn missing_user() {
    let handle = sandbox().await;
    let p = provider(&handle);
    for kind in [AUTH_KIND, CSK_KIND] {
        let err = create(&p, kind.ty, json!({kind.label: "x", "user_id": NOBODY}))
            .await
            .unwrap_err();
        let (code, data) = wire(&err);
        assert_eq!(code, ErrorCode::CloudError);
        assert_eq!(data.cloud_code.as_deref(), Some("NotAuthorizedOrNotFound"));
        assert!(data.message.contains(NOBODY), "{}", data.message);
        // reading a credential of a user that does not exist: gone
        let id = format!("users/{NOBODY}/{}/whatever", kind.segment);
        assert!(read(&p, kind.ty, &id, None).await.is_none());
    }
}

async fn lost_reply(kind: Kind) {
    let handle = sandbox().await;
    let p = provider(&handle);
    set_faults(&handle, json!({"next_drops": 1, "actions": [kind.action]})).await;
    let (id, outputs) = create(&p, kind.ty, json!({kind.label: "retry", "user_id": ALICE}))
        .await
        .unwrap();
    let faults: Value = reqwest::Client::new()
        .get(format!("{}/_sandbox/faults", handle.url))
        .bearer_auth(handle.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["next_drops"], 0, "the drop fault was consumed");
    let in_cloud = live(&handle, ALICE, kind.segment).await;
    assert_eq!(
        in_cloud.len(),
        1,
        "the retry must not create a second credential: {in_cloud:?}"
    );
    assert_eq!(in_cloud[0]["id"], id.as_str());
    assert_eq!(in_cloud[0]["secret"], secret_value(&outputs, kind.secret).as_str());
    assert_eq!(outputs["state"], "ACTIVE");
}

#[tokio::test]
async fn auth_token_lost_reply_is_retried_without_a_second_credential() {
    lost_reply(AUTH_KIND).await;
}

#[tokio::test]
async fn customer_secret_key_lost_reply_is_retried_without_a_second_credential() {
    lost_reply(CSK_KIND).await;
}

#[tokio::test]
async fn throttled_reads_are_retried() {
    let handle = sandbox().await;
    let p = provider(&handle);
    let (id, outputs) = create(&p, AUTH, json!({"description": "t", "user_id": ALICE}))
        .await
        .unwrap();
    set_faults(&handle, json!({"next_throttles": 2, "actions": ["ListAuthTokens"]})).await;
    let found = read(&p, AUTH, &id, Some(&outputs)).await.unwrap();
    assert_eq!(found.id, id);
    // with a single attempt, the throttle surfaces as a retryable TooManyRequests
    set_faults(&handle, json!({"next_throttles": 1, "actions": ["ListAuthTokens"]})).await;
    let mut settings = handle.provider_settings();
    settings.insert("common".into(), json!({"max_attempts": 1}));
    let once = provider_with(settings);
    let err = once
        .read(from(json!({"type": AUTH, "id": id, "outputs": outputs})))
        .await
        .unwrap_err();
    let (_, data) = wire(&err);
    assert_eq!(data.cloud_code.as_deref(), Some("TooManyRequests"));
    assert!(data.retryable);
}

#[tokio::test]
async fn bad_signatures_are_not_authenticated() {
    let handle = sandbox().await;
    let fixtures = handle.fixtures();
    let fx = &fixtures["oci-identity"];
    let key_id = fx["admin"]["key_id"].as_str().unwrap();
    let url = format!("{}/20160918/users/{ALICE}/authTokens/", handle.url);
    let http = reqwest::Client::new();
    let check = |resp: reqwest::Response| async move {
        assert_eq!(resp.status().as_u16(), 401);
        assert!(resp.headers().contains_key("opc-request-id"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "NotAuthenticated");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    };

    // unsigned
    check(http.get(&url).send().await.unwrap()).await;

    // signed with another key under the admin's keyId
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let signed_get = |signer: &OciSigner, date: SystemTime| {
        let uri: http::Uri = url.parse().unwrap();
        let headers = signer
            .sign(&SignableRequest {
                method: &http::Method::GET,
                uri: &uri,
                date: &httpdate::fmt_http_date(date),
                content_type: None,
                body: b"",
            })
            .unwrap();
        let mut req = http.get(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req
    };
    check(
        signed_get(&OciSigner::new(key_id, other), SystemTime::now())
            .send()
            .await
            .unwrap(),
    )
    .await;

    // the right key, but a date more than 5 minutes old
    let admin = OciSigner::new(
        key_id,
        load_private_key_pem(fx["admin"]["private_key"].as_str().unwrap(), None).unwrap(),
    );
    check(
        signed_get(&admin, SystemTime::now() - Duration::from_secs(6 * 60))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // and the same request, fresh, passes
    let resp = signed_get(&admin, SystemTime::now()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));

    // the provider with the wrong key gets the cloud's NotAuthenticated
    let mut settings = handle.provider_settings();
    let other_pem = {
        use rsa::pkcs8::EncodePrivateKey;
        let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        k.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap().to_string()
    };
    settings["oci"]["private_key"] = json!(other_pem);
    let p = provider_with(settings);
    let err = create(&p, AUTH, json!({"description": "x", "user_id": ALICE}))
        .await
        .unwrap_err();
    let (code, data) = wire(&err);
    assert_eq!(code, ErrorCode::CloudError);
    assert_eq!(data.cloud_code.as_deref(), Some("NotAuthenticated"));
    assert!(live(&handle, ALICE, "authTokens").await.is_empty());
}

#[tokio::test]
async fn config_file_with_encrypted_pkcs8_key() {
    let handle = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_client_config(&handle.fixtures()["oci-identity"], dir.path(), Some("correct horse")).unwrap();
    let key_text = std::fs::read_to_string(dir.path().join("oci_api_key.pem")).unwrap();
    assert!(key_text.contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let config_text = std::fs::read_to_string(&config).unwrap();
    assert!(config_text.contains("pass_phrase=correct horse"));

    // Only the endpoint and the file come from the settings; keys, user and tenancy from the file.
    let mut settings = Map::new();
    settings.insert(
        "oci".into(),
        json!({"config_file": config.to_str().unwrap(), "endpoint": handle.url}),
    );
    let p = provider_with(settings);
    let (id, outputs) = create(&p, CSK, json!({"display_name": "from-file", "user_id": ALICE}))
        .await
        .unwrap();
    assert_eq!(outputs["state"], "ACTIVE");
    assert_eq!(live(&handle, ALICE, "customerSecretKeys").await.len(), 1);
    delete(&p, CSK, &id, &outputs).await;
    assert!(live(&handle, ALICE, "customerSecretKeys").await.is_empty());

    // a wrong pass phrase is a configuration error that names no secret
    let bad = tempfile::tempdir().unwrap();
    let config = write_client_config(&handle.fixtures()["oci-identity"], bad.path(), Some("right")).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("pass_phrase=right", "pass_phrase=Xyzzy-not-this-one");
    std::fs::write(&config, text).unwrap();
    let mut settings = Map::new();
    settings.insert(
        "oci".into(),
        json!({"config_file": config.to_str().unwrap(), "endpoint": handle.url}),
    );
    let err = create(
        &provider_with(settings),
        CSK,
        json!({"display_name": "x", "user_id": ALICE}),
    )
    .await
    .unwrap_err();
    assert_eq!(wire(&err).0, ErrorCode::Configuration);
    assert!(!err.to_string().contains("Xyzzy"), "{err}");
    assert!(err.to_string().contains("pass phrase"), "{err}");
}

#[tokio::test]
async fn settings_key_file_instead_of_inline_key() {
    let handle = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.pem");
    let fixtures = handle.fixtures();
    std::fs::write(
        &key_file,
        fixtures["oci-identity"]["admin"]["private_key"].as_str().unwrap(),
    )
    .unwrap();
    let mut settings = handle.provider_settings();
    let oci = settings["oci"].as_object_mut().unwrap();
    oci.remove("private_key");
    oci.insert("key_file".into(), json!(key_file.to_str().unwrap()));
    // Complete settings: no config file is consulted, even a broken one.
    oci.insert("config_file".into(), json!("/nonexistent/oci/config"));
    let p = provider_with(settings);
    let (id, outputs) = create(&p, AUTH, json!({"description": "kf", "user_id": ALICE}))
        .await
        .unwrap();
    delete(&p, AUTH, &id, &outputs).await;
    assert!(live(&handle, ALICE, "authTokens").await.is_empty());
}
