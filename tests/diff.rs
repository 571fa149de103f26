//! `diff`: every ForceNew and every Updatable field of every type, plus the cases in between.

use credplane::protocol::{DiffKind, DiffRequest, DiffResponse};
use credplane::provider::Provider;
use serde_json::{Map, Value, json};

fn diff(type_name: &str, olds: Value, news: Value) -> DiffResponse {
    run(DiffRequest {
        type_name: type_name.into(),
        id: "id-1".into(),
        olds: olds.as_object().unwrap().clone(),
        news: news.as_object().unwrap().clone(),
        ignore_changes: vec![],
    })
}

/// `diff` may ask the cloud (a key's age); none of these rows does, so no cloud is configured.
fn run(req: DiffRequest) -> DiffResponse {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(Provider::default().diff(req)).unwrap()
}

fn with(base: &Value, field: &str, value: Value) -> Value {
    let mut map: Map<String, Value> = base.as_object().unwrap().clone();
    if value.is_null() {
        map.remove(field);
    } else {
        map.insert(field.into(), value);
    }
    Value::Object(map)
}

/// (type, field, old value (null = absent), new value (null = absent), expected kind).
const ALICE: &str = "ocid1.user.oc1..aaaaaaaaalice";

fn rows() -> Vec<(&'static str, Value, &'static str, Value, Value, DiffKind)> {
    let aws = json!({"user": "alice", "status": "Active"});
    let token = json!({"description": "d", "user_id": ALICE});
    let key = json!({"display_name": "n", "user_id": ALICE});
    let ram = json!({"user_name": "alice"});
    let kms = json!({"secret_name": "db", "secret_data": "s1", "version_id": "v1", "secret_type": "Rds", "secret_data_type": "text", "policy_name": "default", "recovery_window_in_days": 30, "enable_automatic_rotation": true});
    use DiffKind::*;
    let mut rows = vec![
        (
            "aws_iam_access_key",
            aws.clone(),
            "user",
            json!("alice"),
            json!("bob"),
            UpdateReplace,
        ),
        (
            "aws_iam_access_key",
            aws.clone(),
            "pgp_key",
            Value::Null,
            json!("keybase:bob"),
            AddReplace,
        ),
        (
            "aws_iam_access_key",
            aws.clone(),
            "status",
            json!("Active"),
            json!("Inactive"),
            Update,
        ),
        (
            "oci_identity_auth_token",
            token.clone(),
            "description",
            json!("d"),
            json!("e"),
            Update,
        ),
        (
            "oci_identity_auth_token",
            token.clone(),
            "user_id",
            json!(ALICE),
            json!("ocid1.user.oc1..aaaaaaaabob"),
            UpdateReplace,
        ),
        (
            "oci_identity_customer_secret_key",
            key.clone(),
            "display_name",
            json!("n"),
            json!("m"),
            Update,
        ),
        (
            "oci_identity_customer_secret_key",
            key.clone(),
            "user_id",
            json!(ALICE),
            json!("ocid1.user.oc1..aaaaaaaabob"),
            UpdateReplace,
        ),
        (
            "alicloud_ram_access_key",
            ram.clone(),
            "user_name",
            json!("alice"),
            json!("bob"),
            UpdateReplace,
        ),
        (
            "alicloud_ram_access_key",
            ram.clone(),
            "secret_file",
            Value::Null,
            json!("/tmp/k.json"),
            AddReplace,
        ),
        (
            "alicloud_ram_access_key",
            ram.clone(),
            "pgp_key",
            json!("keybase:a"),
            Value::Null,
            DeleteReplace,
        ),
        (
            "alicloud_ram_access_key",
            ram.clone(),
            "status",
            json!("Active"),
            json!("Inactive"),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "secret_name",
            json!("db"),
            json!("db2"),
            UpdateReplace,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "secret_type",
            json!("Rds"),
            json!("Generic"),
            UpdateReplace,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "secret_data_type",
            json!("text"),
            json!("binary"),
            UpdateReplace,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "encryption_key_id",
            Value::Null,
            json!("key-1"),
            AddReplace,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "dkms_instance_id",
            json!("kst-1"),
            json!("kst-2"),
            UpdateReplace,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "extended_config",
            Value::Null,
            json!("{}"),
            AddReplace,
        ),
        // Updatable here although ForceNew in Terraform: see the field descriptions.
        (
            "alicloud_kms_secret",
            kms.clone(),
            "secret_data",
            json!("s1"),
            json!("s2"),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "version_id",
            json!("v1"),
            json!("v2"),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "rotation_interval",
            Value::Null,
            json!("604800s"),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "tags",
            json!({"a": "1"}),
            json!({"a": "2"}),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "description",
            json!("x"),
            Value::Null,
            Delete,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "extended_config_custom_data",
            Value::Null,
            json!({"k": "v"}),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "custom_data",
            Value::Null,
            json!({"k": "v"}),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "enable_automatic_rotation",
            json!(true),
            json!(false),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "policy",
            Value::Null,
            json!("{}"),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "policy_name",
            json!("default"),
            json!("p2"),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "recovery_window_in_days",
            json!(30),
            json!(7),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "move_to_version",
            Value::Null,
            json!("v1"),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "remove_from_version",
            Value::Null,
            json!("v0"),
            Add,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "force_delete_without_recovery",
            json!(false),
            json!(true),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "version_stages",
            json!(["ACSCurrent"]),
            json!(["ACSCurrent", "Blue"]),
            Update,
        ),
        (
            "alicloud_kms_secret",
            kms.clone(),
            "secret_data_wo_version",
            Value::Null,
            json!(1),
            Add,
        ),
        (
            "aws_iam_access_key",
            aws.clone(),
            "ses_region",
            Value::Null,
            json!("eu-west-1"),
            Add,
        ),
    ];
    // Rotation and sinks, on every key type that has them. Rows unset the new value: a key that
    // sets `rotate_after` or `keepers` asks the cloud in `diff` (tests/rotation.rs covers that).
    let key_types = [
        ("aws_iam_access_key", &aws),
        ("alicloud_ram_access_key", &ram),
        ("oci_identity_auth_token", &token),
        ("oci_identity_customer_secret_key", &key),
    ];
    for (type_name, base) in key_types {
        rows.push((
            type_name,
            base.clone(),
            "rotate_after",
            json!("90d"),
            Value::Null,
            Delete,
        ));
        rows.push((
            type_name,
            base.clone(),
            "keepers",
            json!({"v": "1"}),
            Value::Null,
            DeleteReplace,
        ));
    }
    let sinks: [(&str, Value); 6] = [
        ("sink_file", json!("k.json")),
        ("sink_file_format", json!("dotenv")),
        ("sink_aws_profile", json!("ci")),
        ("sink_aws_credentials_file", json!("/c")),
        ("sink_kms_secret", json!("ci/key")),
        ("store_secret_in_state", json!(false)),
    ];
    for (type_name, base) in [("aws_iam_access_key", &aws), ("alicloud_ram_access_key", &ram)] {
        for (field, value) in &sinks {
            rows.push((type_name, base.clone(), field, Value::Null, value.clone(), AddReplace));
        }
    }
    rows
}

#[test]
fn every_force_new_and_updatable_field() {
    for (type_name, base, field, old, new, kind) in rows() {
        let olds = with(&with(&base, field, old), "id", json!("id-1"));
        let news = with(&base, field, new);
        let d = diff(type_name, olds, news);
        let what = format!("{type_name}.{field}: {d:?}");
        assert!(d.changes, "{what}");
        assert_eq!(d.detailed_diff.len(), 1, "{what}");
        assert_eq!(d.detailed_diff[field].kind, kind, "{what}");
        let replaces = matches!(
            kind,
            DiffKind::AddReplace | DiffKind::UpdateReplace | DiffKind::DeleteReplace
        );
        assert_eq!(
            d.replaces,
            if replaces { vec![field.to_string()] } else { vec![] },
            "{what}"
        );
        assert_eq!(d.stables.is_empty(), replaces, "{what}");
        if !replaces {
            assert!(
                d.stables.iter().any(|s| &**s == "id") && !d.stables.iter().any(|s| &**s == field),
                "{what}"
            );
        }
    }
}

#[test]
fn the_schema_agrees_with_the_table() {
    // Every input flagged ForceNew or Updatable in the schema has a row above.
    let provider = Provider::default();
    let rows = rows();
    for resource in provider.registry().iter() {
        for (name, meta) in &resource.schema().inputs {
            if meta.force_new || meta.updatable {
                assert!(
                    rows.iter().any(|(t, _, f, ..)| *t == resource.type_name() && f == name),
                    "{}.{name} has no diff row",
                    resource.type_name()
                );
            }
        }
    }
}

#[test]
fn no_change_no_diff_and_secrets_compare_by_value() {
    let olds = json!({"id": "db", "secret_name": "db", "secret_data": {"$credplane": "secret", "value": "s"}, "version_id": "v1"});
    let news = json!({"secret_name": "db", "secret_data": "s", "version_id": "v1"});
    let d = diff("alicloud_kms_secret", olds, news);
    assert!(!d.changes, "{d:?}");
}

#[test]
fn unknown_new_values_are_changes() {
    let olds = json!({"id": "k", "user": "alice", "status": "Active"});
    let news = json!({"user": {"$credplane": "unknown"}, "status": "Active"});
    let d = diff("aws_iam_access_key", olds, news);
    assert_eq!(d.detailed_diff["user"].kind, DiffKind::UpdateReplace);
}

#[test]
fn ignore_changes_skips_properties() {
    let d = run(DiffRequest {
        type_name: "aws_iam_access_key".into(),
        id: "k".into(),
        olds: json!({"user": "alice", "status": "Active"})
            .as_object()
            .unwrap()
            .clone(),
        news: json!({"user": "bob", "status": "Active"}).as_object().unwrap().clone(),
        ignore_changes: vec!["user".into()],
    });
    assert!(!d.changes);
}

#[test]
fn computed_inputs_left_out_keep_their_value() {
    // RAM status is Optional+Computed: omitting it keeps what the cloud has.
    let d = diff(
        "alicloud_ram_access_key",
        json!({"id": "k", "user_name": "alice", "status": "Inactive"}),
        json!({"user_name": "alice"}),
    );
    assert!(!d.changes, "{d:?}");
}

#[test]
fn kms_replacement_must_rename_and_never_deletes_first() {
    use credplane::protocol::CheckRequest;
    let base = json!({"secret_name": "db", "secret_data": "s", "version_id": "v1", "secret_type": "Generic"});
    let check = |news: Value| {
        Provider::default()
            .check(CheckRequest {
                type_name: "alicloud_kms_secret".into(),
                olds: Some(base.as_object().unwrap().clone()),
                news: news.as_object().unwrap().clone(),
            })
            .unwrap()
            .failures
    };
    let same_name = check(with(&base, "encryption_key_id", json!("key-2")));
    assert_eq!(same_name.len(), 1, "{same_name:?}");
    assert_eq!(same_name[0].property, "encryption_key_id");
    assert!(same_name[0].reason.contains("choose a new secret_name"));
    let renamed = check(with(
        &with(&base, "encryption_key_id", json!("key-2")),
        "secret_name",
        json!("db2"),
    ));
    assert!(renamed.is_empty(), "{renamed:?}");
    let d = diff(
        "alicloud_kms_secret",
        base.clone(),
        with(&base, "secret_name", json!("db2")),
    );
    assert!(!d.delete_before_replace);
    let key = diff("aws_iam_access_key", json!({"user": "a"}), json!({"user": "b"}));
    assert!(!key.delete_before_replace, "a new key is made before the old one goes");
}
