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

/// The response of a future built under `catch_unwind`, or `fallback()` if building or polling it panicked.
async fn guarded<F: Future<Output = MethodResponse>>(
    built: std::thread::Result<F>,
    fallback: impl FnOnce() -> MethodResponse,
) -> MethodResponse {
    match built {
        Ok(future) => AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| fallback()),
        Err(_) => fallback(),
    }
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
        guarded(catch_unwind(AssertUnwindSafe(|| self.0.call(request))), move || {
            panicked(id)
        })
    }

    fn batch<'a>(&self, requests: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        guarded(catch_unwind(AssertUnwindSafe(|| self.0.batch(requests))), || {
            panicked(Id::Null)
        })
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        guarded(
            catch_unwind(AssertUnwindSafe(|| self.0.notification(n))),
            MethodResponse::notification,
        )
    }
}
