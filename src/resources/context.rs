//! What every CRUD call gets besides its inputs: cancellation, a deadline, and the clouds.

use crate::cloud::error::CloudError;
use crate::provider::clouds::Clouds;
use std::future::Future;
use std::sync::Arc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The context of one operation.
#[derive(Clone)]
pub struct Context {
    /// Fires when `cancel` is called.
    pub cancel: CancellationToken,
    /// When the operation must be over, retries included.
    pub deadline: Instant,
    /// Configured cloud access.
    pub clouds: Arc<Clouds>,
}

impl Context {
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
