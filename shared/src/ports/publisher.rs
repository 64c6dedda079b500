//! The event publisher port: where events go for AWS-native consumers besides webhooks.
//! Publishing is at least once (a failed publish is retried with its stream record); the
//! event's id is stable across retries for deduplication. Implementations (an EventBridge
//! bus in AWS, the log locally) are in [`crate::adapters::eventbridge`].

use std::future::Future;

use crate::model::event::Event;

/// The `source` of every event this service publishes.
pub const EVENT_SOURCE: &str = "wallet-users";

/// A failed publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// Where events go besides webhooks.
pub trait EventPublisher: Send + Sync {
    /// Publishes `events` (at most ten at a time, EventBridge's limit per call).
    fn publish(&self, events: &[Event]) -> impl Future<Output = Result<(), PublishError>> + Send;
}
