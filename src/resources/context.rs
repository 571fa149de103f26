//! What every CRUD call gets besides its inputs: the cloud [`Call`] (cancellation and a
//! deadline) and the configured clouds.

use crate::cloud::{Call, Clouds};
use std::ops::Deref;
use std::sync::Arc;

/// The context of one operation. Derefs to its [`Call`], so `client.method(ctx, ...)` passes the
/// call budget down to the cloud layer and `ctx.guard(...)`, `ctx.deadline` read it.
#[derive(Clone)]
pub struct Context {
    /// The cancel token and deadline, which the cloud clients honour.
    pub call: Call,
    /// Configured cloud access.
    pub clouds: Arc<Clouds>,
}

impl Deref for Context {
    type Target = Call;

    fn deref(&self) -> &Call {
        &self.call
    }
}
