//! `check`, table-driven: one row per validation rule of each seed, asserting the exact failure
//! paths. A row patches a valid base input (`null` removes a property).

use credplane::protocol::{CheckRequest, Failure};
use credplane::provider::Provider;
use serde_json::{Map, Value, json};

/// (row name, patch, expected failures as (path, words the reason contains)).
type Row = (&'static str, Value, &'static [(&'static str, &'static str)]);

fn run(type_name: &str, news: Value) -> (Map<String, Value>, Vec<Failure>) {
    let req = CheckRequest {
        type_name: type_name.into(),
        olds: None,
        news: news.as_object().unwrap().clone(),
    };
    let resp = Provider::default().check(req).expect("known type");
    (resp.inputs, resp.failures)
}

fn patched(base: &Value, patch: &Value) -> Value {
    let mut out = base.as_object().unwrap().clone();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn check_table(type_name: &str, base: Value, rows: &[Row]) {
    let (_, failures) = run(type_name, base.clone());
    assert!(
        failures.is_empty(),
        "{type_name}: the base inputs must be valid, got {failures:?}"
    );
    for (name, patch, expected) in rows {
        let (_, failures) = run(type_name, patched(&base, patch));
        let shown = format!("{type_name} row `{name}`: got {failures:?}");
        assert_eq!(failures.len(), expected.len(), "{shown}");
        for (path, words) in *expected {
            assert!(
                failures.iter().any(|f| f.property == *path && f.reason.contains(words)),
                "{shown}: expected a failure at `{path}` containing `{words}`"
            );
        }
    }
}

#[test]
fn aws_iam_access_key_rules() {
    check_table(
        "aws_iam_access_key",
        json!({"user": "alice"}),
        &[
            ("user is required", json!({"user": null}), &[("user", "is required")]),
            (
                "user is a string",
                json!({"user": 5}),
                &[("user", "must be of type string")],
            ),
            ("user is not empty", json!({"user": ""}), &[("user", "at least 1")]),
            (
                "status enum",
                json!({"status": "Bogus"}),
                &[("status", "must be one of: Active, Inactive")],
            ),
            (
                "unknown property",
                json!({"bogus": 1}),
                &[(
                    "bogus",
                    "unknown property; valid properties are: keepers, pgp_key, rotate_after, ses_region, sink_aws_credentials_file, sink_aws_profile, sink_file, sink_file_format, sink_kms_secret, status, store_secret_in_state, user",
                )],
            ),
            (
                "rotate_after is a duration",
                json!({"rotate_after": "90 days"}),
                &[("rotate_after", "whole number followed by m, h, d or w")],
            ),
            (
                "rotate_after is not zero",
                json!({"rotate_after": "0h"}),
                &[("rotate_after", "longer than zero")],
            ),
            (
                "keepers are strings",
                json!({"keepers": {"v": 1}}),
                &[("keepers.v", "must be of type string")],
            ),
            (
                "sink_file_format needs sink_file",
                json!({"sink_file_format": "dotenv"}),
                &[("sink_file_format", "sink_file is not")],
            ),
            (
                "sink_file_format enum",
                json!({"sink_file": "k", "sink_file_format": "yaml"}),
                &[("sink_file_format", "must be one of: json, dotenv, aws-credentials")],
            ),
            (
                "sink_aws_credentials_file needs sink_aws_profile",
                json!({"sink_aws_credentials_file": "/c"}),
                &[("sink_aws_credentials_file", "sink_aws_profile is not")],
            ),
            (
                "sink_aws_profile is a profile name",
                json!({"sink_aws_profile": "[ci]"}),
                &[("sink_aws_profile", "must be a profile name")],
            ),
            (
                "store_secret_in_state false needs a sink",
                json!({"store_secret_in_state": false}),
                &[("store_secret_in_state", "no sink is set")],
            ),
            (
                "pgp_key keybase needs a user",
                json!({"pgp_key": "keybase:"}),
                &[("pgp_key", "keybase")],
            ),
            (
                "pgp_key external needs name|url",
                json!({"pgp_key": "external:bob"}),
                &[("pgp_key", "external:<name>|<url>")],
            ),
            (
                "pgp_key external needs an http url",
                json!({"pgp_key": "external:bob|ftp://x/%s"}),
                &[("pgp_key", "http")],
            ),
            (
                "pgp_key is a key",
                json!({"pgp_key": "not a key!"}),
                &[("pgp_key", "base64")],
            ),
        ],
    );
}

const ALICE: &str = "ocid1.user.oc1..aaaaaaaaalice";

#[test]
fn oci_identity_auth_token_rules() {
    check_table(
        "oci_identity_auth_token",
        json!({"description": "", "user_id": ALICE}),
        &[
            (
                "description is required",
                json!({"description": null}),
                &[("description", "is required")],
            ),
            (
                "description length",
                json!({"description": "x".repeat(401)}),
                &[("description", "at most 400")],
            ),
            (
                "rotate_after is a duration",
                json!({"rotate_after": "12"}),
                &[("rotate_after", "whole number followed by m, h, d or w")],
            ),
            (
                "user_id is required",
                json!({"user_id": null}),
                &[("user_id", "is required")],
            ),
            (
                "user_id is an OCID",
                json!({"user_id": "alice"}),
                &[("user_id", "user OCID")],
            ),
            (
                "user_id is a user OCID",
                json!({"user_id": "ocid1.group.oc1..aaaaaaaagroup"}),
                &[("user_id", "user OCID")],
            ),
            (
                "unknown property",
                json!({"display_name": "x"}),
                &[("display_name", "unknown property")],
            ),
        ],
    );
}

#[test]
fn oci_identity_customer_secret_key_rules() {
    check_table(
        "oci_identity_customer_secret_key",
        json!({"display_name": "s3", "user_id": "ocid1.user.oc1.phx.aaaaaaaaalice"}),
        &[
            (
                "display_name is required",
                json!({"display_name": null}),
                &[("display_name", "is required")],
            ),
            (
                "display_name is a string",
                json!({"display_name": true}),
                &[("display_name", "must be of type string")],
            ),
            (
                "user_id is required",
                json!({"user_id": null}),
                &[("user_id", "is required")],
            ),
            (
                "user_id is a user OCID",
                json!({"user_id": "ocid1.user"}),
                &[("user_id", "user OCID")],
            ),
        ],
    );
}

#[test]
fn alicloud_ram_access_key_rules() {
    check_table(
        "alicloud_ram_access_key",
        json!({"user_name": "alice"}),
        &[
            (
                "status enum",
                json!({"status": "Disabled"}),
                &[("status", "must be one of: Active, Inactive")],
            ),
            (
                "secret_file is a file",
                json!({"secret_file": "keys/"}),
                &[("secret_file", "not a directory")],
            ),
            (
                "pgp_key form",
                json!({"pgp_key": "keybase:"}),
                &[("pgp_key", "keybase")],
            ),
            (
                "rotate_after is a duration",
                json!({"rotate_after": "1y"}),
                &[("rotate_after", "whole number followed by m, h, d or w")],
            ),
            (
                "store_secret_in_state false: secret_file is a sink",
                json!({"store_secret_in_state": false, "secret_file": "k.json"}),
                &[],
            ),
            (
                "user_name length",
                json!({"user_name": "x".repeat(65)}),
                &[("user_name", "at most 64")],
            ),
            (
                "unknown property",
                json!({"user": "alice"}),
                &[("user", "unknown property")],
            ),
        ],
    );
}

#[test]
fn alicloud_kms_secret_rules() {
    let rds = r#"{"Accounts":[{"AccountName":"a","AccountPassword":"p"}]}"#;
    check_table(
        "alicloud_kms_secret",
        json!({"secret_name": "db", "secret_data": "s3cr3t", "version_id": "v1"}),
        &[
            (
                "secret_name is required",
                json!({"secret_name": null}),
                &[("secret_name", "is required")],
            ),
            (
                "secret_data is required",
                json!({"secret_data": null}),
                &[("secret_data", "is required")],
            ),
            (
                "version_id is required",
                json!({"version_id": null}),
                &[("version_id", "is required")],
            ),
            (
                "secret_type enum",
                json!({"secret_type": "Kv"}),
                &[("secret_type", "must be one of: Generic, Rds, RAMCredentials, ECS")],
            ),
            (
                "secret_data_type enum",
                json!({"secret_data_type": "hex"}),
                &[("secret_data_type", "must be one of: text, binary")],
            ),
            // 15361 two-byte characters: under 30720 characters, over 30720 bytes.
            (
                "secret_data at most 30720 bytes",
                json!({"secret_data": "é".repeat(15361)}),
                &[("secret_data", "at most 30720 bytes")],
            ),
            (
                "binary data is base64",
                json!({"secret_data_type": "binary", "secret_data": "not base64!"}),
                &[("secret_data", "base64")],
            ),
            (
                "managed types take text",
                json!({"secret_type": "Rds", "secret_data": rds, "secret_data_type": "binary"}),
                &[
                    ("secret_data_type", "must be text when secret_type is Rds"),
                    ("secret_data", "base64"),
                ],
            ),
            (
                "rotation only for managed types",
                json!({"enable_automatic_rotation": true}),
                &[("enable_automatic_rotation", "Rds, RAMCredentials or ECS")],
            ),
            (
                "rotation_interval format",
                json!({"secret_type": "Rds", "secret_data": rds, "enable_automatic_rotation": true, "rotation_interval": "7d"}),
                &[("rotation_interval", "whole number of seconds")],
            ),
            (
                "rotation_interval needs rotation",
                json!({"rotation_interval": "604800s"}),
                &[("rotation_interval", "needs enable_automatic_rotation")],
            ),
            (
                "Rds layout",
                json!({"secret_type": "Rds", "secret_data": "{}"}),
                &[("secret_data", "Accounts")],
            ),
            (
                "RAMCredentials layout",
                json!({"secret_type": "RAMCredentials", "secret_data": r#"{"AccessKeys":[{"AccessKeyId":"a"}]}"#}),
                &[("secret_data", "AccessKeySecret")],
            ),
            (
                "ECS Password layout",
                json!({"secret_type": "ECS", "extended_config": r#"{"SecretSubType":"Password"}"#, "secret_data": r#"{"UserName":"u"}"#}),
                &[("secret_data", r#"{"UserName":"","Password":""}"#)],
            ),
            (
                "ECS SSHKey layout",
                json!({"secret_type": "ECS", "extended_config": r#"{"SecretSubType":"SSHKey"}"#, "secret_data": r#"{"UserName":"u","Password":"p"}"#}),
                &[("secret_data", "PrivateKey")],
            ),
            (
                "ECS needs SecretSubType",
                json!({"secret_type": "ECS", "secret_data": r#"{"UserName":"u","Password":"p"}"#}),
                &[("extended_config", "SecretSubType")],
            ),
            (
                "extended_config is JSON",
                json!({"secret_type": "Rds", "secret_data": rds, "extended_config": "SecretSubType=x"}),
                &[("extended_config", "JSON object")],
            ),
            (
                "policy is JSON",
                json!({"policy": "allow all"}),
                &[("policy", "JSON object")],
            ),
            (
                "custom data not for Generic",
                json!({"extended_config_custom_data": {"k": "v"}}),
                &[("extended_config_custom_data", "Generic")],
            ),
            (
                "custom_data not for Generic",
                json!({"custom_data": {"k": "v"}}),
                &[("custom_data", "Generic")],
            ),
            (
                "exactly one of: key_id",
                json!({"key_id": "key-1"}),
                &[("key_id", "exactly one of key_id, secret_name and certificate_id")],
            ),
            (
                "exactly one of: certificate_id",
                json!({"certificate_id": "cert-1"}),
                &[("certificate_id", "exactly one of")],
            ),
            (
                "recovery window range",
                json!({"recovery_window_in_days": 3}),
                &[("recovery_window_in_days", "at least 7")],
            ),
            (
                "tag values are strings",
                json!({"tags": {"env": 5}}),
                &[("tags.env", "must be of type string")],
            ),
        ],
    );
}

#[test]
fn the_seed_example_of_kms_secret_is_valid() {
    let (_, failures) = run(
        "alicloud_kms_secret",
        json!({
            "version_id": "v1", "secret_name": "terraform-example", "description": "test", "secret_type": "ECS",
            "enable_automatic_rotation": true, "secret_data_type": "text",
            "secret_data": "{\"UserName\":\"ecs-user1423\",\"Password\":\"ecs-user1423\"}",
            "policy": "{\"Version\":\"1\",\"Statement\":[{\"Action\":[\"kms:*\"],\"Resource\":[\"*\"],\"Effect\":\"Allow\",\"Principal\":{\"RAM\":[\"acs:ram::1117600963847258:*\"]},\"Sid\":\"kms default secret policy\"}]}",
            "encryption_key_id": "key-phzz661646aeygbqrfqg5j", "dkms_instance_id": "kst-phzz61dbabacquz826y29f",
            "rotation_interval": "604800s",
            "extended_config": "{\"SecretSubType\":\"Password\",\"InstanceId\":\"i-bp1fr0a100hd0yf6ksq3\",\"CustomData\":{\"Key1\":\"v1\",\"fds\":\"fdsf\"},\"CommandId\":\"cmd-ACS-KMS-RotateECSSecret-For-Linux.sh\",\"RegionId\":\"cn-hangzhou\"}"
        }),
    );
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn every_failure_is_reported_at_once() {
    let (_, failures) = run(
        "aws_iam_access_key",
        json!({"status": "x", "extra": true, "pgp_key": "keybase:"}),
    );
    let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(paths, ["extra", "pgp_key", "status", "user"]);
}

#[test]
fn defaults_are_applied_and_secrets_wrapped() {
    let (inputs, failures) = run(
        "alicloud_kms_secret",
        json!({"secret_name": "db", "secret_data": "s3cr3t", "version_id": "v1"}),
    );
    assert!(failures.is_empty());
    assert_eq!(
        inputs["secret_data"],
        json!({"$credplane": "secret", "value": "s3cr3t"})
    );
    assert_eq!(inputs["policy_name"], "default");
    assert_eq!(inputs["recovery_window_in_days"], 30);
    assert_eq!(inputs["secret_type"], "Generic");
    assert_eq!(inputs["secret_data_type"], "text");
    assert_eq!(inputs["enable_automatic_rotation"], false);
    let (inputs, _) = run("aws_iam_access_key", json!({"user": "alice"}));
    assert_eq!(inputs["status"], "Active");
}

#[test]
fn enveloped_inputs_are_accepted_and_stay_secret() {
    let (inputs, failures) = run(
        "aws_iam_access_key",
        json!({"user": {"$credplane": "secret", "value": "alice"}}),
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(inputs["user"], json!({"$credplane": "secret", "value": "alice"}));
}

#[test]
fn unknown_inputs_are_not_failures() {
    let (inputs, failures) = run(
        "oci_identity_auth_token",
        json!({"description": "x", "user_id": {"$credplane": "unknown"}}),
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(inputs["user_id"], json!({"$credplane": "unknown"}));
}

#[test]
fn failure_reasons_never_quote_a_secret() {
    let secret = format!("TOPSECRET{}", "é".repeat(15361));
    let (_, failures) = run(
        "alicloud_kms_secret",
        json!({"secret_name": "db", "secret_data": secret, "version_id": 7, "secret_type": "Rds"}),
    );
    assert!(!failures.is_empty());
    for f in failures {
        assert!(!f.reason.contains("TOPSECRET"), "{f:?}");
    }
}

#[test]
fn unknown_type_is_a_failure_at_type() {
    let err = Provider::default()
        .check(CheckRequest {
            type_name: "aws_nope".into(),
            olds: None,
            news: Map::new(),
        })
        .unwrap_err();
    let (code, data) = err.to_wire();
    assert_eq!(code.code(), -32602);
    assert_eq!(data.failures[0].property, "type");
    assert!(data.failures[0].reason.contains("aws_iam_access_key"));
}
