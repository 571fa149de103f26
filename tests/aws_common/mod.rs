//! Helpers shared by the AWS end-to-end tests (sandbox and moto): wire-level provider calls, a
//! raw SigV4-signed IAM call, and the lifecycle scenario both backends must pass.
#![allow(dead_code)]

pub mod capture;
pub mod moto;
pub mod process;
pub mod stdio;

use credplane::cloud::aws::sign::{Credentials, SignableRequest, SigningParams, sign};
use credplane::protocol::{CreateResponse, ReadResponse};
use credplane::provider::Provider;
use credplane::provider::error::ProviderError;
use serde_json::{Value, json};

pub const TYPE: &str = "aws_iam_access_key";

pub fn provider(settings: Value) -> Provider {
    Provider::new(serde_json::from_value(settings).expect("valid configure settings"))
}

pub async fn create(
    p: &Provider,
    inputs: Value,
    timeout_seconds: Option<f64>,
) -> Result<CreateResponse, ProviderError> {
    let mut req = json!({"type": TYPE, "inputs": inputs});
    if let Some(t) = timeout_seconds {
        req["timeoutSeconds"] = json!(t);
    }
    p.create(serde_json::from_value(req).unwrap()).await
}

pub async fn read(
    p: &Provider,
    id: &str,
    inputs: Option<&Value>,
    outputs: Option<&Value>,
) -> Result<Option<ReadResponse>, ProviderError> {
    let mut req = json!({"type": TYPE, "id": id});
    if let Some(i) = inputs {
        req["inputs"] = i.clone();
    }
    if let Some(o) = outputs {
        req["outputs"] = o.clone();
    }
    p.read(serde_json::from_value(req).unwrap()).await
}

pub async fn update(p: &Provider, id: &str, olds: &Value, news: Value) -> Result<Value, ProviderError> {
    let req = json!({"type": TYPE, "id": id, "olds": olds, "news": news});
    p.update(serde_json::from_value(req).unwrap())
        .await
        .map(|r| Value::Object(r.outputs))
}

pub async fn delete(p: &Provider, id: &str, outputs: &Value) -> Result<(), ProviderError> {
    let req = json!({"type": TYPE, "id": id, "outputs": outputs});
    p.delete(serde_json::from_value(req).unwrap()).await.map(drop)
}

/// The value inside a secret envelope; panics if the value is not wrapped.
pub fn secret_value(v: &Value) -> String {
    assert_eq!(v["$credplane"], "secret", "expected a secret envelope, got {v}");
    v["value"].as_str().expect("string secret").to_string()
}

/// One signed IAM Query call, outside the provider: returns the status and the XML body.
pub async fn iam_call(
    endpoint: &str,
    access_key_id: &str,
    secret: &str,
    action: &str,
    params: &[(&str, &str)],
) -> (u16, String) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action).append_pair("Version", "2010-05-08");
    for (k, v) in params {
        form.append_pair(k, v);
    }
    let body = form.finish().into_bytes();
    let headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    )];
    let creds = Credentials::new(access_key_id, secret);
    let signed = sign(
        &SignableRequest {
            method: "POST",
            uri: endpoint,
            headers: &headers,
            body: &body,
        },
        &SigningParams::new(&creds, "us-east-1", "iam", chrono::Utc::now()),
    )
    .unwrap();
    let mut req = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", headers[0].1.clone());
    for (k, v) in signed.headers {
        req = req.header(k, v);
    }
    let resp = req.body(body).send().await.expect("IAM endpoint reachable");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_string())
}

/// The admin identity both backends give the provider.
pub struct Admin {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret: String,
}

impl Admin {
    pub fn settings(&self) -> Value {
        json!({"aws": {"access_key_id": self.access_key_id, "secret_access_key": self.secret, "region": "us-east-1", "endpoint": self.endpoint}})
    }

    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> (u16, String) {
        iam_call(&self.endpoint, &self.access_key_id, &self.secret, action, params).await
    }

    pub async fn create_user(&self, name: &str) {
        let (status, body) = self.call("CreateUser", &[("UserName", name)]).await;
        assert_eq!(status, 200, "CreateUser {name}: {body}");
    }
}

fn cloud_code(err: &ProviderError) -> Option<String> {
    err.to_wire().1.cloud_code
}

/// Asserts a key works (it authenticates): `200` on the sandbox, where any key may call GetUser;
/// on moto an unprivileged user gets AccessDenied, which still proves the signature was accepted.
pub async fn assert_key_authenticates(endpoint: &str, id: &str, secret: &str, user: &str) {
    let (status, body) = iam_call(endpoint, id, secret, "GetUser", &[]).await;
    assert!(
        (status == 200 && xml_text(&body, "UserName").as_deref() == Some(user)) || body.contains("AccessDenied"),
        "the key {id} does not authenticate as {user}: {status} {body}"
    );
}

/// create / read / update (Active → Inactive) / import / third key / delete / read after delete /
/// missing user, through the provider.
pub async fn lifecycle_scenario(admin: &Admin, user: &str) {
    admin.create_user(user).await;
    let p = provider(admin.settings());

    // Create.
    let created = create(&p, json!({"user": user}), None).await.expect("create");
    let id = created.id.clone();
    assert!(id.starts_with("AKIA") || id.starts_with("ASIA"), "{id}");
    let outputs = Value::Object(created.outputs.clone());
    assert_eq!(outputs["id"], id);
    assert_eq!(outputs["user"], user);
    assert_eq!(outputs["status"], "Active");
    assert_eq!(outputs["secrets_available"], true);
    let secret = secret_value(&outputs["secret"]);
    assert_eq!(secret.len(), 40);
    let ses = secret_value(&outputs["ses_smtp_password_v4"]);
    assert_eq!(ses, credplane::secrets::ses::ses_smtp_password_v4(&secret, "us-east-1"));
    let date = outputs["create_date"].as_str().expect("create_date");
    chrono::DateTime::parse_from_rfc3339(date).expect("create_date is RFC 3339");
    for absent in ["encrypted_secret", "encrypted_ses_smtp_password_v4", "key_fingerprint"] {
        assert!(outputs.get(absent).is_none(), "{absent} must be absent without pgp_key");
    }
    assert_key_authenticates(&admin.endpoint, &id, &secret, user).await;

    // Read (refresh): the secret is carried forward.
    let found = read(&p, &id, Some(&json!({"user": user})), Some(&outputs))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, id);
    assert_eq!(found.outputs["status"], "Active");
    assert_eq!(secret_value(&found.outputs["secret"]), secret);

    // Update: Active → Inactive, seen by a later read.
    let updated = update(&p, &id, &outputs, json!({"user": user, "status": "Inactive"}))
        .await
        .expect("update");
    assert_eq!(updated["status"], "Inactive");
    assert_eq!(secret_value(&updated["secret"]), secret);
    let found = read(&p, &id, None, Some(&updated)).await.expect("read").expect("found");
    assert_eq!(found.outputs["status"], "Inactive");
    assert_eq!(found.inputs["status"], "Inactive");

    // Import: the id alone.
    let imported = read(&p, &id, None, None).await.expect("import").expect("found");
    assert_eq!(imported.id, id);
    assert_eq!(
        Value::Object(imported.inputs.clone()),
        json!({"user": user, "status": "Inactive"})
    );
    assert_eq!(imported.outputs["secrets_available"], false);
    for absent in [
        "secret",
        "ses_smtp_password_v4",
        "encrypted_secret",
        "encrypted_ses_smtp_password_v4",
        "key_fingerprint",
    ] {
        assert!(
            imported.outputs.get(absent).is_none(),
            "{absent} must be absent after import"
        );
    }
    assert!(imported.outputs.get("create_date").is_some());

    // A second key fits; a third exceeds the quota and names the user and both keys.
    let second = create(&p, json!({"user": user}), None).await.expect("second key");
    let err = create(&p, json!({"user": user}), None)
        .await
        .expect_err("third key must fail");
    let message = err.to_string();
    assert!(matches!(err, ProviderError::Explained { .. }), "{err:?}");
    assert_eq!(cloud_code(&err).as_deref(), Some("LimitExceeded"));
    for needle in [user, id.as_str(), second.id.as_str()] {
        assert!(message.contains(needle), "limit error {message:?} should name {needle}");
    }

    // Delete, read after delete, delete again (already gone counts as deleted).
    delete(&p, &id, &updated).await.expect("delete");
    assert!(
        read(&p, &id, None, Some(&updated))
            .await
            .expect("read after delete")
            .is_none()
    );
    assert!(read(&p, &id, None, None).await.expect("import after delete").is_none());
    delete(&p, &id, &updated).await.expect("second delete is a no-op");
    delete(&p, &second.id, &Value::Object(second.outputs.clone()))
        .await
        .expect("delete second");
    let (status, body) = admin.call("ListAccessKeys", &[("UserName", user)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("<AccessKeyId>"), "keys left behind: {body}");

    // A user that does not exist: a bounded wait, then a clear error naming it.
    let missing = format!("{user}-missing");
    let err = create(&p, json!({"user": missing}), Some(4.0))
        .await
        .expect_err("missing user");
    assert_eq!(cloud_code(&err).as_deref(), Some("NoSuchEntity"), "{err:?}");
    assert!(err.to_string().contains(&missing), "{err}");
}

/// A provider whose admin secret is wrong is refused with SignatureDoesNotMatch.
pub async fn wrong_secret_scenario(admin: &Admin, user: &str) {
    let mut settings = admin.settings();
    settings["aws"]["secret_access_key"] = json!("0000000000000000000000000000000000000000");
    let p = provider(settings);
    let err = create(&p, json!({"user": user}), None).await.expect_err("wrong secret");
    assert_eq!(cloud_code(&err).as_deref(), Some("SignatureDoesNotMatch"), "{err:?}");
    let (status, body) = iam_call(&admin.endpoint, &admin.access_key_id, "wrong", "ListUsers", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(xml_text(&body, "Code").as_deref(), Some("SignatureDoesNotMatch"));
}
