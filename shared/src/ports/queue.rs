//! The delivery queue port: an SQS standard queue in AWS ([`crate::adapters::sqs`]), an
//! in-process stand-in with the same semantics locally. Each job is retried on its own schedule: a receiver that is down delays
//! its own deliveries, never another endpoint's, and one event's retries never hold back the
//! next event (so delivery order is commit order only while the receiver answers; every event
//! carries the user's `version` to order by).

use std::future::Future;
use std::time::Duration;

use crate::model::webhook::DeliveryJob;

/// A failed queue operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery queue: {0}")]
pub struct QueueError(pub String);

/// Where delivery jobs wait.
pub trait DeliveryQueue: Send + Sync {
    /// Enqueues `jobs`, in order.
    fn enqueue(&self, jobs: &[DeliveryJob]) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Hides a received message for `delay`: its next attempt waits that long.
    fn retry_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
