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

/// Logs events' ids: the local stand-in for the bus. Not their data: it is the user as the API
/// shows it, emails and phone numbers included.
pub struct LogPublisher;

impl EventPublisher for LogPublisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        for event in events {
            tracing::info!(event_id = %event.id, app_id = %event.app_id, "{}", event.event_type);
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::model::event::EventType;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_log_stand_in_logs_no_user_data() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(crate::telemetry::json_layer(move || writer.clone()));
        let _guard = tracing::subscriber::set_default(subscriber);
        let event = Event {
            id: "evt_0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4".to_owned(),
            event_type: EventType::UserCreated,
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            app_id: crate::model::ids::AppId::generate(),
            data: json!({"email": "ada@example.com", "phone": "+15555550123"}),
        };
        LogPublisher.publish(&[event]).await.unwrap();
        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.contains("evt_0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4"),
            "{logged}"
        );
        assert!(!logged.contains("ada@example.com"), "{logged}");
        assert!(!logged.contains("+15555550123"), "{logged}");
    }
}
