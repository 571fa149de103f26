//! The `engine.*` methods, added to the provider's JSON-RPC method table.

use super::Engine;
use super::error::EngineError;
use crate::provider::Provider;
use crate::rpc::decode;
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The engine's method names.
pub const METHODS: [&str; 10] = [
    "engine.open",
    "engine.register",
    "engine.outputs",
    "engine.close",
    "engine.cancel",
    "engine.export",
    "engine.import",
    "engine.stacks",
    "engine.remove",
    "engine.resolve",
];

fn reply<T: Serialize>(result: Result<T, EngineError>) -> Result<Value, ErrorObjectOwned> {
    result
        .map(|v| serde_json::to_value(v).unwrap_or_default())
        .map_err(|e| e.to_rpc())
}

fn bad_params(e: crate::provider::error::ProviderError) -> ErrorObjectOwned {
    crate::rpc::to_rpc_error(e)
}

/// Adds the engine's methods to `module` (an engine over the same provider).
pub fn register<C: Send + Sync + 'static>(module: &mut RpcModule<C>, provider: Arc<Provider>) {
    let mut engine = RpcModule::new(Engine::new(provider));
    engine
        .register_async_method("engine.open", |params, e, _| async move {
            match decode(&params) {
                Ok(req) => reply(e.open(req).await),
                Err(err) => Err(bad_params(err)),
            }
        })
        .expect("unique method name");
    engine
        .register_async_method("engine.register", |params, e, _| async move {
            match decode(&params) {
                Ok(req) => reply(e.register(req).await),
                Err(err) => Err(bad_params(err)),
            }
        })
        .expect("unique method name");
    engine
        .register_async_method("engine.close", |params, e, _| async move {
            match decode(&params) {
                Ok(req) => reply(e.close(req).await),
                Err(err) => Err(bad_params(err)),
            }
        })
        .expect("unique method name");
    engine
        .register_method("engine.outputs", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.outputs(r)),
            )
        })
        .expect("unique method name");
    engine
        .register_method("engine.cancel", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.cancel(r)),
            )
        })
        .expect("unique method name");
    engine
        .register_method("engine.export", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.export(r)),
            )
        })
        .expect("unique method name");
    engine
        .register_method("engine.import", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.import(r)),
            )
        })
        .expect("unique method name");
    engine
        .register_method("engine.stacks", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.stacks(r)),
            )
        })
        .expect("unique method name");
    engine
        .register_method("engine.remove", |params, e, _| {
            reply(
                decode(&params)
                    .map_err(EngineError::from_provider)
                    .and_then(|r| e.remove(r, false)),
            )
        })
        .expect("unique method name");
    engine
        .register_async_method("engine.resolve", |params, e, _| async move {
            match decode(&params) {
                Ok(req) => reply(e.resolve(req).await),
                Err(err) => Err(bad_params(err)),
            }
        })
        .expect("unique method name");
    module.merge(engine).expect("engine method names are unique");
}
