//! A jsonrpsee RPC middleware that turns a panic in a method handler into a -32603 reply, for
//! the WebSocket path (HTTP POST and stdio go through [`super::dispatch`], which does the same).
//! jsonrpsee runs a sync handler while building the call's future, so both the building and the
//! polling are guarded.

use futures_util::FutureExt;
use jsonrpsee::core::middleware::{Batch, Notification, RpcServiceT};
use jsonrpsee::server::MethodResponse;
use jsonrpsee::types::{ErrorObjectOwned, Id, Request};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The layer, for `RpcServiceBuilder::layer_fn(CatchPanic)`.
#[derive(Clone)]
pub struct CatchPanic<S>(pub S);

fn panicked(id: Id<'static>) -> MethodResponse {
    tracing::error!("a method handler panicked; answered -32603");
    MethodResponse::error(
        id,
        ErrorObjectOwned::owned(-32603, "internal error: the handler panicked", None::<()>),
    )
}

impl<S> RpcServiceT for CatchPanic<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let id = request.id().into_owned();
        let built = catch_unwind(AssertUnwindSafe(|| self.0.call(request)));
        async move {
            match built {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| panicked(id)),
                Err(_) => panicked(id),
            }
        }
    }

    fn batch<'a>(&self, requests: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let built = catch_unwind(AssertUnwindSafe(|| self.0.batch(requests)));
        async move {
            match built {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| panicked(Id::Null)),
                Err(_) => panicked(Id::Null),
            }
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let built = catch_unwind(AssertUnwindSafe(|| self.0.notification(n)));
        async move {
            match built {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| MethodResponse::notification()),
                Err(_) => MethodResponse::notification(),
            }
        }
    }
}
