//! `wallet.created`: published to an EventBridge bus in AWS, printed to the log locally.
//! Published from the stream record in which the wallet became ready, so a failed publish is
//! retried with the record (at least once); `event_id` is stable across retries for dedup.

use std::future::Future;

use serde::Serialize;

use crate::model::{AppId, ChainType, UserId};

/// The variable naming the EventBridge bus in AWS.
pub const EVENT_BUS_VAR: &str = "EVENT_BUS_NAME";
/// The `source` of every event this service publishes.
pub const EVENT_SOURCE: &str = "wallet-users";

/// A wallet became ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalletCreated {
    /// The same for every delivery of this event: receivers deduplicate on it.
    pub event_id: String,
    pub app_id: AppId,
    pub user_id: UserId,
    pub chain_type: ChainType,
    pub address: String,
    pub created_at: String,
}

impl WalletCreated {
    /// The event for a wallet of `user_id` on `chain_type` at `address`.
    pub fn new(
        app_id: AppId,
        user_id: UserId,
        chain_type: ChainType,
        address: String,
        created_at: String,
    ) -> Self {
        // A wallet becomes ready once per user and chain: those name the event.
        let event_id = format!("wallet.created:{user_id}:{chain_type}");
        Self {
            event_id,
            app_id,
            user_id,
            chain_type,
            address,
            created_at,
        }
    }
}

/// A failed publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// Where wallet events go.
pub trait EventPublisher: Send + Sync {
    /// Publishes one `wallet.created`.
    fn wallet_created(
        &self,
        event: &WalletCreated,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// Publishes to an EventBridge bus, detail type `wallet.created`.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventPublisher for EventBridgePublisher {
    async fn wallet_created(&self, event: &WalletCreated) -> Result<(), PublishError> {
        let detail = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type("wallet.created")
            .detail(detail)
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                PublishError(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
            })?;
        if output.failed_entry_count() > 0 {
            return Err(PublishError("EventBridge rejected the entry".into()));
        }
        Ok(())
    }
}

/// Prints events to the log: the local stand-in for the bus.
pub struct LogPublisher;

impl EventPublisher for LogPublisher {
    async fn wallet_created(&self, event: &WalletCreated) -> Result<(), PublishError> {
        let event = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
        tracing::info!(%event, "wallet.created");
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
    async fn wallet_created(&self, event: &WalletCreated) -> Result<(), PublishError> {
        match self {
            Self::EventBridge(publisher) => publisher.wallet_created(event).await,
            Self::Log(publisher) => publisher.wallet_created(event).await,
        }
    }
}
