//! The committed `schema/` is what this build generates, the OpenRPC document is valid, and the
//! published schema covers every argument and attribute of the seed documents.

use credplane::provider::Provider;
use credplane::schema_files;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_files_are_current() {
    let stale = schema_files::stale(&Provider::default(), &repo().join("schema"));
    assert!(
        stale.is_empty(),
        "stale files in schema/: {stale:?}\nregenerate with: {}",
        schema_files::REGENERATE
    );
}

/// The provider serves and checks against the documents committed under `schema/resources/`,
/// compiled into it (they parse faster than they derive); they must be what the Rust types
/// derive, or `check` and `diff` would follow a stale schema.
#[test]
fn committed_documents_are_the_derived_ones() {
    let provider = Provider::default();
    let (served, derived) = (provider.get_schema().resources, provider.derived_schema().resources);
    assert_eq!(served.keys().collect::<Vec<_>>(), derived.keys().collect::<Vec<_>>());
    for (name, document) in &derived {
        assert!(
            served[name] == *document,
            "the served schema of {name} is not the derived one\nregenerate with: {}",
            schema_files::REGENERATE
        );
    }
}

#[test]
fn openrpc_document_validates_against_the_meta_schema() {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/vectors/openrpc/meta-schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&meta).expect("meta-schema compiles");
    let document = credplane::rpc::methods::document();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "OpenRPC document is invalid:\n{}", errors.join("\n"));
    let names: Vec<&str> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, credplane::rpc::methods::names());
    // Every method served (the engine's too) is documented, and nothing else.
    let module = credplane::rpc::module(std::sync::Arc::new(Provider::default()));
    let mut served: Vec<&str> = module.method_names().collect();
    let mut documented = names.clone();
    served.sort_unstable();
    documented.sort_unstable();
    assert_eq!(served, documented, "the served methods are the documented ones");
    assert!(documented.contains(&"engine.register"), "{documented:?}");
}

#[test]
fn every_resource_schema_compiles_as_json_schema() {
    for (name, doc) in Provider::default().get_schema().resources {
        for part in ["inputs", "outputs"] {
            let mut schema = doc.clone();
            schema["$ref"] = Value::String(format!("#/$defs/{part}"));
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} {part}: {e}"));
        }
    }
}

/// The backticked names of the bullet lines under a seed's argument and attribute headings.
fn seed_names(seed: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(seed)
        .unwrap_or_else(|e| panic!("{}: {e} (../shared/seeds must sit beside the repo)", seed.display()));
    let mut names = BTreeSet::new();
    let mut in_reference = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            in_reference = line.contains("Argument Reference") || line.contains("Attributes Reference");
            continue;
        }
        if let (true, Some(rest)) = (in_reference, line.strip_prefix("* `"))
            && let Some((name, _)) = rest.split_once('`')
        {
            names.insert(name.to_string());
        }
    }
    names
}

#[test]
fn schema_covers_every_seed_argument_and_attribute() {
    let seeds = repo().join("../shared/seeds");
    let schema = Provider::default().get_schema();
    assert_eq!(schema.resources.len(), 5);
    for (name, doc) in &schema.resources {
        let names = seed_names(&seeds.join(format!("{name}.md")));
        assert!(
            names.len() >= 4,
            "{name}: too few names parsed from the seed: {names:?}"
        );
        let mut missing = vec![];
        for n in &names {
            let in_inputs = doc["$defs"]["inputs"]["properties"].get(n).is_some();
            let in_outputs = doc["$defs"]["outputs"]["properties"].get(n).is_some();
            if !(in_inputs || in_outputs) {
                missing.push(n.clone());
            }
        }
        assert!(
            missing.is_empty(),
            "{name}: seed names missing from the schema: {missing:?}"
        );
    }
}

#[test]
fn secret_properties_are_flagged() {
    let expected: &[(&str, &str, &[&str])] = &[
        (
            "aws_iam_access_key",
            "outputs",
            &[
                "secret",
                "ses_smtp_password_v4",
                "encrypted_secret",
                "encrypted_ses_smtp_password_v4",
            ],
        ),
        ("oci_identity_auth_token", "outputs", &["token"]),
        ("oci_identity_customer_secret_key", "outputs", &["key"]),
        ("alicloud_ram_access_key", "outputs", &["secret", "encrypted_secret"]),
        ("alicloud_kms_secret", "inputs", &["secret_data", "secret_data_wo"]),
        ("alicloud_kms_secret", "outputs", &["secret_data"]),
    ];
    let provider = Provider::default();
    for (type_name, part, secrets) in expected {
        let resource = provider.registry().get(type_name).unwrap();
        let metas = if *part == "inputs" {
            &resource.schema().inputs
        } else {
            &resource.schema().outputs
        };
        let flagged: BTreeSet<&str> = metas
            .iter()
            .filter(|(_, m)| m.secret)
            .map(|(n, _)| n.as_str())
            .collect();
        let wanted: BTreeSet<&str> = secrets.iter().copied().collect();
        assert_eq!(flagged, wanted, "{type_name} {part}: secret flags");
    }
}
