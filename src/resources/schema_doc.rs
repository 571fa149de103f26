//! The JSON Schema document of a resource type, and the per-property flags read back from it.
//!
//! The Rust types are the single source: `schemars` derives the schema, the `x-*` keywords on
//! fields carry what JSON Schema cannot say, and check, diff and the secret envelope read those
//! keywords back from here rather than keeping a second list.

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
}

fn generate<T: schemars::JsonSchema>() -> Map<String, Value> {
    let generator = SchemaSettings::draft2020_12().into_generator();
    match generator.into_root_schema_for::<T>().to_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Builds the document: `$defs.inputs`, `$defs.outputs`, and the shared definitions they use.
pub fn build<R: Resource>() -> SchemaDoc {
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
    let document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://credplane.dev/schema/resources/{}.json", R::TYPE),
        "title": R::TYPE,
        "description": description,
        "x-cloud": cloud,
        "x-import": import,
        "x-timeouts": { "create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete },
        "$defs": defs,
    });
    let inputs = property_metas(&document, "inputs");
    let outputs = property_metas(&document, "outputs");
    SchemaDoc {
        document,
        inputs,
        outputs,
    }
}

/// A schema that validates the inputs of the document.
pub fn inputs_validation_schema(document: &Value) -> Value {
    let mut schema = document.clone();
    if let Some(map) = schema.as_object_mut() {
        map.insert("$ref".into(), json!("#/$defs/inputs"));
    }
    schema
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
