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
    // Straight from the text: no intermediate `Value` tree (this is every call's hot path), and
    // without path tracking, which costs as much again; only a refusal is decoded a second time,
    // with it, for an error that names the field.
    serde_json::from_str(raw).or_else(|_| {
        let mut json = serde_json::Deserializer::from_str(raw);
        serde_path_to_error::deserialize(&mut json).map_err(|err| ProviderError::from_serde(err, ""))
    })
}

fn reply(
    result: Result<Box<serde_json::value::RawValue>, ProviderError>,
) -> Result<Box<serde_json::value::RawValue>, ErrorObjectOwned> {
    result.map_err(to_rpc_error)
}

/// The served method table: jsonrpsee's module (which serves WebSocket, and any method added to
/// it), and the same handlers called directly by the dispatcher ([`dispatch`]), which answers
/// stdio and HTTP POST without jsonrpsee's per-call re-parse, channel and reply copies.
pub struct Service {
    module: RpcModule<Provider>,
    provider: Arc<Provider>,
    engine: Arc<crate::engine::Engine>,
}

impl Service {
    /// Runs `method` of the table on `params` (raw JSON text): `None` when the table has no such
    /// method (one added to the module only, or none at all).
    pub(crate) fn call_direct<'a>(
        &'a self,
        method: &str,
        params: Option<&'a str>,
    ) -> Option<impl Future<Output = Result<Box<serde_json::value::RawValue>, ErrorObjectOwned>> + Send + 'a> {
        methods::call_direct(&self.provider, &self.engine, method, params)
    }
}

impl std::ops::Deref for Service {
    type Target = RpcModule<Provider>;

    fn deref(&self) -> &RpcModule<Provider> {
        &self.module
    }
}

impl std::ops::DerefMut for Service {
    fn deref_mut(&mut self) -> &mut RpcModule<Provider> {
        &mut self.module
    }
}

/// The service over a provider, from the one method table ([`methods`]).
pub fn module(provider: Arc<Provider>) -> Service {
    let engine = crate::engine::Engine::new(provider.clone());
    module_with_engine(provider, engine)
}

/// [`module`] with a given engine (the CLI's reports live progress).
pub fn module_with_engine(provider: Arc<Provider>, engine: crate::engine::Engine) -> Service {
    let engine = Arc::new(engine);
    let mut module = RpcModule::from_arc(provider.clone());
    methods::register(&mut module, engine.clone());
    Service {
        module,
        provider,
        engine,
    }
}
