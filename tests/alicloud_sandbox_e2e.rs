//! alicloud_ram_access_key and alicloud_kms_secret end to end: the provider against the
//! in-process sandbox, driven with wire JSON, checked against the sandbox's own state.

mod gpg;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use credplane::cloud::alicloud::sign::{common_params, sign_rpc};
use credplane::protocol::{CreateResponse, ErrorCode, ReadResponse};
use credplane::provider::Provider;
use credplane::provider::error::ProviderError;
use credplane::sandbox::alicloud::{ADMIN_KEY_ID, ADMIN_KEY_SECRET};
use credplane::sandbox::{SandboxHandle, SandboxOptions};
use gpg::GpgHome;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;

struct Env {
    sandbox: SandboxHandle,
    provider: Provider,
    http: reqwest::Client,
}

async fn env() -> Env {
    let sandbox = credplane::sandbox::start("127.0.0.1:0".parse().unwrap(), SandboxOptions::default())
        .await
        .unwrap();
    let settings = serde_json::from_value(Value::Object(sandbox.provider_settings())).unwrap();
    Env {
        sandbox,
        provider: Provider::new(settings),
        http: reqwest::Client::new(),
    }
}

fn secret(value: &str) -> Value {
    json!({"$credplane": "secret", "value": value})
}

impl Env {
    /// A provider that sends each cloud call once: an injected fault is final, and a call's
    /// fault counter tells whether the call was sent.
    fn provider_without_retries(&self) -> Provider {
        let mut settings = self.sandbox.provider_settings();
        settings.insert("common".into(), json!({"max_attempts": 1}));
        Provider::new(serde_json::from_value(Value::Object(settings)).unwrap())
    }

    async fn create(&self, type_name: &str, inputs: Value) -> Result<CreateResponse, ProviderError> {
        let req = json!({"type": type_name, "inputs": inputs});
        self.provider.create(serde_json::from_value(req).unwrap()).await
    }

    async fn read(
        &self,
        type_name: &str,
        id: &str,
        inputs: Option<&Value>,
        outputs: Option<&Value>,
    ) -> Option<ReadResponse> {
        let req = json!({"type": type_name, "id": id, "inputs": inputs, "outputs": outputs});
        self.provider.read(serde_json::from_value(req).unwrap()).await.unwrap()
    }

    async fn update(&self, type_name: &str, id: &str, olds: &Value, news: Value) -> Value {
        let req = json!({"type": type_name, "id": id, "olds": olds, "news": news});
        Value::Object(
            self.provider
                .update(serde_json::from_value(req).unwrap())
                .await
                .unwrap()
                .outputs,
        )
    }

    async fn delete(&self, type_name: &str, id: &str, outputs: &Value) {
        let req = json!({"type": type_name, "id": id, "outputs": outputs});
        self.provider
            .delete(serde_json::from_value(req).unwrap())
            .await
            .unwrap();
    }

    async fn state(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/state", self.sandbox.url))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn keys_of(&self, user: &str) -> Vec<String> {
        let state = self.state().await;
        state["alicloud-ram"]["users"][user]["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect()
    }

    async fn current_faults(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/faults", self.sandbox.url))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn pending_drops(&self) -> u64 {
        self.current_faults().await["next_drops"].as_u64().unwrap()
    }

    async fn faults(&self, faults: Value) {
        self.http
            .put(format!("{}/_sandbox/faults", self.sandbox.url))
            .bearer_auth(self.sandbox.admin_token())
            .json(&faults)
            .send()
            .await
            .unwrap();
    }

    /// A raw V1-signed call as the admin, behind the provider's back.
    async fn raw(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        skew_minutes: i64,
        nonce: &str,
    ) -> (u16, Value) {
        self.try_raw(version, action, params, skew_minutes, nonce)
            .await
            .expect("an answer")
    }

    /// As [`Env::raw`], with a lost reply as an error.
    async fn try_raw(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        skew_minutes: i64,
        nonce: &str,
    ) -> Result<(u16, Value), reqwest::Error> {
        let when = chrono::Utc::now() - chrono::TimeDelta::minutes(skew_minutes);
        let mut all = common_params(ADMIN_KEY_ID, action, version, when, nonce, Some("cn-hangzhou"));
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let signature = sign_rpc("POST", &all, ADMIN_KEY_SECRET);
        all.push(("Signature".into(), signature));
        let response = self
            .http
            .post(format!("{}/", self.sandbox.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    async fn kms(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let (status, body) = self
            .raw("2016-01-20", action, params, 0, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(status, 200, "{action}: {body}");
        body
    }
}

fn wire_error(err: &ProviderError) -> (ErrorCode, Option<String>, String) {
    let (code, data) = err.to_wire();
    (code, data.cloud_code, data.message)
}

const RAM: &str = "alicloud_ram_access_key";
const KMS: &str = "alicloud_kms_secret";

#[tokio::test]
async fn ram_key_lifecycle_with_secret_file_update_import_and_delete() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.json");
    let inputs = json!({"user_name": "alice", "secret_file": file.to_str().unwrap()});
    let created = env.create(RAM, inputs.clone()).await.unwrap();
    let id = created.id.clone();
    assert!(id.starts_with("LTAI5t") && id.len() == 24, "{id}");
    let outputs = Value::Object(created.outputs);
    assert_eq!(outputs["id"], json!(id));
    assert_eq!(outputs["status"], json!("Active"));
    assert!(outputs["create_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        outputs["secret"]["$credplane"],
        json!("secret"),
        "the secret travels enveloped"
    );
    assert!(outputs.get("encrypted_secret").is_none() && outputs.get("key_fingerprint").is_none());
    let secret_value = outputs["secret"]["value"].as_str().unwrap().to_string();

    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    // The Terraform provider's fields, so that existing scripts read the file.
    assert_eq!(
        saved,
        json!({"AccessKeyId": id, "AccessKeySecret": secret_value, "Status": "Active",
               "CreateDate": outputs["create_time"]})
    );
    assert_eq!(env.keys_of("alice").await, vec![id.clone()]);

    let read = env.read(RAM, &id, Some(&inputs), Some(&outputs)).await.unwrap();
    assert_eq!(read.id, id);
    assert_eq!(
        read.outputs["secret"], outputs["secret"],
        "the create-only secret is carried forward"
    );
    assert_eq!(read.outputs["status"], json!("Active"));

    let news = json!({"user_name": "alice", "secret_file": file.to_str().unwrap(), "status": "Inactive"});
    let updated = env.update(RAM, &id, &outputs, news.clone()).await;
    assert_eq!(updated["status"], json!("Inactive"));
    let state = env.state().await;
    assert_eq!(
        state["alicloud-ram"]["users"]["alice"]["keys"][0]["status"],
        json!("Inactive")
    );
    let read = env.read(RAM, &id, Some(&news), Some(&updated)).await.unwrap();
    assert_eq!(read.outputs["status"], json!("Inactive"));

    let imported = env.read(RAM, &format!("alice:{id}"), None, None).await.unwrap();
    assert_eq!(imported.id, id);
    assert_eq!(imported.inputs["user_name"], json!("alice"));
    assert_eq!(imported.outputs["status"], json!("Inactive"));
    assert!(
        imported.outputs.get("secret").is_none(),
        "an import never learns the secret"
    );

    env.delete(RAM, &id, &updated).await;
    assert!(env.keys_of("alice").await.is_empty());
    assert!(env.read(RAM, &id, Some(&news), Some(&updated)).await.is_none());
    env.delete(RAM, &id, &updated).await; // already gone counts as deleted
}

#[tokio::test]
async fn ram_key_created_inactive_and_own_keys_without_user_name() {
    let env = env().await;
    let created = env
        .create(RAM, json!({"user_name": "alice", "status": "Inactive"}))
        .await
        .unwrap();
    assert_eq!(created.outputs["status"], json!("Inactive"));
    assert_eq!(
        env.state().await["alicloud-ram"]["users"]["alice"]["keys"][0]["status"],
        json!("Inactive")
    );

    // No user_name: the key belongs to the provider's own identity; import by key id alone.
    let own = env.create(RAM, json!({})).await.unwrap();
    assert!(env.keys_of("sandbox-admin").await.contains(&own.id));
    let imported = env.read(RAM, &own.id, None, None).await.unwrap();
    assert_eq!(imported.outputs["status"], json!("Active"));
    env.delete(RAM, &own.id, &Value::Object(own.outputs)).await;
    assert_eq!(env.keys_of("sandbox-admin").await, vec![ADMIN_KEY_ID.to_string()]);
}

#[tokio::test]
async fn ram_two_key_limit_is_explained_with_the_users_keys() {
    let env = env().await;
    let first = env.create(RAM, json!({"user_name": "alice"})).await.unwrap().id;
    let second = env.create(RAM, json!({"user_name": "alice"})).await.unwrap().id;
    let err = env.create(RAM, json!({"user_name": "alice"})).await.unwrap_err();
    assert!(matches!(err, ProviderError::Explained { .. }), "{err:?}");
    let (code, cloud_code, message) = wire_error(&err);
    assert_eq!(
        (code, cloud_code.as_deref()),
        (ErrorCode::CloudError, Some("LimitExceeded.User.AccessKey"))
    );
    assert!(
        message.contains("alice") && message.contains(&first) && message.contains(&second),
        "{message}"
    );
    assert_eq!(env.keys_of("alice").await.len(), 2);

    let err = env.create(RAM, json!({"user_name": "bob"})).await.unwrap_err();
    assert_eq!(wire_error(&err).1.as_deref(), Some("EntityNotExist.User"));
}

#[tokio::test]
async fn ram_unwritable_secret_file_fails_before_minting() {
    let env = env().await;
    let err = env
        .create(
            RAM,
            json!({"user_name": "alice", "secret_file": "/nonexistent-credplane-dir/alice.json"}),
        )
        .await
        .unwrap_err();
    let (code, _, message) = wire_error(&err);
    assert_eq!(code, ErrorCode::InvalidParams, "{message}");
    assert!(message.contains("secret_file"), "{message}");
    assert!(
        env.keys_of("alice").await.is_empty(),
        "no key may be minted when the file cannot be written"
    );

    let err = env
        .create(RAM, json!({"user_name": "alice", "pgp_key": "not a key"}))
        .await
        .unwrap_err();
    assert_eq!(wire_error(&err).0, ErrorCode::InvalidParams);
    assert!(env.keys_of("alice").await.is_empty());
}

#[tokio::test]
async fn ram_two_lost_replies_leave_no_orphan() {
    let env = env().await;
    env.faults(json!({"next_drops": 2, "actions": ["CreateAccessKey"]}))
        .await;
    let err = env.create(RAM, json!({"user_name": "alice"})).await.unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::PartiallyCreated, "{err}");
    let keys = env.keys_of("alice").await;
    assert_eq!(keys.len(), 1, "one key, and it is the one reported: {keys:?}");
    assert_eq!(data.id.as_deref(), Some(keys[0].as_str()));
    assert!(data.outputs.unwrap().get("secret").is_none());
    assert_eq!(env.pending_drops().await, 1, "no second CreateAccessKey was sent");
}

#[tokio::test]
async fn ram_create_is_one_cloud_call() {
    let env = env().await;
    let provider = env.provider_without_retries();
    env.faults(json!({"next_errors": 1, "actions": ["ListAccessKeys"]}))
        .await;
    let req = json!({"type": RAM, "inputs": {"user_name": "alice"}});
    let created = provider.create(serde_json::from_value(req).unwrap()).await.unwrap();
    assert_eq!(env.keys_of("alice").await, vec![created.id]);
    assert_eq!(
        env.current_faults().await["next_errors"],
        1,
        "no ListAccessKeys was sent"
    );
}

#[tokio::test]
async fn ram_throttling_is_retried_and_a_failed_status_update_is_partially_created() {
    let env = env().await;
    env.faults(json!({"next_throttles": 2, "actions": ["ListAccessKeys"]}))
        .await;
    let created = env.create(RAM, json!({"user_name": "alice"})).await.unwrap();
    assert_eq!(env.keys_of("alice").await, vec![created.id.clone()]);

    // One attempt per call, so the injected 5xx is final.
    let provider = env.provider_without_retries();
    env.faults(json!({"next_errors": 1, "actions": ["UpdateAccessKey"]}))
        .await;
    let req = json!({"type": RAM, "inputs": {"user_name": "sandbox-admin", "status": "Inactive"}});
    let err = provider.create(serde_json::from_value(req).unwrap()).await.unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::PartiallyCreated, "{err}");
    let id = data.id.unwrap();
    let outputs = data.outputs.unwrap();
    assert_eq!(outputs["id"], json!(id));
    assert_eq!(
        outputs["secret"]["$credplane"],
        json!("secret"),
        "the secret of the existing key is kept, enveloped"
    );
    assert!(env.keys_of("sandbox-admin").await.contains(&id));
}

#[tokio::test]
async fn ram_pgp_round_trip_decrypted_by_gpg() {
    let gpg = GpgHome::generate("default", None);
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key.json");
    let inputs = json!({"user_name": "alice", "pgp_key": gpg.export_base64(), "secret_file": file.to_str().unwrap()});
    let created = env.create(RAM, inputs).await.unwrap();
    assert!(created.outputs.get("secret").is_none(), "no plaintext with a pgp_key");
    assert_eq!(created.outputs["key_fingerprint"], json!(gpg.fingerprint));
    let encrypted = created.outputs["encrypted_secret"]["value"].as_str().unwrap();
    let plain = gpg.decrypt(&STANDARD.decode(encrypted).unwrap());
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        saved["AccessKeySecret"].as_str().unwrap()
    );
}

#[tokio::test]
async fn replayed_nonce_and_stale_timestamp_are_rejected() {
    let env = env().await;
    let nonce = uuid::Uuid::new_v4().to_string();
    let (status, body) = env
        .raw("2015-05-01", "ListAccessKeys", &[("UserName", "alice")], 0, &nonce)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["AccessKeys"], json!({"AccessKey": []}));
    assert!(body["RequestId"].is_string());
    let (status, body) = env
        .raw("2015-05-01", "ListAccessKeys", &[("UserName", "alice")], 0, &nonce)
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("SignatureNonceUsed")),
        "{body}"
    );
    let (status, body) = env
        .raw("2016-01-20", "ListSecrets", &[], 20, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Expired")),
        "{body}"
    );
}

const POLICY_1: &str = r#"{"Version":"1","Statement":[{"Action":["kms:*"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:*"]},"Sid":"kms default secret policy"}]}"#;
const POLICY_2: &str = r#"{"Version":"1","Statement":[{"Action":["kms:GetSecretValue"],"Resource":["*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:user/alice"]},"Sid":"alice reads"}]}"#;

fn ecs_inputs() -> Value {
    json!({
        "secret_name": "db-login",
        "secret_data": secret(r#"{"UserName":"ecs-user","Password":"pw-1"}"#),
        "version_id": "v1",
        "secret_type": "ECS",
        "secret_data_type": "text",
        "description": "ecs login",
        "encryption_key_id": "key-hzz661646aeygbqrfqg5j",
        "dkms_instance_id": "kst-hzz61dbabacquz826y29f",
        "extended_config": r#"{"SecretSubType":"Password","InstanceId":"i-bp1fr0a100hd0yf6ksq3","CommandId":"cmd-ACS-KMS-RotateECSSecret-For-Linux.sh","RegionId":"cn-hangzhou"}"#,
        "extended_config_custom_data": {"team": "db"},
        "enable_automatic_rotation": true,
        "rotation_interval": "604800s",
        "policy": POLICY_1,
        "policy_name": "default",
        "recovery_window_in_days": 7,
        "tags": {"env": "test", "owner": "alice"},
    })
}

#[tokio::test]
async fn kms_secret_every_argument_create_read_update_import_drift_delete() {
    let env = env().await;
    let inputs = ecs_inputs();
    let created = env.create(KMS, inputs.clone()).await.unwrap();
    assert_eq!(created.id, "db-login");
    let outputs = Value::Object(created.outputs);
    assert_eq!(
        outputs["arn"],
        json!("acs:kms:cn-hangzhou:1234567890123456:secret/db-login")
    );
    assert!(outputs["create_time"].is_string());
    assert_eq!(outputs["secret_data"]["$credplane"], json!("secret"));

    let cloud = &env.state().await["alicloud-kms"]["secrets"]["db-login"];
    assert_eq!(cloud["secret_type"], json!("ECS"));
    assert_eq!(cloud["encryption_key_id"], json!("key-hzz661646aeygbqrfqg5j"));
    assert_eq!(cloud["dkms_instance_id"], json!("kst-hzz61dbabacquz826y29f"));
    assert_eq!(cloud["extended_config"]["SecretSubType"], json!("Password"));
    assert_eq!(cloud["extended_config"]["CustomData"], json!({"team": "db"}));
    assert_eq!(
        (cloud["rotation"].clone(), cloud["rotation_interval"].clone()),
        (json!(true), json!("604800s"))
    );
    assert_eq!(cloud["policies"]["default"], json!(POLICY_1));
    assert_eq!(cloud["description"], json!("ecs login"));
    assert_eq!(cloud["tags"], json!({"env": "test", "owner": "alice"}));
    assert_eq!(cloud["versions"][0]["stages"], json!(["ACSCurrent"]));

    let read = env.read(KMS, "db-login", Some(&inputs), Some(&outputs)).await.unwrap();
    for field in [
        "secret_data",
        "version_id",
        "description",
        "tags",
        "policy",
        "rotation_interval",
        "extended_config_custom_data",
    ] {
        assert_eq!(read.outputs[field], outputs[field], "{field}");
    }

    // Each updatable field, in place.
    let mut news = inputs.clone();
    news["secret_data"] = secret(r#"{"UserName":"ecs-user","Password":"pw-2"}"#);
    news["version_id"] = json!("v2");
    news["description"] = json!("rotated by hand");
    news["extended_config_custom_data"] = json!({"team": "platform"});
    news["rotation_interval"] = json!("1209600s");
    news["policy"] = json!(POLICY_2);
    news["tags"] = json!({"env": "prod", "cost": "42"});
    news["recovery_window_in_days"] = json!(10);
    let updated = env.update(KMS, "db-login", &outputs, news.clone()).await;
    assert_eq!(updated["version_id"], json!("v2"));
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["db-login"];
    assert_eq!(cloud["versions"][1]["id"], json!("v2"));
    assert_eq!(cloud["versions"][1]["stages"], json!(["ACSCurrent"]));
    assert_eq!(cloud["versions"][0]["stages"], json!(["ACSPrevious"]));
    assert_eq!(cloud["description"], json!("rotated by hand"));
    assert_eq!(cloud["extended_config"]["CustomData"], json!({"team": "platform"}));
    assert_eq!(cloud["rotation_interval"], json!("1209600s"));
    assert_eq!(cloud["policies"]["default"], json!(POLICY_2));
    assert_eq!(cloud["tags"], json!({"env": "prod", "cost": "42"}));
    let read = env.read(KMS, "db-login", Some(&news), Some(&updated)).await.unwrap();
    assert_eq!(read.outputs["secret_data"], news["secret_data"]);
    assert_eq!(read.outputs["tags"], news["tags"]);

    // Rotation off; ACSCurrent moved back to v1 with move_to_version/remove_from_version.
    let mut news2 = news.clone();
    news2["enable_automatic_rotation"] = json!(false);
    news2.as_object_mut().unwrap().remove("rotation_interval");
    news2["move_to_version"] = json!("v1");
    news2["remove_from_version"] = json!("v2");
    let updated2 = env.update(KMS, "db-login", &updated, news2.clone()).await;
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["db-login"];
    assert_eq!(cloud["rotation"], json!(false));
    assert_eq!(cloud["versions"][0]["stages"], json!(["ACSCurrent"]));
    assert_eq!(cloud["versions"][1]["stages"], json!(["ACSPrevious"]));
    let read = env.read(KMS, "db-login", Some(&news2), Some(&updated2)).await.unwrap();
    // ECS is a managed type, whose value the cloud rotates: read keeps the program's version.
    assert_eq!(read.outputs["version_id"], json!("v2"));
    assert_eq!(read.outputs["secret_data"], news2["secret_data"]);
    assert_eq!(read.outputs["enable_automatic_rotation"], json!(false));

    // Import by name.
    let imported = env.read(KMS, "db-login", None, None).await.unwrap();
    assert_eq!(imported.id, "db-login");
    assert_eq!(imported.inputs["secret_type"], json!("ECS"));
    assert_eq!(imported.inputs["description"], json!("rotated by hand"));
    assert_eq!(imported.inputs["policy"], json!(POLICY_2));
    assert_eq!(imported.inputs["tags"], json!({"cost": "42", "env": "prod"}));
    assert_eq!(imported.inputs["secret_data"]["$credplane"], json!("secret"));

    // A new value stored behind the provider's back (as the cloud's rotation does) is not fought.
    env.kms(
        "PutSecretValue",
        &[
            ("SecretName", "db-login"),
            ("VersionId", "v9"),
            ("SecretData", r#"{"UserName":"x","Password":"changed"}"#),
        ],
    )
    .await;
    let rotated = env.read(KMS, "db-login", Some(&news2), Some(&updated2)).await.unwrap();
    assert_eq!(rotated.outputs["version_id"], json!("v2"));
    assert_eq!(rotated.outputs["secret_data"], news2["secret_data"]);

    // Delete: a recovery window of recovery_window_in_days, then gone for read.
    env.delete(KMS, "db-login", &updated2).await;
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["db-login"];
    let planned = chrono::DateTime::parse_from_rfc3339(cloud["planned_delete_time"].as_str().unwrap()).unwrap();
    let days = (planned.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!(
        (9 * 24..=10 * 24).contains(&days),
        "{days} hours: recovery_window_in_days = 10"
    );
    assert!(env.read(KMS, "db-login", Some(&news2), Some(&updated2)).await.is_none());
    env.delete(KMS, "db-login", &updated2).await; // in its window already: deleted

    // The name is taken while in its window: explained; RestoreSecret brings it back.
    let err = env.create(KMS, inputs.clone()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Explained { .. }), "{err:?}");
    let (_, cloud_code, message) = wire_error(&err);
    assert_eq!(cloud_code.as_deref(), Some("Rejected.ResourceExist"));
    assert!(
        message.starts_with("secret db-login is scheduled for deletion; restore it with RestoreSecret, wait until 20"),
        "{message}"
    );
    assert!(message.ends_with("or choose another secret_name"), "{message}");
    env.kms("RestoreSecret", &[("SecretName", "db-login")]).await;
    assert!(env.read(KMS, "db-login", None, None).await.is_some());
}

#[tokio::test]
async fn kms_legacy_custom_data_binary_data_and_lost_create_reply() {
    let env = env().await;
    let inputs = json!({
        "secret_name": "rds-admin",
        "secret_data": r#"{"Accounts":[{"AccountName":"root","AccountPassword":"pw"}]}"#,
        "version_id": "v1",
        "secret_type": "Rds",
        "extended_config": r#"{"SecretSubType":"SingleUser","DBInstanceId":"rm-1","CustomData":{}}"#,
        "custom_data": {"legacy": "yes"},
    });
    env.faults(json!({"next_drops": 1, "actions": ["CreateSecret"]})).await;
    let created = env.create(KMS, inputs.clone()).await.unwrap();
    assert_eq!(env.pending_drops().await, 0, "the reply of CreateSecret was dropped");
    let cloud = &env.state().await["alicloud-kms"]["secrets"];
    assert_eq!(
        cloud.as_object().unwrap().len(),
        1,
        "the lost reply did not create twice"
    );
    assert_eq!(
        cloud["rds-admin"]["extended_config"]["CustomData"],
        json!({"legacy": "yes"})
    );
    let mut news = inputs.clone();
    news["custom_data"] = json!({"legacy": "no"});
    env.update(KMS, "rds-admin", &Value::Object(created.outputs), news)
        .await;
    assert_eq!(
        env.state().await["alicloud-kms"]["secrets"]["rds-admin"]["extended_config"]["CustomData"],
        json!({"legacy": "no"})
    );

    let binary = STANDARD.encode([0u8, 1, 2, 255]);
    let created = env
        .create(
            KMS,
            json!({"secret_name": "blob", "secret_data": binary, "version_id": "b1", "secret_data_type": "binary"}),
        )
        .await
        .unwrap();
    let read = env
        .read(KMS, "blob", None, Some(&Value::Object(created.outputs)))
        .await
        .unwrap();
    assert_eq!(read.outputs["secret_data_type"], json!("binary"));
    assert_eq!(read.outputs["secret_data"], secret(&binary));
}

#[tokio::test]
async fn kms_lost_reply_does_not_adopt_a_same_named_secret_of_another() {
    let env = env().await;
    // Another client's CreateSecret arrives first and wins the name; ours arrives next, is
    // refused, and its reply is lost: the secret that exists holds our version id, not our data.
    env.faults(json!({"next_drops": 2, "latency_ms": 300, "actions": ["CreateSecret"]}))
        .await;
    let theirs = env.try_raw(
        "2016-01-20",
        "CreateSecret",
        &[("SecretName", "shared"), ("SecretData", "theirs"), ("VersionId", "v1")],
        0,
        "nonce-theirs",
    );
    let ours = async {
        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
        env.create(
            KMS,
            json!({"secret_name": "shared", "secret_data": "ours", "version_id": "v1"}),
        )
        .await
    };
    let (theirs, ours) = tokio::join!(theirs, ours);
    assert!(theirs.is_err(), "the other client's reply was lost too: {theirs:?}");
    let err = ours.expect_err("nothing adopted");
    let (code, data) = err.to_wire();
    assert_eq!(code, ErrorCode::CloudError, "{err}");
    assert!(data.may_exist, "the create's reply was lost");
    assert!(
        data.message.contains("someone else created it") && data.message.contains("shared"),
        "{}",
        data.message
    );
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["shared"];
    assert!(cloud.is_object(), "the other client's secret is untouched: {cloud}");
}

#[tokio::test]
async fn kms_check_refuses_key_id_and_certificate_id_and_same_version_updates() {
    let env = env().await;
    for field in ["key_id", "certificate_id"] {
        let mut inputs = json!({"secret_name": "n", "secret_data": "d", "version_id": "v1"});
        inputs[field] = json!("x");
        let err = env.create(KMS, inputs).await.unwrap_err();
        let (code, _, message) = wire_error(&err);
        assert_eq!(code, ErrorCode::InvalidParams);
        assert!(
            message.contains("exactly one of key_id, secret_name and certificate_id"),
            "{message}"
        );
    }
    let inputs = json!({"secret_name": "n", "secret_data": "d", "version_id": "v1"});
    let created = env.create(KMS, inputs).await.unwrap();
    let req = json!({"type": KMS, "id": "n", "olds": created.outputs, "news": {"secret_name": "n", "secret_data": "e", "version_id": "v1"}});
    let err = env
        .provider
        .update(serde_json::from_value(req).unwrap())
        .await
        .unwrap_err();
    assert!(wire_error(&err).2.contains("needs a new version_id"));
}

impl Env {
    async fn check(&self, type_name: &str, olds: Option<&Value>, news: Value) -> credplane::protocol::CheckResponse {
        let req = json!({"type": type_name, "olds": olds, "news": news});
        self.provider.check(serde_json::from_value(req).unwrap()).unwrap()
    }

    /// `news` as check normalizes them (defaults filled in), for KMS.
    async fn checked(&self, news: &Value) -> Value {
        Value::Object(self.check(KMS, None, news.clone()).await.inputs)
    }

    async fn diff(&self, type_name: &str, id: &str, olds: &Value, news: &Value) -> credplane::protocol::DiffResponse {
        let req = json!({"type": type_name, "id": id, "olds": olds, "news": news});
        self.provider.diff(serde_json::from_value(req).unwrap()).await.unwrap()
    }
}

#[tokio::test]
async fn kms_force_delete_without_recovery_frees_the_name_at_once() {
    let env = env().await;
    let inputs = json!({"secret_name": "gone-now", "secret_data": "d", "version_id": "v1",
        "force_delete_without_recovery": true, "recovery_window_in_days": 7});
    let created = env.create(KMS, inputs.clone()).await.unwrap();
    let outputs = Value::Object(created.outputs);
    assert_eq!(outputs["version_stages"], json!(["ACSCurrent"]), "computed default");
    assert!(
        outputs.get("planned_delete_time").is_none(),
        "a live secret is not scheduled"
    );
    env.delete(KMS, "gone-now", &outputs).await;
    let cloud = env.state().await;
    assert!(
        cloud["alicloud-kms"]["secrets"].get("gone-now").is_none(),
        "deleted without a recovery window: {cloud}"
    );
    env.create(KMS, inputs).await.expect("the name is free again at once");

    // Without it, the secret waits in its recovery window and the name stays taken.
    let inputs = json!({"secret_name": "kept", "secret_data": "d", "version_id": "v1"});
    let created = env.create(KMS, inputs.clone()).await.unwrap();
    env.delete(KMS, "kept", &Value::Object(created.outputs)).await;
    assert!(env.state().await["alicloud-kms"]["secrets"]["kept"]["planned_delete_time"].is_string());
    assert!(env.create(KMS, inputs).await.is_err());
}

#[tokio::test]
async fn kms_version_stages_at_create_update_and_read() {
    let env = env().await;
    let inputs = json!({"secret_name": "staged", "secret_data": "d1", "version_id": "v1",
        "version_stages": ["ACSCurrent", "Blue"]});
    let created = env.create(KMS, inputs.clone()).await.unwrap();
    let outputs = Value::Object(created.outputs);
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["staged"];
    assert_eq!(cloud["versions"][0]["stages"], json!(["ACSCurrent", "Blue"]));
    assert_eq!(outputs["version_stages"], json!(["ACSCurrent", "Blue"]));

    // A new version with its own stages, through PutSecretValue.
    let mut news = inputs.clone();
    news["secret_data"] = secret("d2");
    news["version_id"] = json!("v2");
    news["version_stages"] = json!(["ACSCurrent", "Green"]);
    let updated = env.update(KMS, "staged", &outputs, news.clone()).await;
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["staged"];
    assert_eq!(cloud["versions"][1]["stages"], json!(["ACSCurrent", "Green"]));
    let read = env.read(KMS, "staged", Some(&news), Some(&updated)).await.unwrap();
    assert_eq!(read.outputs["version_stages"], json!(["ACSCurrent", "Green"]));

    // Only the list changes: the stages move onto the current version, or off it.
    let mut news2 = news.clone();
    news2["version_stages"] = json!(["ACSCurrent", "Red"]);
    env.update(KMS, "staged", &updated, news2).await;
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["staged"];
    assert_eq!(cloud["versions"][1]["stages"], json!(["ACSCurrent", "Red"]));

    // A list without ACSCurrent is refused in check, naming the field.
    let mut bad = inputs.clone();
    bad["version_stages"] = json!(["Blue"]);
    let failures = env.check(KMS, None, bad).await.failures;
    assert!(
        failures
            .iter()
            .any(|f| f.property == "version_stages" && f.reason.contains("ACSCurrent")),
        "{failures:?}"
    );
}

/// CreateSecret labels the initial version ACSCurrent, so a create that moves no stage reads
/// only what CreateSecret does not answer (DescribeSecret: creation time, default key).
#[tokio::test]
async fn kms_create_reads_no_secret_value_unless_it_moved_stages() {
    let env = env().await;
    let provider = env.provider_without_retries();
    env.faults(json!({"next_errors": 1, "actions": ["GetSecretValue"]}))
        .await;
    let req = json!({"type": KMS, "inputs": {"secret_name": "plain", "secret_data": "d1", "version_id": "v1"}});
    let created = provider.create(serde_json::from_value(req).unwrap()).await.unwrap();
    assert_eq!(created.outputs["version_stages"], json!(["ACSCurrent"]));
    assert!(created.outputs["create_time"].is_string(), "{:?}", created.outputs);
    assert_eq!(
        env.current_faults().await["next_errors"],
        1,
        "no GetSecretValue was sent"
    );
    // With a stage moved onto the version, the stages are read back.
    let req = json!({"type": KMS, "inputs": {"secret_name": "staged", "secret_data": "d1", "version_id": "v1",
        "version_stages": ["ACSCurrent", "Blue"]}});
    let failed = provider.create(serde_json::from_value(req).unwrap()).await.unwrap_err();
    assert_eq!(wire_error(&failed).0, ErrorCode::PartiallyCreated, "{failed:?}");
    assert_eq!(env.current_faults().await["next_errors"], 0);
}

#[tokio::test]
async fn kms_check_refuses_new_data_without_new_version_naming_both() {
    let env = env().await;
    let olds = json!({"secret_name": "n", "secret_data": secret("d"), "version_id": "v1"});
    let news = json!({"secret_name": "n", "secret_data": "e", "version_id": "v1"});
    let failures = env.check(KMS, Some(&olds), news).await.failures;
    let named: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
    assert!(
        named.contains(&"secret_data") && named.contains(&"version_id"),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .all(|f| f.reason.contains("secret_data") && f.reason.contains("version_id"))
    );
    // With a new version id, or with the same data, check passes.
    for news in [
        json!({"secret_name": "n", "secret_data": "e", "version_id": "v2"}),
        json!({"secret_name": "n", "secret_data": "d", "version_id": "v1"}),
    ] {
        let failures = env.check(KMS, Some(&olds), news).await.failures;
        assert!(failures.is_empty(), "{failures:?}");
    }
}

#[tokio::test]
async fn kms_import_keeps_key_and_instance_and_then_diff_is_clean() {
    let env = env().await;
    let mut program = ecs_inputs();
    // The recovery window is a delete-time setting no cloud call reads back: left at its default.
    program.as_object_mut().unwrap().remove("recovery_window_in_days");
    // KMS answers JSON with its keys sorted; a program writing it so round-trips exactly.
    program["extended_config"] = json!(
        r#"{"CommandId":"cmd-ACS-KMS-RotateECSSecret-For-Linux.sh","InstanceId":"i-bp1fr0a100hd0yf6ksq3","RegionId":"cn-hangzhou","SecretSubType":"Password"}"#
    );
    env.create(KMS, program.clone()).await.unwrap();

    let imported = env.read(KMS, "db-login", None, None).await.unwrap();
    assert_eq!(imported.inputs["encryption_key_id"], json!("key-hzz661646aeygbqrfqg5j"));
    assert_eq!(imported.inputs["dkms_instance_id"], json!("kst-hzz61dbabacquz826y29f"));
    let news = env.check(KMS, None, program.clone()).await;
    assert!(news.failures.is_empty(), "{:?}", news.failures);
    let diff = env
        .diff(
            KMS,
            "db-login",
            &Value::Object(imported.outputs.clone()),
            &Value::Object(news.inputs),
        )
        .await;
    assert!(!diff.changes, "import then diff: {:?}", diff.detailed_diff);

    // A secret under KMS's own key: the program does not name a key, and the diff is clean too.
    let plain = json!({"secret_name": "plain", "secret_data": "d", "version_id": "v1"});
    env.create(KMS, plain.clone()).await.unwrap();
    let imported = env.read(KMS, "plain", None, None).await.unwrap();
    let news = env.check(KMS, None, plain).await;
    let diff = env
        .diff(
            KMS,
            "plain",
            &Value::Object(imported.outputs.clone()),
            &Value::Object(news.inputs.clone()),
        )
        .await;
    assert!(!diff.changes, "import then diff: {:?}", diff.detailed_diff);
    // ... and check with those olds does not take the cloud's key for a change of key.
    let failures = env
        .check(KMS, Some(&Value::Object(imported.inputs)), Value::Object(news.inputs))
        .await
        .failures;
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test]
async fn kms_write_only_value_reaches_kms_and_never_state_outputs_or_answers() {
    let env = env().await;
    let (first, second) = ("wo-value-one-7f3a", "wo-value-two-9c1e");
    let program = json!({"secret_name": "wo", "secret_data_wo": secret(first), "secret_data_wo_version": 1,
        "version_id": "v1"});
    let checked = env.check(KMS, None, program.clone()).await;
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    let created = env.create(KMS, Value::Object(checked.inputs)).await.unwrap();
    let outputs = Value::Object(created.outputs);
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["wo"];
    assert_eq!(cloud["versions"][0]["data"], json!(first), "KMS holds the value");

    let read = env.read(KMS, "wo", Some(&program), Some(&outputs)).await.unwrap();
    let (read_inputs, read_outputs) = (Value::Object(read.inputs), Value::Object(read.outputs));
    // Same program again: no diff, though the value is in the news and never in the olds.
    let diff = env.diff(KMS, "wo", &read_outputs, &env.checked(&program).await).await;
    assert!(!diff.changes, "{:?}", diff.detailed_diff);

    // A new value with a new wo version (and version id): PutSecretValue, still not in outputs.
    let mut news = program.clone();
    news["secret_data_wo"] = secret(second);
    let diff = env.diff(KMS, "wo", &read_outputs, &env.checked(&news).await).await;
    assert!(!diff.changes, "the value alone is no change: {:?}", diff.detailed_diff);
    news["secret_data_wo_version"] = json!(2);
    let failures = env.check(KMS, Some(&program), news.clone()).await.failures;
    assert!(failures.iter().any(|f| f.property == "version_id"), "{failures:?}");
    news["version_id"] = json!("v2");
    let diff = env.diff(KMS, "wo", &read_outputs, &env.checked(&news).await).await;
    assert!(
        diff.detailed_diff.contains_key("secret_data_wo_version"),
        "{:?}",
        diff.detailed_diff
    );
    let updated = env.update(KMS, "wo", &read_outputs, news.clone()).await;
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["wo"];
    assert_eq!(cloud["versions"][1]["data"], json!(second));
    assert_eq!(cloud["versions"][1]["stages"], json!(["ACSCurrent"]));
    let imported = env.read(KMS, "wo", Some(&news), Some(&updated)).await.unwrap();

    for (what, value) in [
        ("create", &outputs),
        ("read inputs", &read_inputs),
        ("read outputs", &read_outputs),
        ("update", &updated),
        ("read after update", &Value::Object(imported.outputs)),
    ] {
        let text = value.to_string();
        assert!(
            !text.contains(first) && !text.contains(second),
            "{what} holds the value: {text}"
        );
        assert!(
            value.get("secret_data_wo").is_none() && value.get("secret_data").is_none(),
            "{what}"
        );
    }
    assert_eq!(updated["secret_data_wo_version"], json!(2));

    // Both sources at once, or a wo value without its version: refused in check.
    let mut both = program.clone();
    both["secret_data"] = secret("x");
    let failures = env.check(KMS, None, both).await.failures;
    assert!(
        failures
            .iter()
            .any(|f| f.property == "secret_data" && f.reason.contains("exclusive")),
        "{failures:?}"
    );
    let mut unversioned = program.clone();
    unversioned.as_object_mut().unwrap().remove("secret_data_wo_version");
    let failures = env.check(KMS, None, unversioned).await.failures;
    assert!(
        failures.iter().any(|f| f.property == "secret_data_wo_version"),
        "{failures:?}"
    );
    // The schema marks it write-only and secret.
    let schema = env.provider.get_schema();
    let prop = &schema.resources[KMS]["$defs"]["inputs"]["properties"]["secret_data_wo"];
    assert_eq!(prop["x-writeOnly"], json!(true), "{prop}");
}

#[tokio::test]
async fn kms_managed_rotation_settles_while_generic_drift_shows() {
    let env = env().await;
    let program = json!({
        "secret_name": "ram-keys",
        "secret_data": secret(r#"{"AccessKeys":[{"AccessKeyId":"LTAI1","AccessKeySecret":"s1"}]}"#),
        "version_id": "v1",
        "secret_type": "RAMCredentials",
        "extended_config": r#"{"SecretSubType":"RamUserAccessKey","UserName":"app"}"#,
        "enable_automatic_rotation": true,
        "rotation_interval": "604800s",
    });
    let created = env.create(KMS, env.checked(&program).await).await.unwrap();
    let outputs = Value::Object(created.outputs);
    // The cloud rotates: a new current version the program never wrote.
    env.kms(
        "PutSecretValue",
        &[
            ("SecretName", "ram-keys"),
            ("VersionId", "rotated-1"),
            (
                "SecretData",
                r#"{"AccessKeys":[{"AccessKeyId":"LTAI2","AccessKeySecret":"s2"}]}"#,
            ),
        ],
    )
    .await;
    let read = env.read(KMS, "ram-keys", Some(&program), Some(&outputs)).await.unwrap();
    let refreshed = Value::Object(read.outputs);
    assert_eq!(
        refreshed["version_id"],
        json!("v1"),
        "the rotation is not reported as drift"
    );
    let diff = env
        .diff(KMS, "ram-keys", &refreshed, &env.checked(&program).await)
        .await;
    assert!(
        !diff.changes,
        "no perpetual diff after a rotation: {:?}",
        diff.detailed_diff
    );
    let cloud = &env.state().await["alicloud-kms"]["secrets"]["ram-keys"];
    assert_eq!(
        cloud["versions"][1]["stages"],
        json!(["ACSCurrent"]),
        "the rotated value stays current"
    );
    // An import still reads the cloud's current value.
    let imported = env.read(KMS, "ram-keys", None, None).await.unwrap();
    assert_eq!(imported.outputs["version_id"], json!("rotated-1"));

    // A Generic secret changed behind our back is drift, and shows.
    let generic = json!({"secret_name": "plain", "secret_data": secret("a"), "version_id": "v1"});
    let created = env.create(KMS, env.checked(&generic).await).await.unwrap();
    env.kms(
        "PutSecretValue",
        &[("SecretName", "plain"), ("VersionId", "v9"), ("SecretData", "changed")],
    )
    .await;
    let read = env
        .read(KMS, "plain", Some(&generic), Some(&Value::Object(created.outputs)))
        .await
        .unwrap();
    assert_eq!(read.outputs["version_id"], json!("v9"));
    assert_eq!(read.outputs["secret_data"], secret("changed"));
}

#[tokio::test]
async fn kms_switch_to_write_only_needs_a_new_version_in_check() {
    let env = env().await;
    let olds = json!({"secret_name": "n", "secret_data": secret("d"), "version_id": "v1"});
    let news =
        json!({"secret_name": "n", "secret_data_wo": secret("d"), "secret_data_wo_version": 1, "version_id": "v1"});
    let failures = env.check(KMS, Some(&olds), news.clone()).await.failures;
    assert!(failures.iter().any(|f| f.property == "version_id"), "{failures:?}");
    let mut news = news;
    news["version_id"] = json!("v2");
    assert!(env.check(KMS, Some(&olds), news).await.failures.is_empty());
}
