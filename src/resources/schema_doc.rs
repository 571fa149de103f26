//! The JSON Schema document of a resource type, and the per-property flags read back from it.
//!
//! The Rust types are the single source: `schemars` derives the schema, the `x-*` keywords on
//! fields carry what JSON Schema cannot say, and check, diff and the secret envelope read those
//! keywords back from here rather than keeping a second list. The provider serves the copy
//! `credplane schema` committed from them (see [`load`]).

use super::{Resource, ResourceInfo};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Extension keyword: changing the property replaces the resource (Terraform's ForceNew).
pub const X_FORCE_NEW: &str = "x-forceNew";
/// Extension keyword: the property can change in place.
pub const X_UPDATABLE: &str = "x-updatable";
/// Extension keyword: the provider computes the value (an output, or an input it defaults).
pub const X_COMPUTED: &str = "x-computed";
/// Extension keyword: the value is secret; it travels in the envelope.
pub const X_SECRET: &str = "x-secret";
/// Extension keyword: a write-only input, sent to the cloud and never stored nor returned
/// (Terraform's `*_wo` arguments); `diff` does not compare it.
pub const X_WRITE_ONLY: &str = "x-writeOnly";
/// JSON Schema keyword: a string holding a document of this media type; `application/json`
/// makes `diff` compare the documents, not their spelling (key order, spaces), as the cloud
/// reformats what it stores.
pub const CONTENT_MEDIA_TYPE: &str = "contentMediaType";
/// Extension keyword: the cloud returns the value only in the create response.
pub const X_ONLY_ON_CREATE: &str = "x-onlyOnCreate";

/// The flags of one top-level property.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyMeta {
    /// Replace on change.
    pub force_new: bool,
    /// Changes in place.
    pub updatable: bool,
    /// Computed by the provider.
    pub computed: bool,
    /// Secret.
    pub secret: bool,
    /// Returned only by create.
    pub only_on_create: bool,
    /// Write-only: never stored, never compared.
    pub write_only: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// Required input.
    pub required: bool,
    /// Its default, if any.
    pub default: Option<Value>,
    /// A string holding a JSON document (`contentMediaType: application/json`).
    pub json_text: bool,
}

/// The schema document of one resource type and what is read back from it.
#[derive(Debug, Clone)]
pub struct SchemaDoc {
    /// The whole document.
    pub document: Value,
    /// Flags of each input property.
    pub inputs: BTreeMap<String, PropertyMeta>,
    /// Flags of each output property.
    pub outputs: BTreeMap<String, PropertyMeta>,
    /// The output names, interned: every `diff` lists those that stay (`stables`), and a
    /// `&'static str` costs neither an allocation nor a refcount that concurrent calls share.
    pub output_names: Vec<&'static str>,
}

fn generate<T: schemars::JsonSchema>() -> Map<String, Value> {
    let generator = SchemaSettings::draft2020_12().into_generator();
    match generator.into_root_schema_for::<T>().to_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The document of `R`, as `credplane schema` committed it under `schema/resources/`, with its
/// flags: parsing that text costs a tenth of deriving it, and a `serve --stdio` process pays
/// this on its first call (cold start). The committed file is what [`build`] derives, which
/// the tests `committed_documents_are_the_derived_ones` and `committed_schema_files_are_current`
/// hold. A type without a committed file (a new one, before its first `credplane schema`) is
/// derived.
pub fn load<R: Resource>() -> SchemaDoc {
    super::committed::document_text(R::TYPE)
        .and_then(|text| serde_json::from_str(text).ok())
        .map(from_document)
        .unwrap_or_else(build::<R>)
}

/// Builds the document from the Rust types: `$defs.inputs`, `$defs.outputs`, and the shared
/// definitions they use.
pub fn build<R: Resource>() -> SchemaDoc {
    from_document(derive_document::<R>())
}

fn derive_document<R: Resource>() -> Value {
    let mut inputs = generate::<R::Inputs>();
    let mut outputs = generate::<R::Outputs>();
    let mut defs = Map::new();
    for root in [&mut inputs, &mut outputs] {
        root.remove("$schema");
        if let Some(Value::Object(sub)) = root.remove("$defs") {
            defs.extend(sub);
        }
    }
    // A write-only input is never an output, though the outputs flatten the inputs.
    if let Some(Value::Object(props)) = outputs.get_mut("properties") {
        props.retain(|_, schema| schema.get(X_WRITE_ONLY) != Some(&Value::Bool(true)));
    }
    let description = inputs.get("description").cloned().unwrap_or(Value::Null);
    let ResourceInfo {
        cloud,
        import,
        timeouts,
    } = R::info();
    defs.insert("inputs".into(), Value::Object(inputs));
    defs.insert("outputs".into(), Value::Object(outputs));
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://credplane.dev/schema/resources/{}.json", R::TYPE),
        "title": R::TYPE,
        "description": description,
        "x-cloud": cloud,
        "x-import": import,
        "x-timeouts": { "create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete },
        "$defs": defs,
    })
}

/// `name` as a `&'static str`, leaked once per distinct name (output names are few and fixed by
/// the schemas, so a provider made again, as tests do, leaks nothing more).
fn interned(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The flags read back from a document.
fn from_document(document: Value) -> SchemaDoc {
    let inputs = property_metas(&document, "inputs");
    let outputs = property_metas(&document, "outputs");
    let output_names = outputs.keys().map(|name| interned(name)).collect();
    SchemaDoc {
        document,
        inputs,
        outputs,
        output_names,
    }
}

/// A schema that validates the inputs of the document: the document itself, pointed at its
/// inputs, without `$schema` (see [`inputs_validator`]).
pub fn inputs_validation_schema(document: &Value) -> Value {
    let mut schema = document.clone();
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.insert("$ref".into(), json!("#/$defs/inputs"));
    }
    schema
}

/// The validator of a document's inputs.
///
/// Compiled as draft 7 rather than the document's 2020-12: a cold `check` (the first call of a
/// `credplane serve --stdio` process) pays for the compile, and the 2020-12 one (vocabularies,
/// `$dynamicRef`) costs about three times as much. jsonschema's `macros` feature (Cargo.toml)
/// spares the other half of that cost: the meta-schema check it runs before compiling is
/// generated code instead of a meta-schema validator compiled at run time. The documents use only keywords that mean the same in both
/// drafts, and `$ref` has only annotations beside it (draft 7 ignores `$ref`'s siblings); the
/// tests below hold both, and check the documents against the 2020-12 meta-schema instead.
/// Formats and `contentMediaType` stay annotations, as 2020-12 has them (the rule table checks JSON text).
pub fn inputs_validator(document: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(false)
        .without_content_media_type_support("application/json")
        .build(&inputs_validation_schema(document))
        .map_err(|e| e.to_string())
}

fn property_metas(document: &Value, which: &str) -> BTreeMap<String, PropertyMeta> {
    let root = &document["$defs"][which];
    let required: Vec<&str> = root["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = root["properties"].as_object() else {
        return BTreeMap::new();
    };
    properties
        .iter()
        .map(|(name, schema)| {
            let flag = |key: &str| has_flag(document, schema, key);
            let meta = PropertyMeta {
                force_new: flag(X_FORCE_NEW),
                updatable: flag(X_UPDATABLE),
                computed: flag(X_COMPUTED) || flag("readOnly"),
                secret: flag(X_SECRET),
                only_on_create: flag(X_ONLY_ON_CREATE),
                write_only: flag(X_WRITE_ONLY),
                deprecated: flag("deprecated"),
                required: required.contains(&name.as_str()),
                default: schema.get("default").cloned(),
                json_text: schema.get(CONTENT_MEDIA_TYPE).and_then(Value::as_str) == Some("application/json"),
            };
            (name.clone(), meta)
        })
        .collect()
}

/// Whether `key: true` appears on the property schema, inside its `anyOf`/`oneOf`/`allOf`
/// branches, or on a `$ref`-erenced definition.
fn has_flag(document: &Value, schema: &Value, key: &str) -> bool {
    if schema.get(key) == Some(&Value::Bool(true)) {
        return true;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str)
        && let Some(def) = target.strip_prefix("#/$defs/")
        && has_flag(document, &document["$defs"][def], key)
    {
        return true;
    }
    ["anyOf", "oneOf", "allOf"].iter().any(|combinator| {
        schema
            .get(*combinator)
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(|branch| has_flag(document, branch, key)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::registry;

    /// Validation keywords that mean the same in draft 7 and 2020-12.
    const SAME_IN_BOTH: &[&str] = &[
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "$ref",
        "$defs",
        "$id",
        "$schema",
    ];
    /// Keywords that assert nothing (formats included: neither validator asserts them).
    const ANNOTATIONS: &[&str] = &[
        "title",
        "description",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "examples",
        "contentMediaType",
        "format",
    ];

    fn annotation(key: &str) -> bool {
        ANNOTATIONS.contains(&key) || key.starts_with("x-")
    }

    /// Every keyword the draft 7 reading would get wrong, with where it is.
    fn differences(schema: &Value, at: &str, found: &mut Vec<String>) {
        let Some(object) = schema.as_object() else { return };
        for (key, value) in object {
            let here = format!("{at}/{key}");
            match key.as_str() {
                "properties" | "$defs" => {
                    for (name, sub) in value.as_object().into_iter().flatten() {
                        differences(sub, &format!("{here}/{name}"), found);
                    }
                }
                "anyOf" | "oneOf" | "allOf" => {
                    for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                        differences(sub, &format!("{here}/{i}"), found);
                    }
                }
                "items" | "additionalProperties" | "not" => differences(value, &here, found),
                // Values, not schemas.
                "x-timeouts" | "default" | "examples" | "enum" | "const" => {}
                _ if annotation(key) || SAME_IN_BOTH.contains(&key.as_str()) => {}
                _ => found.push(format!("{here}: keyword not known to mean the same in draft 7")),
            }
        }
        // Draft 7 ignores everything beside `$ref`; only the root's `$defs` and identifiers may be.
        if object.contains_key("$ref") {
            for key in object.keys() {
                let allowed = annotation(key) || ["$ref", "$defs", "$id", "$schema"].contains(&key.as_str());
                if !allowed {
                    found.push(format!("{at}/{key}: an assertion beside $ref, which draft 7 ignores"));
                }
            }
        }
    }

    #[test]
    fn every_document_is_valid_2020_12_and_reads_the_same_as_draft_7() {
        for resource in registry::all().iter() {
            let document = &resource.schema().document;
            jsonschema::meta::validate(document)
                .unwrap_or_else(|e| panic!("{}: not a valid 2020-12 schema: {e}", resource.type_name()));
            let mut found = Vec::new();
            differences(document, "", &mut found);
            assert!(found.is_empty(), "{}: {found:#?}", resource.type_name());
        }
    }

    /// The draft 7 validator accepts and refuses exactly what the document, read as 2020-12,
    /// does, and where: every input property given every kind of value.
    #[test]
    fn draft_7_validator_agrees_with_the_2020_12_reading() {
        let values = [
            json!(null),
            json!(true),
            json!(-1),
            json!(0),
            json!(3600),
            json!(1e12),
            json!(""),
            json!("x"),
            json!("a".repeat(70_000)),
            json!([]),
            json!(["x"]),
            json!({}),
            json!({"k": "v"}),
            json!({"k": 1}),
        ];
        for resource in registry::all().iter() {
            let document = &resource.schema().document;
            let mut as_2020_12 = document.clone();
            as_2020_12["$ref"] = json!("#/$defs/inputs");
            let reference = jsonschema::validator_for(&as_2020_12).expect("2020-12 validator");
            let draft_7 = inputs_validator(document).expect("draft 7 validator");
            let names: Vec<&String> = document["$defs"]["inputs"]["properties"]
                .as_object()
                .expect("inputs")
                .keys()
                .collect();
            let mut instances = vec![json!({}), json!({"no_such_property": "x"})];
            for name in &names {
                for value in &values {
                    instances.push(json!({ name.as_str(): value }));
                }
            }
            // Where each refuses, not only whether: most instances lack a required property.
            let refusals = |validator: &jsonschema::Validator, instance: &Value| {
                let mut paths: Vec<String> = validator
                    .iter_errors(instance)
                    .map(|e| format!("{} {:?}", e.instance_path(), std::mem::discriminant(e.kind())))
                    .collect();
                paths.sort();
                paths
            };
            for instance in &instances {
                assert_eq!(
                    refusals(&draft_7, instance),
                    refusals(&reference, instance),
                    "{}: {}",
                    resource.type_name(),
                    instance.to_string().chars().take(200).collect::<String>()
                );
            }
        }
    }
}
