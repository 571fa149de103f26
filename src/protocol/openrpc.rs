//! The OpenRPC 1.3 document (`rpc.discover`, and `schema/openrpc.json`), generated from the
//! request and response types of the one method table (`src/rpc/methods.rs`, a floor above), which describes
//! each method with a [`MethodDoc`].

use super::errors::ErrorCode;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// How the document describes one method: built from its request and result types.
#[derive(Debug, Clone, Copy)]
pub struct MethodDoc {
    /// The method name.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Its by-name params, from the request type ([`params_of`]).
    pub params: fn(&mut SchemaGenerator) -> Vec<Value>,
    /// Its result, from the response type ([`result_of`]).
    pub result: fn(&mut SchemaGenerator) -> Value,
    /// The error codes it can answer with.
    pub errors: &'static [ErrorCode],
}

/// The errors of a method that calls no cloud.
pub const CALL_ERRORS: &[ErrorCode] = &[ErrorCode::InvalidParams, ErrorCode::InternalError];
/// The errors of a method that calls a cloud.
pub const CLOUD_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::CloudError,
    ErrorCode::Cancelled,
    ErrorCode::Timeout,
    ErrorCode::Configuration,
    ErrorCode::Unsupported,
    ErrorCode::InternalError,
];
/// The errors of `create` and `update`, which may leave a resource changed in part (-32004).
pub const CREATE_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::CloudError,
    ErrorCode::Cancelled,
    ErrorCode::Timeout,
    ErrorCode::PartiallyCreated,
    ErrorCode::Configuration,
    ErrorCode::Unsupported,
    ErrorCode::InternalError,
];

/// Splits a request type's object schema into OpenRPC by-name params.
pub fn params_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Vec<Value> {
    let mut root = generator.root_schema_for::<T>().to_value();
    let object = root.as_object_mut().expect("request schemas are objects");
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let properties = object
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, mut schema)| {
            let description = schema
                .as_object_mut()
                .and_then(|s| s.remove("description"))
                .unwrap_or(json!(""));
            json!({ "name": name, "required": required.contains(&name), "description": description, "schema": schema })
        })
        .collect()
}

/// A method's result: the schema of `T`, named.
pub fn result_of<T: JsonSchema>(generator: &mut SchemaGenerator, name: &str) -> Value {
    json!({ "name": name, "schema": generator.subschema_for::<T>().to_value() })
}

fn error_objects(codes: &[ErrorCode]) -> Vec<Value> {
    codes
        .iter()
        .map(|code| json!({ "code": code.code(), "message": format!("{code:?}"), "data": { "$ref": "#/components/schemas/ErrorData" } }))
        .collect()
}

/// The OpenRPC document of `methods`, in their order.
pub fn document(methods: &[MethodDoc]) -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let methods: Vec<Value> = methods
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "summary": m.summary,
                "paramStructure": "by-name",
                "params": (m.params)(&mut generator),
                "result": (m.result)(&mut generator),
                "errors": error_objects(m.errors),
            })
        })
        .collect();
    generator.subschema_for::<super::errors::ErrorData>();
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.insert(
        "SecretEnvelope".into(),
        json!({
            "description": "A secret value, in both directions: {\"$credplane\": \"secret\", \"value\": <value>}.",
            "type": "object",
            "required": ["$credplane", "value"],
            "properties": { "$credplane": { "const": "secret" }, "value": {} },
            "additionalProperties": false
        }),
    );
    schemas.insert(
        "ErrorCode".into(),
        json!({
            "description": "Every error code a method may answer with: its name (title) and meaning. SDKs generate their error types from this list.",
            "oneOf": ErrorCode::ALL.iter().map(|c| json!({"const": c.code(), "title": c.name(), "description": c.summary()})).collect::<Vec<_>>(),
        }),
    );
    schemas.insert(
        "Unknown".into(),
        json!({
            "description": "A value known only after the real operation (previews): {\"$credplane\": \"unknown\"}.",
            "type": "object",
            "required": ["$credplane"],
            "properties": { "$credplane": { "const": "unknown" } },
            "additionalProperties": false
        }),
    );
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "credplane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An infrastructure-as-code provider for cloud credentials. Params are by name; `type` is the Terraform type name of a resource. Secret values travel in the SecretEnvelope; previews use the Unknown sentinel."
        },
        "methods": methods,
        "components": { "schemas": schemas }
    })
}
