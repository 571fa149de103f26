//! The handlers of the `engine.*` methods. They are rows of the one method table
//! (`crate::rpc::methods`), which registers them and documents them in the OpenRPC document.

use super::Engine;
use super::error::EngineError;
use crate::rpc::decode;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future of an engine handler: the reply, already serialized, or the JSON-RPC error.
pub type Pending = Pin<Box<dyn Future<Output = Result<Box<RawValue>, ErrorObjectOwned>> + Send>>;

/// Serialized straight to text: a close reply holds every resource's outputs, which a `Value`
/// tree would copy whole once more.
fn reply<T: Serialize>(result: Result<T, EngineError>) -> Result<Box<RawValue>, ErrorObjectOwned> {
    match result {
        Ok(v) => serde_json::value::to_raw_value(&v)
            .map_err(|e| EngineError::new(crate::protocol::ErrorCode::InternalError.code(), e.to_string()).to_rpc()),
        Err(e) => Err(e.to_rpc()),
    }
}

/// Decodes the params as `Req` (failures name the field) and runs `f` on the engine.
fn handle<Req, Resp, Fut, F>(engine: Arc<Engine>, params: Params<'static>, f: F) -> Pending
where
    F: FnOnce(Arc<Engine>, Req) -> Fut + Send + 'static,
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp, EngineError>> + Send + 'static,
{
    Box::pin(async move {
        match decode::<Req>(&params) {
            Ok(req) => reply(f(engine, req).await),
            Err(err) => Err(crate::rpc::to_rpc_error(err)),
        }
    })
}

/// `engine.open`.
pub fn open(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.open(r).await })
}

/// `engine.register`.
pub fn register(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.register(r).await })
}

/// `engine.outputs`.
pub fn outputs(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.outputs(r) })
}

/// `engine.close`.
pub fn close(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.close(r).await })
}

/// `engine.cancel`.
pub fn cancel(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.cancel(r) })
}

/// `engine.export`.
pub fn export(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.export(r) })
}

/// `engine.import`.
pub fn import(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.import(r) })
}

/// `engine.stacks`.
pub fn stacks(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.stacks(r) })
}

/// `engine.remove` (refused while the stack has resources).
pub fn remove(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.remove(r, false) })
}

/// `engine.resolve`.
pub fn resolve(e: Arc<Engine>, p: Params<'static>) -> Pending {
    handle(e, p, |e, r| async move { e.resolve(r).await })
}
