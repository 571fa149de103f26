//! The one method table: each method declared once, with its name, summary, params and result
//! types, errors and handler. The jsonrpsee registration ([`register`]) and the OpenRPC document
//! ([`document`]) are both built from it: the provider's methods and the engine's (`engine.*`,
//! handled in `crate::engine::rpc`).

use super::{decode, params_object, reply};
use crate::engine::Engine;
use crate::engine::messages as engine_msg;
use crate::protocol::openrpc::{self, CALL_ERRORS, CLOUD_ERRORS, CREATE_ERRORS, MethodDoc, params_of, result_of};
use crate::protocol::*;
use crate::provider::Provider;
use crate::provider::error::ProviderError;
use jsonrpsee::RpcModule;
use jsonrpsee::types::Params;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};

/// A reply in the making, already serialized: no `Value` tree is built for it (hot path).
type Reply = Result<Box<RawValue>, ProviderError>;

/// Serializes an answer.
fn raw(answer: &impl serde::Serialize) -> Reply {
    serde_json::value::to_raw_value(answer).map_err(|e| ProviderError::Internal(e.to_string()))
}
/// The future of an async handler.
type Pending = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// How a method runs.
#[derive(Clone, Copy)]
enum Handler {
    /// Answers at once.
    Sync(fn(&Provider, &Params<'_>) -> Reply),
    /// Calls a cloud: runs as a task.
    Async(fn(Arc<Provider>, Params<'static>) -> Pending),
    /// An `engine.*` method: runs as a task on the engine (over the same provider).
    Engine(fn(Arc<Engine>, Params<'static>) -> crate::engine::rpc::Pending),
}

/// One method: how it is documented, and how it runs.
#[derive(Clone, Copy)]
pub struct Method {
    /// Name, summary, params, result and errors.
    pub doc: MethodDoc,
    handler: Handler,
}

/// Decodes the params as `Req`, runs `f`, serializes its answer.
fn run<Req: serde::de::DeserializeOwned, Resp: serde::Serialize>(
    params: &Params<'_>,
    f: impl FnOnce(Req) -> Result<Resp, ProviderError>,
) -> Reply {
    raw(&f(decode(params)?)?)
}

/// An async handler over one provider method: `async_method!(create)`.
macro_rules! async_method {
    ($method:ident) => {
        Handler::Async(|p, params| Box::pin(async move { raw(&p.$method(decode(&params)?).await?) }))
    };
}

/// Every method, in the order the OpenRPC document lists them.
pub static METHODS: &[Method] = &[
    Method {
        doc: MethodDoc {
            name: "getSchema",
            summary: "The JSON Schema (draft 2020-12) of every resource type, with x-forceNew, x-updatable, x-computed, x-secret and x-onlyOnCreate keywords.",
            params: params_of::<GetSchemaRequest>,
            result: |g| result_of::<SchemaResponse>(g, "schema"),
            errors: CALL_ERRORS,
        },
        handler: Handler::Sync(|p, params| run(params, |_: GetSchemaRequest| Ok(p.get_schema()))),
    },
    Method {
        doc: MethodDoc {
            name: "rpc.discover",
            summary: "This document.",
            params: |_| vec![],
            result: |_| json!({ "name": "openrpc", "schema": { "type": "object" } }),
            errors: &[],
        },
        handler: Handler::Sync(|_, _| raw(&*DOCUMENT)),
    },
    Method {
        doc: MethodDoc {
            name: "configure",
            summary: "Sets credentials, regions and endpoints per cloud; clouds left out read their standard environment and config files.",
            params: params_of::<ConfigureRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: CALL_ERRORS,
        },
        // Not `run`: configure takes the raw map, to unwrap secret envelopes first.
        handler: Handler::Sync(|p, params| {
            let done = p.configure(params_object(params)?)?;
            raw(&done)
        }),
    },
    Method {
        doc: MethodDoc {
            name: "check",
            summary: "Validates and normalizes inputs: every failed rule is reported with its property path.",
            params: params_of::<CheckRequest>,
            result: |g| result_of::<CheckResponse>(g, "checked"),
            errors: CALL_ERRORS,
        },
        handler: Handler::Sync(|p, params| run(params, |r| p.check(r))),
    },
    Method {
        doc: MethodDoc {
            name: "diff",
            summary: "What an update from the current outputs to new inputs would do, per property.",
            params: params_of::<DiffRequest>,
            result: |g| result_of::<DiffResponse>(g, "diff"),
            errors: CALL_ERRORS,
        },
        handler: async_method!(diff),
    },
    Method {
        doc: MethodDoc {
            name: "create",
            summary: "Creates a resource; with preview, computed outputs are the unknown sentinel.",
            params: params_of::<CreateRequest>,
            result: |g| result_of::<CreateResponse>(g, "created"),
            errors: CREATE_ERRORS,
        },
        handler: async_method!(create),
    },
    Method {
        doc: MethodDoc {
            name: "read",
            summary: "Reads a resource, or imports it when only type and id are given; null when it is gone.",
            params: params_of::<ReadRequest>,
            result: |g| result_of::<Option<ReadResponse>>(g, "found"),
            errors: CLOUD_ERRORS,
        },
        handler: async_method!(read),
    },
    Method {
        doc: MethodDoc {
            name: "update",
            summary: "Applies new inputs in place.",
            params: params_of::<UpdateRequest>,
            result: |g| result_of::<UpdateResponse>(g, "updated"),
            errors: CREATE_ERRORS,
        },
        handler: async_method!(update),
    },
    Method {
        doc: MethodDoc {
            name: "delete",
            summary: "Deletes a resource; one already gone counts as deleted.",
            params: params_of::<DeleteRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: CLOUD_ERRORS,
        },
        handler: async_method!(delete),
    },
    Method {
        doc: MethodDoc {
            name: "cancel",
            summary: "Cancels every operation in flight.",
            params: params_of::<CancelRequest>,
            result: |g| result_of::<CancelResponse>(g, "cancelled"),
            errors: CALL_ERRORS,
        },
        handler: Handler::Sync(|p, params| run(params, |_: CancelRequest| Ok(p.cancel()))),
    },
    Method {
        doc: MethodDoc {
            name: "engine.open",
            summary: "Opens a deployment of a stack: takes its lock, loads its state and replays its journal (interrupted creates are reconciled).",
            params: params_of::<engine_msg::OpenRequest>,
            result: |g| result_of::<engine_msg::OpenResponse>(g, "opened"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::open),
    },
    Method {
        doc: MethodDoc {
            name: "engine.register",
            summary: "Declares a resource of the program; the reply comes when its step is done, with its outputs (unknowns in a preview). Inputs may hold references to other resources' outputs.",
            params: params_of::<engine_msg::RegisterRequest>,
            result: |g| result_of::<engine_msg::RegisterResponse>(g, "registered"),
            errors: ENGINE_STEP_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::register),
    },
    Method {
        doc: MethodDoc {
            name: "engine.outputs",
            summary: "Sets the stack's outputs (references allowed, resolved at close).",
            params: params_of::<engine_msg::OutputsRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: CALL_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::outputs),
    },
    Method {
        doc: MethodDoc {
            name: "engine.close",
            summary: "Ends a deployment: waits for its registrations, deletes what was not registered (up), refreshes (refresh) or deletes everything (destroy), compacts the journal, and returns the summary, steps and rendered plan.",
            params: params_of::<engine_msg::DeploymentRequest>,
            result: |g| result_of::<engine_msg::CloseResponse>(g, "closed"),
            errors: ENGINE_STEP_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::close),
    },
    Method {
        doc: MethodDoc {
            name: "engine.cancel",
            summary: "Cancels a deployment: later registrations fail, steps in flight end and are journaled, the lock is released.",
            params: params_of::<engine_msg::DeploymentRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: CALL_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::cancel),
    },
    Method {
        doc: MethodDoc {
            name: "engine.export",
            summary: "The stored snapshot document of a stack (secrets stay sealed).",
            params: params_of::<engine_msg::StackRequest>,
            result: |g| result_of::<Value>(g, "document"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::export),
    },
    Method {
        doc: MethodDoc {
            name: "engine.import",
            summary: "Stores a document exported before as a stack's snapshot (verified on the next open).",
            params: params_of::<engine_msg::StackRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::import),
    },
    Method {
        doc: MethodDoc {
            name: "engine.stacks",
            summary: "The stacks with state in a backend.",
            params: params_of::<engine_msg::StackRequest>,
            result: |g| result_of::<engine_msg::StacksResponse>(g, "stacks"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::stacks),
    },
    Method {
        doc: MethodDoc {
            name: "engine.remove",
            summary: "Deletes a stack's state; refused while the stack has resources.",
            params: params_of::<engine_msg::StackRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::remove),
    },
    Method {
        doc: MethodDoc {
            name: "engine.resolve",
            summary: "Settles an interrupted create: with an id, reads that resource and records it; without, forgets the pending entry.",
            params: params_of::<engine_msg::ResolveRequest>,
            result: |g| result_of::<Empty>(g, "empty"),
            errors: ENGINE_STATE_ERRORS,
        },
        handler: Handler::Engine(crate::engine::rpc::resolve),
    },
];

/// The errors of the engine methods that touch a stack's state.
const ENGINE_STATE_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::State,
    ErrorCode::PassphraseRequired,
    ErrorCode::Locked,
    ErrorCode::CloudError,
    ErrorCode::InternalError,
];
/// The errors of the engine methods that run steps: the provider's, and the engine's own.
const ENGINE_STEP_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::CloudError,
    ErrorCode::Cancelled,
    ErrorCode::Timeout,
    ErrorCode::PartiallyCreated,
    ErrorCode::Configuration,
    ErrorCode::Unsupported,
    ErrorCode::State,
    ErrorCode::PassphraseRequired,
    ErrorCode::Protected,
    ErrorCode::DependencyFailed,
    ErrorCode::MayExist,
    ErrorCode::InternalError,
];

/// The OpenRPC document of [`METHODS`], built once.
static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// The OpenRPC document of every method.
pub fn document() -> Value {
    let docs: Vec<MethodDoc> = METHODS.iter().map(|m| m.doc).collect();
    openrpc::document(&docs)
}

/// The method names, in table order.
pub fn names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.doc.name).collect()
}

/// The table by method name.
static BY_NAME: LazyLock<std::collections::HashMap<&'static str, Handler>> =
    LazyLock::new(|| METHODS.iter().map(|m| (m.doc.name, m.handler)).collect());

/// Runs `name` on `params` as the jsonrpsee registration does (the same [`call`]), but called
/// directly; `None` when the table has no method `name`.
pub(super) fn call_direct<'a>(
    provider: &'a Arc<Provider>,
    engine: &'a Arc<Engine>,
    name: &str,
    params: Option<&'a str>,
) -> Option<impl Future<Output = Result<Box<RawValue>, jsonrpsee::types::ErrorObjectOwned>> + Send + 'a> {
    let handler = *BY_NAME.get(name)?;
    Some(call(handler, provider, engine, Params::new(params)))
}

/// One call of a handler: its answer serialized, or its error as a JSON-RPC error object.
async fn call(
    handler: Handler,
    provider: &Arc<Provider>,
    engine: &Arc<Engine>,
    params: Params<'_>,
) -> Result<Box<RawValue>, jsonrpsee::types::ErrorObjectOwned> {
    match handler {
        Handler::Sync(handler) => reply(handler(provider, &params)),
        Handler::Async(handler) => reply(handler(provider.clone(), params.into_owned()).await),
        Handler::Engine(handler) => reply(raw(&handler(engine.clone(), params.into_owned()).await?)),
    }
}

/// Registers every method of the table on `module`; the `engine.*` ones run on `engine`.
pub fn register(module: &mut RpcModule<Provider>, engine: Arc<Engine>) {
    for method in METHODS {
        let name = method.doc.name;
        let registered = match method.handler {
            // Answered at once, without a task.
            Handler::Sync(handler) => module
                .register_method(name, move |params, p, _| reply(handler(p, &params)))
                .map(drop),
            handler => {
                let engine = engine.clone();
                module
                    .register_async_method(name, move |params, p, _| {
                        let engine = engine.clone();
                        async move { call(handler, &p, &engine, params).await }
                    })
                    .map(drop)
            }
        };
        registered.expect("method names in the table are unique");
    }
}
