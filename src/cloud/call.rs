//! [`Call`]: what every cloud call gets besides its parameters: a deadline and a cancel token.
//! The cloud layer's own type, so that a client never needs to know who is calling it.

use super::error::CloudError;
use std::future::Future;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The budget of one operation, retries included.
#[derive(Clone, Debug)]
pub struct Call {
    /// Fires when the operation is cancelled.
    pub cancel: CancellationToken,
    /// When the operation must be over, retries included.
    pub deadline: Instant,
}

impl Call {
    /// A call that must finish by `deadline` unless `cancel` fires first.
    pub fn new(cancel: CancellationToken, deadline: Instant) -> Self {
        Call { cancel, deadline }
    }

    /// Runs `fut` unless the operation is cancelled or past its deadline first.
    pub async fn guard<T>(&self, fut: impl Future<Output = Result<T, CloudError>>) -> Result<T, CloudError> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(CloudError::Cancelled),
            _ = tokio::time::sleep_until(self.deadline) => Err(CloudError::Timeout),
            out = fut => out,
        }
    }

    /// Sleeps, waking early with an error on cancel or deadline.
    pub async fn sleep(&self, duration: std::time::Duration) -> Result<(), CloudError> {
        if Instant::now() + duration > self.deadline {
            return Err(CloudError::Timeout);
        }
        self.guard(async {
            tokio::time::sleep(duration).await;
            Ok(())
        })
        .await
    }
}
