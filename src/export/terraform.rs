//! The JSON that `terraform providers schema -json` prints (format 1.0), for tools that read
//! provider schemas that way: `provider_schemas.<address>.resource_schemas.<type>.block.attributes`
//! with `type`, `required`/`optional`/`computed`, `sensitive` and descriptions.

use super::{Property, ResourceDoc, ValueType, put};
use crate::protocol::SchemaResponse;
use serde_json::{Map, Value, json};

/// The provider's source address, as Terraform would name it.
pub const ADDRESS: &str = "registry.terraform.io/credplane/credplane";

/// The whole `providers schema -json` document.
pub fn providers_schema(schema: &SchemaResponse) -> Value {
    let resources: Map<String, Value> = schema
        .resources
        .iter()
        .map(|(type_name, document)| {
            let doc = ResourceDoc::read(type_name, document);
            (type_name.clone(), json!({"version": 0, "block": block(&doc)}))
        })
        .collect();
    json!({
        "format_version": "1.0",
        "provider_schemas": {
            ADDRESS: {
                "provider": {"version": 0, "block": {"description": "Settings are given with the `configure` method; see the OpenRPC document.", "description_kind": "plain"}},
                "resource_schemas": resources,
            }
        }
    })
}

fn block(doc: &ResourceDoc<'_>) -> Value {
    let mut attributes = Map::new();
    // State holds every input plus the computed attributes, so outputs list them all.
    for prop in &doc.outputs {
        let input = doc.inputs.iter().any(|i| i.name == prop.name);
        let required = doc.required_inputs.contains(&prop.name);
        attributes.insert(prop.name.to_string(), attribute(prop, input, required));
    }
    json!({"attributes": attributes, "description": doc.description, "description_kind": "plain"})
}

fn attribute(prop: &Property<'_>, input: bool, required: bool) -> Value {
    let mut attr = Map::new();
    attr.insert("type".into(), cty(&prop.value_type()));
    put(&mut attr, "description", prop.description().map(Value::from));
    attr.insert("description_kind".into(), "plain".into());
    if required {
        attr.insert("required".into(), true.into());
    } else if input {
        attr.insert("optional".into(), true.into());
    }
    // Optional inputs with a provider-side default are optional+computed, as in Terraform.
    if !required && (!input || prop.computed() || prop.default().is_some()) {
        attr.insert("computed".into(), true.into());
    }
    put(&mut attr, "sensitive", prop.secret().then_some(Value::Bool(true)));
    put(&mut attr, "deprecated", prop.deprecated().then_some(Value::Bool(true)));
    Value::Object(attr)
}

/// A cty type expression: `"string"`, `["list","string"]`, `["map","number"]`, `["object",{...}]`.
fn cty(value: &ValueType<'_>) -> Value {
    match value {
        ValueType::Primitive("string") => "string".into(),
        ValueType::Primitive("boolean") => "bool".into(),
        ValueType::Primitive(_) => "number".into(),
        ValueType::Enum { primitive, .. } => cty(&ValueType::Primitive(primitive)),
        ValueType::Array(item) => json!(["list", cty(item)]),
        ValueType::Map(item) => json!(["map", cty(item)]),
        ValueType::Object(fields) => {
            let fields: Map<String, Value> = fields.iter().map(|(n, t)| (n.to_string(), cty(t))).collect();
            json!(["object", fields])
        }
    }
}
