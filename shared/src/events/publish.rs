//! Publishing events for AWS-native consumers: an EventBridge bus in AWS, the log locally.
//! Publishing is at least once (a failed publish is retried with its stream record); the
//! event's id is stable across retries for deduplication.

use std::future::Future;

use super::Event;

/// The variable naming the EventBridge bus in AWS.
pub const EVENT_BUS_VAR: &str = "EVENT_BUS_NAME";
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

/// Publishes to an EventBridge bus: detail type the event type, detail the event.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        for chunk in events.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for event in chunk {
                let detail =
                    serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
                entries.push(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(event.event_type.as_str())
                        .detail(detail)
                        .build(),
                );
            }
            let output = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    PublishError(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
                })?;
            if output.failed_entry_count() > 0 {
                return Err(PublishError(format!(
                    "EventBridge rejected {} entries",
                    output.failed_entry_count()
                )));
            }
        }
        Ok(())
    }
}

/// Prints events to the log: the local stand-in for the bus.
pub struct LogPublisher;

impl EventPublisher for LogPublisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        for event in events {
            let body = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
            tracing::info!(event = %body, "{}", event.event_type);
        }
        Ok(())
    }
}

/// The publisher the environment configures: EventBridge when `EVENT_BUS_NAME` is set.
pub enum Publisher {
    EventBridge(EventBridgePublisher),
    Log(LogPublisher),
}

impl Publisher {
    /// EventBridge on `EVENT_BUS_NAME` if set, else the log.
    pub fn from_env(config: &aws_config::SdkConfig) -> Self {
        match std::env::var(EVENT_BUS_VAR) {
            Ok(bus) => Self::EventBridge(EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(config),
                bus,
            }),
            Err(_) => Self::Log(LogPublisher),
        }
    }
}

impl EventPublisher for Publisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        match self {
            Self::EventBridge(publisher) => publisher.publish(events).await,
            Self::Log(publisher) => publisher.publish(events).await,
        }
    }
}
