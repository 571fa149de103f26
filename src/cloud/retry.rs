//! Retries for every cloud client: capped exponential backoff with jitter (backon), honouring
//! `Retry-After`, bounded by the operation's deadline and stopped at once by `cancel`.

use super::error::CloudError;
use crate::resources::Context;
use backon::{ExponentialBuilder, Retryable};
use std::future::Future;
use std::time::Duration;

/// Whether repeating a call is safe when its first attempt may have taken effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, deletes, updates to a fixed value, and creates carrying a retry token.
    Idempotent,
    /// Creates without a retry token: an ambiguous failure is returned to the caller, which
    /// must reconcile (list what exists) before trying again.
    NotIdempotent,
}

/// Base delay of the backoff.
pub const BASE_DELAY: Duration = Duration::from_millis(200);
/// Longest single wait.
pub const MAX_DELAY: Duration = Duration::from_secs(20);

/// Runs `call` until it succeeds, fails for good, runs out of attempts, passes the deadline, or
/// is cancelled.
pub async fn with_retries<T, F, Fut>(ctx: &Context, idempotency: Idempotency, call: F) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(BASE_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_max_times(ctx.clouds.max_attempts().saturating_sub(1) as usize)
        .with_jitter();
    let retrying = call
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(move |err: &CloudError| {
            err.is_retryable() && !(err.is_ambiguous() && idempotency == Idempotency::NotIdempotent)
        })
        .adjust(|err: &CloudError, planned: Option<Duration>| match err {
            CloudError::Api {
                retry_after: Some(wait),
                ..
            } => planned.map(|_| (*wait).min(MAX_DELAY)),
            _ => planned,
        })
        .notify(|err: &CloudError, wait: Duration| {
            tracing::warn!(error = %err, wait_ms = wait.as_millis() as u64, "retrying cloud call");
        });
    ctx.guard(retrying).await
}

/// Parses a `Retry-After` header given in seconds.
pub fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}
