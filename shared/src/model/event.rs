//! Events as receivers get them: their types, and an event with the user it concerns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AppId, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    #[serde(rename = "user.wallet_created")]
    WalletCreated,
    #[serde(rename = "user.wallet_failed")]
    WalletFailed,
    #[serde(rename = "user.wallet_signed")]
    WalletSigned,
    /// A wallet's private key left the stack (break-glass export).
    #[serde(rename = "user.wallet_key_exported")]
    WalletKeyExported,
    /// A webhook endpoint was registered: an app's existing endpoints hear of a new one.
    #[serde(rename = "webhook_endpoint.created")]
    WebhookEndpointCreated,
}

impl EventType {
    /// Every event type, in the order the documentation lists them.
    pub const ALL: [EventType; 11] = [
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeleted,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::WalletCreated,
        Self::WalletFailed,
        Self::WalletSigned,
        Self::WalletKeyExported,
        Self::InvitationAccepted,
        Self::WebhookEndpointCreated,
    ];

    /// The type's name on the wire (`user.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeleted => "user.deleted",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::InvitationAccepted => "invitation.accepted",
            Self::WalletCreated => "user.wallet_created",
            Self::WalletFailed => "user.wallet_failed",
            Self::WalletSigned => "user.wallet_signed",
            Self::WalletKeyExported => "user.wallet_key_exported",
            Self::WebhookEndpointCreated => "webhook_endpoint.created",
        }
    }

    /// The type named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event as receivers get it: the body of a webhook and the detail of a bus event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable across redeliveries of the same change: receivers deduplicate on it.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change was committed.
    pub created_at: String,
    pub app_id: AppId,
    /// The user as the API shows it, or `{user_id, version, wallet}` for wallet events; the
    /// user's `version` orders a user's events. Never key material: the user item holds none.
    pub data: Value,
}

/// Where `event` sits in its user's timeline: events sort by `created_at` (RFC 3339, UTC,
/// milliseconds: text order is time order), then by id.
pub fn timeline_position(event: &Event) -> String {
    format!("{}#{}", event.created_at, event.id)
}

/// An event and the user it concerns, if any (an app's own events, such as a new webhook
/// endpoint, concern none).
#[derive(Debug, Clone, PartialEq)]
pub struct UserEvent {
    pub user_id: Option<UserId>,
    pub event: Event,
}
