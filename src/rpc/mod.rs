//! The JSON-RPC face of the provider: one method table (jsonrpsee's `RpcModule`) served over
//! stdio ([`stdio`]) and over HTTP and WebSocket ([`http`]).

pub mod auth;
pub mod http;
pub mod stdio;

use crate::protocol::{ErrorCode, PropertyMap, openrpc};
use crate::provider::Provider;
use crate::provider::error::ProviderError;
use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// Every method name, in the order the OpenRPC document lists them.
pub const METHODS: [&str; 10] = [
    "getSchema",
    "rpc.discover",
    "configure",
    "check",
    "diff",
    "create",
    "read",
    "update",
    "delete",
    "cancel",
];

/// A JSON-RPC error object for a provider error.
pub fn to_rpc_error(err: ProviderError) -> ErrorObjectOwned {
    let (code, data) = err.to_wire();
    if code == ErrorCode::InternalError {
        tracing::error!(error = %data.message, "internal error");
    } else {
        tracing::debug!(code = code.code(), error = %data.message, "method failed");
    }
    ErrorObjectOwned::owned(code.code(), data.message.clone(), Some(data))
}

/// Params by name, as an object (absent params count as `{}`).
fn params_object(params: &Params<'_>) -> Result<PropertyMap, ProviderError> {
    match params.as_str() {
        None => Ok(PropertyMap::new()),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ProviderError::invalid(
                "",
                "params must be an object of named parameters",
            )),
        },
    }
}

/// Decodes params into a request type. Failures name the field and never quote its value.
pub fn decode<T: DeserializeOwned>(params: &Params<'_>) -> Result<T, ProviderError> {
    let object = Value::Object(params_object(params)?);
    serde_path_to_error::deserialize(object).map_err(|err| ProviderError::from_serde(err, ""))
}

fn reply<T: Serialize>(result: Result<T, ProviderError>) -> Result<Value, ErrorObjectOwned> {
    result
        .and_then(|v| serde_json::to_value(v).map_err(|e| ProviderError::Internal(e.to_string())))
        .map_err(to_rpc_error)
}

/// Builds the method table over a provider.
pub fn module(provider: Arc<Provider>) -> RpcModule<Provider> {
    let mut module = RpcModule::from_arc(provider.clone());
    crate::engine::rpc::register(&mut module, provider);
    let discover = openrpc::document();
    module
        .register_method("getSchema", |params, p, _| {
            reply(decode::<crate::protocol::GetSchemaRequest>(&params).map(|_| p.get_schema()))
        })
        .expect("unique method name");
    module
        .register_method("rpc.discover", move |_, _, _| discover.clone())
        .expect("unique method name");
    module
        .register_method("configure", |params, p, _| {
            reply(params_object(&params).and_then(|m| p.configure(m)))
        })
        .expect("unique method name");
    module
        .register_method("check", |params, p, _| reply(decode(&params).and_then(|r| p.check(r))))
        .expect("unique method name");
    module
        .register_method("diff", |params, p, _| reply(decode(&params).and_then(|r| p.diff(r))))
        .expect("unique method name");
    module
        .register_method("cancel", |params, p, _| {
            reply(decode::<crate::protocol::CancelRequest>(&params).map(|_| p.cancel()))
        })
        .expect("unique method name");
    module
        .register_async_method("create", |params, p, _| async move {
            match decode(&params) {
                Ok(req) => reply(p.create(req).await),
                Err(e) => reply::<()>(Err(e)),
            }
        })
        .expect("unique method name");
    module
        .register_async_method("read", |params, p, _| async move {
            match decode(&params) {
                Ok(req) => reply(p.read(req).await),
                Err(e) => reply::<()>(Err(e)),
            }
        })
        .expect("unique method name");
    module
        .register_async_method("update", |params, p, _| async move {
            match decode(&params) {
                Ok(req) => reply(p.update(req).await),
                Err(e) => reply::<()>(Err(e)),
            }
        })
        .expect("unique method name");
    module
        .register_async_method("delete", |params, p, _| async move {
            match decode(&params) {
                Ok(req) => reply(p.delete(req).await),
                Err(e) => reply::<()>(Err(e)),
            }
        })
        .expect("unique method name");
    module
}
