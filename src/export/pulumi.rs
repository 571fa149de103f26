//! A Pulumi package schema (the metaschema at pulumi/pulumi `pkg/codegen/schema/pulumi.json`):
//! resources as `credplane:<cloud>:<Type>`, input and output properties with `secret` and
//! `replaceOnChanges` from our `x-secret` and `x-forceNew`, required lists, and enum types.
//!
//! Property names stay the wire names (snake_case) that credplane accepts, so that a tool reading
//! this schema describes exactly what the provider takes.

use super::{Property, ResourceDoc, ValueType, put};
use crate::protocol::SchemaResponse;
use serde_json::{Map, Value, json};

/// The package name in every token.
pub const PACKAGE: &str = "credplane";

/// The whole package schema.
pub fn package(schema: &SchemaResponse) -> Value {
    let mut types = Map::new();
    let mut resources = Map::new();
    for (type_name, document) in &schema.resources {
        let doc = ResourceDoc::read(type_name, document);
        let token = resource_token(&doc);
        let mut spec = Map::new();
        spec.insert("description".into(), doc.description.into());
        spec.insert("properties".into(), properties(&doc, &doc.outputs, &mut types));
        spec.insert("required".into(), json!(doc.required_outputs));
        spec.insert("inputProperties".into(), properties(&doc, &doc.inputs, &mut types));
        spec.insert("requiredInputs".into(), json!(doc.required_inputs));
        resources.insert(token, Value::Object(spec));
    }
    json!({
        "name": PACKAGE,
        "displayName": "credplane",
        "version": schema.version,
        "description": "Cloud credentials (AWS IAM access keys, OCI auth tokens and customer secret keys, Alibaba Cloud RAM access keys and KMS secrets) managed by credplane over JSON-RPC.",
        "keywords": ["category/cloud", "kind/native", "credentials"],
        "license": "Apache-2.0",
        "meta": {"moduleFormat": "(.*)"},
        "types": types,
        "resources": resources,
    })
}

/// `credplane:<cloud>:<Type>`, the type name without its cloud prefix in PascalCase:
/// `aws_iam_access_key` is `credplane:aws:IamAccessKey`.
fn resource_token(doc: &ResourceDoc<'_>) -> String {
    let rest = doc
        .type_name
        .strip_prefix(&format!("{}_", doc.cloud))
        .unwrap_or(doc.type_name);
    format!("{PACKAGE}:{}:{}", doc.cloud, pascal(rest))
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn properties(doc: &ResourceDoc<'_>, props: &[Property<'_>], types: &mut Map<String, Value>) -> Value {
    let mut out = Map::new();
    for prop in props {
        let mut spec = match type_spec(doc, prop.name, &prop.value_type(), types) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        put(&mut spec, "description", prop.description().map(Value::from));
        put(
            &mut spec,
            "default",
            prop.default()
                .filter(|d| d.is_string() || d.is_number() || d.is_boolean())
                .cloned(),
        );
        put(&mut spec, "secret", prop.secret().then_some(Value::Bool(true)));
        put(
            &mut spec,
            "replaceOnChanges",
            prop.force_new().then_some(Value::Bool(true)),
        );
        put(
            &mut spec,
            "deprecationMessage",
            prop.deprecated()
                .then(|| Value::from(format!("`{}` is deprecated; see its description.", prop.name))),
        );
        out.insert(prop.name.to_string(), Value::Object(spec));
    }
    Value::Object(out)
}

/// A typeSpec; named types (enums, objects) are added to `types` and referenced.
fn type_spec(doc: &ResourceDoc<'_>, prop: &str, value: &ValueType<'_>, types: &mut Map<String, Value>) -> Value {
    match value {
        ValueType::Primitive(p) => json!({"type": p}),
        ValueType::Array(item) => json!({"type": "array", "items": type_spec(doc, prop, item, types)}),
        ValueType::Map(item) => json!({"type": "object", "additionalProperties": type_spec(doc, prop, item, types)}),
        ValueType::Enum {
            name,
            primitive,
            values,
        } => {
            let token = format!("{PACKAGE}:{}:{name}", doc.cloud);
            let values: Vec<Value> = values
                .iter()
                .map(|(v, d)| {
                    let mut entry = Map::new();
                    entry.insert("value".into(), (*v).clone());
                    put(&mut entry, "description", d.map(Value::from));
                    Value::Object(entry)
                })
                .collect();
            types.insert(token.clone(), json!({"type": primitive, "enum": values}));
            json!({"$ref": format!("#/types/{token}")})
        }
        ValueType::Object(fields) => {
            let token = format!("{}{}", resource_token(doc), pascal(prop));
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(n, t)| (n.to_string(), type_spec(doc, n, t, types)))
                .collect();
            types.insert(token.clone(), json!({"type": "object", "properties": properties}));
            json!({"$ref": format!("#/types/{token}")})
        }
    }
}
