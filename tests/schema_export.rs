//! `credplane schema --format pulumi|terraform`: the Pulumi package schema validates against
//! Pulumi's own published metaschema, and the Terraform document has the shape of
//! `terraform providers schema -json`. The committed copies (schema/pulumi.json,
//! schema/terraform.json) are the golden files; tests/schema_files.rs checks they are current.

use credplane::export::{pulumi, terraform};
use credplane::provider::Provider;
use serde_json::Value;
use std::process::Command;

/// The Pulumi release whose metaschema we validate against (pkg/codegen/schema/pulumi.json).
const PULUMI_PKG: &str = "github.com/pulumi/pulumi/pkg/v3@v3.276.0";

/// Pulumi's metaschema, taken from the Pulumi Go module through the Go module proxy.
fn pulumi_metaschema() -> Value {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("go")
        .args(["mod", "download", "-json", PULUMI_PKG])
        .current_dir(work.path())
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("`go` runs (the Go toolchain is needed to fetch Pulumi's metaschema)");
    assert!(
        out.status.success(),
        "go mod download {PULUMI_PKG} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = info["Dir"]
        .as_str()
        .expect("go mod download names the module's directory");
    let text = std::fs::read_to_string(format!("{dir}/codegen/schema/pulumi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn pulumi_package_validates_against_the_pulumi_metaschema() {
    let meta = pulumi_metaschema();
    let validator = jsonschema::validator_for(&meta).expect("Pulumi's metaschema compiles");
    let package = pulumi::package(&Provider::default().get_schema());
    let errors: Vec<String> = validator
        .iter_errors(&package)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the Pulumi package schema is invalid:\n{}",
        errors.join("\n")
    );

    // The metaschema must also reject a broken package, or the check above proves nothing.
    let mut broken = package.clone();
    broken["resources"]["credplane:aws:IamAccessKey"]["properties"]["user"]["type"] = "text".into();
    assert!(
        !validator.is_valid(&broken),
        "a property of type `text` must be refused"
    );
}

#[test]
fn pulumi_package_flags_secrets_replacements_and_required_fields() {
    let package = pulumi::package(&Provider::default().get_schema());
    let resources = package["resources"].as_object().unwrap();
    let tokens: Vec<&str> = resources.keys().map(String::as_str).collect();
    assert_eq!(
        tokens,
        [
            "credplane:alicloud:KmsSecret",
            "credplane:alicloud:RamAccessKey",
            "credplane:aws:IamAccessKey",
            "credplane:oci:IdentityAuthToken",
            "credplane:oci:IdentityCustomerSecretKey",
        ]
    );
    let key = &resources["credplane:aws:IamAccessKey"];
    assert_eq!(key["properties"]["secret"]["secret"], true);
    assert_eq!(key["properties"]["ses_smtp_password_v4"]["secret"], true);
    assert_eq!(key["inputProperties"]["user"]["replaceOnChanges"], true);
    assert!(
        key["inputProperties"]["status"].get("replaceOnChanges").is_none(),
        "status updates in place"
    );
    assert_eq!(key["requiredInputs"], serde_json::json!(["user"]));
    assert_eq!(
        key["inputProperties"]["status"]["$ref"],
        "#/types/credplane:aws:KeyStatus"
    );
    let status = &package["types"]["credplane:aws:KeyStatus"];
    assert_eq!(status["type"], "string");
    assert_eq!(status["enum"][0]["value"], "Active");
    let kms = &resources["credplane:alicloud:KmsSecret"];
    assert_eq!(kms["inputProperties"]["secret_data"]["secret"], true);
    assert_eq!(kms["inputProperties"]["tags"]["type"], "object");
    assert_eq!(kms["inputProperties"]["tags"]["additionalProperties"]["type"], "string");
}

#[test]
fn terraform_document_has_the_providers_schema_shape() {
    let schema = Provider::default().get_schema();
    let doc = terraform::providers_schema(&schema);
    assert_eq!(doc["format_version"], "1.0");
    let provider = &doc["provider_schemas"][terraform::ADDRESS];
    assert!(provider["provider"]["block"].is_object());
    let resources = provider["resource_schemas"].as_object().unwrap();
    assert_eq!(resources.len(), schema.resources.len());
    for (type_name, resource) in resources {
        let attributes = resource["block"]["attributes"].as_object().unwrap();
        assert!(attributes.contains_key("id"), "{type_name} has no id attribute");
        for (name, attr) in attributes {
            assert!(
                attr["type"].is_string() || attr["type"].is_array(),
                "{type_name}.{name}: no cty type"
            );
            let modes = ["required", "optional", "computed"]
                .iter()
                .filter(|m| attr[**m] == true)
                .count();
            assert!(
                modes >= 1,
                "{type_name}.{name}: neither required, optional nor computed"
            );
            assert!(
                !(attr["required"] == true && attr["computed"] == true),
                "{type_name}.{name}"
            );
        }
    }
    let key = &resources["aws_iam_access_key"]["block"]["attributes"];
    assert_eq!(key["user"]["required"], true);
    assert_eq!(key["status"]["optional"], true);
    assert_eq!(key["secret"]["sensitive"], true);
    assert_eq!(key["secret"]["computed"], true);
    assert!(key["secret"].get("optional").is_none());
    assert_eq!(
        resources["alicloud_kms_secret"]["block"]["attributes"]["tags"]["type"],
        serde_json::json!(["map", "string"])
    );
}

#[test]
fn the_cli_prints_each_format() {
    for (format, probe) in [
        ("pulumi", "/resources/credplane:aws:IamAccessKey"),
        ("terraform", "/provider_schemas"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_credplane"))
            .args(["schema", "--format", format])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "schema --format {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc.pointer(probe).is_some(), "schema --format {format} lacks {probe}");
    }
}
