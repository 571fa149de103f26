//! The OpenRPC 1.3 document of every method (`rpc.discover`, and `schema/openrpc.json`), generated
//! from the request and response types.

use super::errors::ErrorCode;
use super::messages::*;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

struct Method {
    name: &'static str,
    summary: &'static str,
    params: Vec<Value>,
    result: Value,
    errors: &'static [ErrorCode],
}

const CALL_ERRORS: &[ErrorCode] = &[ErrorCode::InvalidParams, ErrorCode::InternalError];
const CLOUD_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::CloudError,
    ErrorCode::Cancelled,
    ErrorCode::Timeout,
    ErrorCode::Configuration,
    ErrorCode::Unsupported,
    ErrorCode::InternalError,
];
const CREATE_ERRORS: &[ErrorCode] = &[
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
fn params_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Vec<Value> {
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

fn result_of<T: JsonSchema>(generator: &mut SchemaGenerator, name: &str) -> Value {
    json!({ "name": name, "schema": generator.subschema_for::<T>().to_value() })
}

fn error_objects(codes: &[ErrorCode]) -> Vec<Value> {
    codes
        .iter()
        .map(|code| json!({ "code": code.code(), "message": format!("{code:?}"), "data": { "$ref": "#/components/schemas/ErrorData" } }))
        .collect()
}

/// The OpenRPC document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let g = &mut generator;
    let methods = vec![
        Method {
            name: "getSchema",
            summary: "The JSON Schema (draft 2020-12) of every resource type, with x-forceNew, x-updatable, x-computed, x-secret and x-onlyOnCreate keywords.",
            params: params_of::<GetSchemaRequest>(g),
            result: result_of::<SchemaResponse>(g, "schema"),
            errors: CALL_ERRORS,
        },
        Method {
            name: "rpc.discover",
            summary: "This document.",
            params: vec![],
            result: json!({ "name": "openrpc", "schema": { "type": "object" } }),
            errors: &[],
        },
        Method {
            name: "configure",
            summary: "Sets credentials, regions and endpoints per cloud; clouds left out read their standard environment and config files.",
            params: params_of::<ConfigureRequest>(g),
            result: result_of::<Empty>(g, "empty"),
            errors: CALL_ERRORS,
        },
        Method {
            name: "check",
            summary: "Validates and normalizes inputs: every failed rule is reported with its property path.",
            params: params_of::<CheckRequest>(g),
            result: result_of::<CheckResponse>(g, "checked"),
            errors: CALL_ERRORS,
        },
        Method {
            name: "diff",
            summary: "What an update from the current outputs to new inputs would do, per property.",
            params: params_of::<DiffRequest>(g),
            result: result_of::<DiffResponse>(g, "diff"),
            errors: CALL_ERRORS,
        },
        Method {
            name: "create",
            summary: "Creates a resource; with preview, computed outputs are the unknown sentinel.",
            params: params_of::<CreateRequest>(g),
            result: result_of::<CreateResponse>(g, "created"),
            errors: CREATE_ERRORS,
        },
        Method {
            name: "read",
            summary: "Reads a resource, or imports it when only type and id are given; null when it is gone.",
            params: params_of::<ReadRequest>(g),
            result: result_of::<Option<ReadResponse>>(g, "found"),
            errors: CLOUD_ERRORS,
        },
        Method {
            name: "update",
            summary: "Applies new inputs in place.",
            params: params_of::<UpdateRequest>(g),
            result: result_of::<UpdateResponse>(g, "updated"),
            errors: CLOUD_ERRORS,
        },
        Method {
            name: "delete",
            summary: "Deletes a resource; one already gone counts as deleted.",
            params: params_of::<DeleteRequest>(g),
            result: result_of::<Empty>(g, "empty"),
            errors: CLOUD_ERRORS,
        },
        Method {
            name: "cancel",
            summary: "Cancels every operation in flight.",
            params: params_of::<CancelRequest>(g),
            result: result_of::<CancelResponse>(g, "cancelled"),
            errors: CALL_ERRORS,
        },
    ];
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
        "methods": methods.into_iter().map(|m| json!({
            "name": m.name,
            "summary": m.summary,
            "paramStructure": "by-name",
            "params": m.params,
            "result": m.result,
            "errors": error_objects(m.errors),
        })).collect::<Vec<_>>(),
        "components": { "schemas": schemas }
    })
}
