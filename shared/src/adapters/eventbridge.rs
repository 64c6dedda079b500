//! Publishing events: to an EventBridge bus in AWS, to the log locally.

use crate::model::event::Event;
use crate::ports::publisher::{EVENT_SOURCE, EventPublisher, PublishError};

/// The variable naming the EventBridge bus in AWS.
pub const EVENT_BUS_VAR: &str = "EVENT_BUS_NAME";

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
