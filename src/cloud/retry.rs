//! Retries for every cloud client: capped exponential backoff with jitter (backon), honouring
//! `Retry-After`, bounded by the operation's deadline and stopped at once by `cancel`.

use super::call::Call;
use super::error::CloudError;
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

/// How many times a client tries one call (the `max_attempts` setting), first attempt included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, at least 1.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 8 }
    }
}

/// Base delay of the backoff.
pub const BASE_DELAY: Duration = Duration::from_millis(200);
/// Longest single wait.
pub const MAX_DELAY: Duration = Duration::from_secs(20);

/// Runs `call` until it succeeds, fails for good, runs out of attempts, passes the deadline, or
/// is cancelled.
pub async fn with_retries<T, F, Fut>(
    budget: &Call,
    policy: RetryPolicy,
    idempotency: Idempotency,
    call: F,
) -> Result<T, CloudError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(BASE_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_max_times(policy.max_attempts.max(1).saturating_sub(1) as usize)
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
    budget.guard(retrying).await
}

/// Parses a `Retry-After` header given in seconds. Any value is safe: a huge one (`1e20`, which
/// `Duration::from_secs_f64` would panic on) is clamped to [`MAX_DELAY`], the longest we wait.
pub fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(MAX_DELAY.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_never_panics_and_is_clamped() {
        let parse = |v: &str| parse_retry_after(Some(&HeaderValue::from_str(v).unwrap()));
        assert_eq!(parse("1e20"), Some(MAX_DELAY));
        assert_eq!(parse("18446744073709551616"), Some(MAX_DELAY));
        assert_eq!(parse("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("NaN"), None);
        assert_eq!(parse("inf"), None);
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
