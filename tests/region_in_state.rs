//! Region in state: a KMS secret records the region (and endpoint) it lives in, and read, update
//! and delete go there after the provider is reconfigured for another region; an AWS key records
//! the region its SES password was derived for.

mod sandbox_env;

use credplane::sandbox::alicloud::REGION;
use sandbox_env::{Env, delete_with, read_with, secret};
use serde_json::{Value, json};

const KMS: &str = "alicloud_kms_secret";
const OTHER_REGION: &str = "cn-shanghai";

#[tokio::test]
async fn kms_secret_is_read_updated_and_deleted_in_its_recorded_region() {
    let env = Env::start().await;
    let inputs = Value::Object(
        env.check(
            KMS,
            None,
            json!({"secret_name": "where", "secret_data": secret("d1"), "version_id": "v1"}),
        )
        .inputs,
    );
    let outputs = Value::Object(env.create(KMS, inputs.clone()).await.unwrap().outputs);
    assert_eq!(outputs["region"], json!(REGION));
    assert_eq!(outputs["endpoint"], json!(env.sandbox.url));

    // The provider moves to another region (same endpoint: the sandbox serves every region).
    let moved = env.provider_with(json!({"alicloud": {"region": OTHER_REGION}}));
    let read = read_with(&moved, KMS, "where", Some(&inputs), Some(&outputs))
        .await
        .expect("the secret is found in its own region, not reported gone");
    assert_eq!(read.outputs["region"], json!(REGION));
    assert_eq!(read.outputs["version_id"], json!("v1"));

    // An update goes to the secret's region too.
    let mut news = inputs.clone();
    news["description"] = json!("still in hangzhou");
    let req = json!({"type": KMS, "id": "where", "olds": Value::Object(read.outputs), "news": news});
    let updated = Value::Object(
        moved
            .update(serde_json::from_value(req).unwrap())
            .await
            .unwrap()
            .outputs,
    );
    assert_eq!(updated["region"], json!(REGION));
    let state = env.state().await;
    assert_eq!(
        state["alicloud-kms"]["secrets"]["where"]["description"],
        json!("still in hangzhou")
    );
    assert!(
        state["alicloud-kms"]["other_regions"].get(OTHER_REGION).is_none(),
        "{state}"
    );

    // A secret made by the moved provider lives in the other region, where a same-named one may be.
    let there = Value::Object(
        sandbox_env::create_with(&moved, KMS, inputs.clone())
            .await
            .unwrap()
            .outputs,
    );
    assert_eq!(there["region"], json!(OTHER_REGION));
    let state = env.state().await;
    assert!(
        state["alicloud-kms"]["other_regions"][OTHER_REGION]["where"].is_object(),
        "{state}"
    );

    // Delete deletes the recorded region's secret, and only it.
    delete_with(&moved, KMS, "where", &updated).await.unwrap();
    let state = env.state().await;
    assert!(
        state["alicloud-kms"]["secrets"]["where"]["planned_delete_time"].is_string(),
        "{state}"
    );
    assert!(state["alicloud-kms"]["other_regions"][OTHER_REGION]["where"]["planned_delete_time"].is_null());
    assert!(
        read_with(&moved, KMS, "where", Some(&inputs), Some(&updated))
            .await
            .is_none()
    );
    assert!(
        read_with(&moved, KMS, "where", Some(&inputs), Some(&there))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn aws_key_records_the_region_its_ses_password_was_derived_for() {
    let env = Env::start().await;
    let ty = "aws_iam_access_key";
    let region = env.sandbox.provider_settings()["aws"]["region"]
        .as_str()
        .unwrap()
        .to_string();
    let user = "alice";
    let inputs = json!({"user": user});
    let outputs = Value::Object(env.create(ty, inputs.clone()).await.unwrap().outputs);
    assert_eq!(outputs["ses_smtp_password_region"], json!(region));

    // Another provider region changes nothing already derived: state still says where it works.
    let moved = env.provider_with(json!({"aws": {"region": "ap-south-1"}}));
    let id = outputs["id"].as_str().unwrap();
    let read = read_with(&moved, ty, id, Some(&inputs), Some(&outputs)).await.unwrap();
    assert_eq!(read.outputs["ses_smtp_password_region"], json!(region));
    assert_eq!(read.outputs["ses_smtp_password_v4"], outputs["ses_smtp_password_v4"]);

    // An explicit ses_region derives it for that region, and says so.
    let news = json!({"user": user, "ses_region": "eu-west-1"});
    let req = json!({"type": ty, "id": id, "olds": outputs, "news": news});
    let updated = moved
        .update(serde_json::from_value(req).unwrap())
        .await
        .unwrap()
        .outputs;
    assert_eq!(updated["ses_smtp_password_region"], json!("eu-west-1"));
}
