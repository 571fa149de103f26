//! What every CRUD call gets besides its inputs: the cloud [`Call`] (cancellation and a
//! deadline) and the configured clouds.

use super::error::ProviderError;
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

/// What keeps a [`Context`] counted while it lives (the provider's in-flight count).
pub type ContextGuard = Box<dyn Send + Sync>;

/// A [`Context`] made on first use. A `diff` is decided by the state alone unless a key opted into
/// rotation, and making a context is not free: a cancel token, a clock read and shared counters
/// that every concurrent call touches (about 1 µs of the ~12 µs a `diff` costs over HTTP).
pub struct LazyContext<'a> {
    make: &'a (dyn Fn() -> Result<(Context, ContextGuard), ProviderError> + Send + Sync),
    made: std::sync::OnceLock<(Context, ContextGuard)>,
}

impl<'a> LazyContext<'a> {
    /// A context that `make` builds when [`LazyContext::get`] is first called.
    pub fn new(make: &'a (dyn Fn() -> Result<(Context, ContextGuard), ProviderError> + Send + Sync)) -> Self {
        LazyContext {
            make,
            made: std::sync::OnceLock::new(),
        }
    }

    /// The context, made now if it was not yet; its guard lives as long as `self`.
    pub fn get(&self) -> Result<&Context, ProviderError> {
        if let Some((ctx, _)) = self.made.get() {
            return Ok(ctx);
        }
        let made = (self.make)()?;
        Ok(&self.made.get_or_init(|| made).0)
    }
}
