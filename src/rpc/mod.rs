//! The JSON-RPC face of the provider: one method table (jsonrpsee's `RpcModule`) served over
//! stdio ([`stdio`]) and over HTTP and WebSocket ([`http`]).

pub mod auth;
pub mod catch_panic;
pub mod dispatch;
pub mod host;
pub mod http;
pub mod methods;
pub mod stdio;
pub mod tls;

use crate::protocol::{ErrorCode, PropertyMap};
use crate::provider::Provider;
use crate::provider::error::ProviderError;
use jsonrpsee::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

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
    let Some(raw) = params.as_str() else {
        return serde_path_to_error::deserialize(Value::Object(PropertyMap::new()))
            .map_err(|err| ProviderError::from_serde(err, ""));
    };
    if !raw.trim_start().starts_with('{') {
        return Err(ProviderError::invalid(
            "",
            "params must be an object of named parameters",
        ));
    }
    // Straight from the text: no intermediate `Value` tree (this is every call's hot path).
    let mut json = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut json).map_err(|err| ProviderError::from_serde(err, ""))
}

fn reply(
    result: Result<Box<serde_json::value::RawValue>, ProviderError>,
) -> Result<Box<serde_json::value::RawValue>, ErrorObjectOwned> {
    result.map_err(to_rpc_error)
}

/// Builds the jsonrpsee module over a provider, from the one method table ([`methods`]).
pub fn module(provider: Arc<Provider>) -> RpcModule<Provider> {
    let engine = crate::engine::Engine::new(provider.clone());
    module_with_engine(provider, engine)
}

/// [`module`] with a given engine (the CLI's reports live progress).
pub fn module_with_engine(provider: Arc<Provider>, engine: crate::engine::Engine) -> RpcModule<Provider> {
    let mut module = RpcModule::from_arc(provider);
    methods::register(&mut module, Arc::new(engine));
    module
}
