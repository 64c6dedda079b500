//! Webhook endpoints as stored, and the record of deliveries to them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SealedKey;
use super::event::EventType;
use super::{AppId, UserId};

/// How long attempts are kept for `GET /v1/webhooks/{id}/deliveries`.
pub const ATTEMPT_RETENTION_SECS: u64 = 30 * 24 * 60 * 60;

/// Whether an endpoint gets deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    Enabled,
    /// No more deliveries: the receiver answered `410 Gone`.
    Disabled,
}

/// A signing secret at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    pub sealed: SealedKey,
    pub created_at: String,
    /// Set when the secret was rotated out: it signs until then.
    pub expires_at: Option<String>,
}

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<EventType>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub created_at: String,
    /// Newest first.
    pub secrets: Vec<StoredSecret>,
    /// Bumped by every change, for conditional writes.
    pub version: u64,
}

impl Endpoint {
    /// The endpoint as the API shows it: never a secret, sealed or not.
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "status": self.status,
            "disabled_reason": self.disabled_reason,
            "created_at": self.created_at,
        })
    }

    /// Whether the endpoint wants events of `kind` now.
    pub fn wants(&self, kind: EventType) -> bool {
        self.status == EndpointStatus::Enabled && self.events.contains(&kind)
    }

    /// The secrets that sign at `now` (RFC 3339 text sorts by time), newest first: at most
    /// [`MAX_SIGNING_SECRETS`], even on an endpoint stored before rotation kept only two.
    pub fn signing_secrets(&self, now: &str) -> impl Iterator<Item = &StoredSecret> {
        let now = now.to_owned();
        self.secrets
            .iter()
            .filter(move |s| s.expires_at.as_deref().is_none_or(|at| at > now.as_str()))
            .take(MAX_SIGNING_SECRETS)
    }
}

/// The most secrets that sign one message: the current one and, during its overlap, the one
/// it replaced.
pub const MAX_SIGNING_SECRETS: usize = 2;

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Failed; another attempt is scheduled.
    Retrying,
    /// Failed, and it was the last attempt: the job is in the dead-letter queue.
    Exhausted,
    /// The receiver answered 410 Gone: the endpoint is disabled.
    Disabled,
}

/// One attempt, as `GET /v1/webhooks/{id}/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub event_id: String,
    pub event_type: EventType,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub attempted_at: String,
    /// The receiver's status, if it answered.
    pub status_code: Option<u16>,
    /// Why no status: `timeout`, `connection_failed`, `destination_refused`.
    pub error: Option<String>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub next_retry_at: Option<String>,
}

/// A claim on one (endpoint, event) pair, as [`WebhookStore::claim_delivery`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRequest {
    /// Names the holder: only it releases the lease.
    pub token: String,
    /// Now, in Unix milliseconds: a lease that ends before it is taken over.
    pub now_ms: u64,
    /// When the lease ends, in Unix milliseconds.
    pub until_ms: u64,
    /// A redelivery asked for through the API: granted even if the event was delivered.
    pub redelivery: bool,
}

impl LeaseRequest {
    /// A new lease of `length` from now.
    pub fn new(length: Duration, redelivery: bool) -> Self {
        let now_ms = crate::clock::now_ms();
        Self {
            token: uuid::Uuid::new_v4().to_string(),
            now_ms,
            until_ms: now_ms + length.as_millis() as u64,
            redelivery,
        }
    }
}

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// The lease is ours: send, then record the attempt with its token.
    Granted,
    /// Delivered before: nothing to send.
    Delivered,
    /// Another job holds the lease for this long yet.
    Busy(Duration),
}

/// One event to deliver to one endpoint: the body of a queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub app_id: AppId,
    pub event_id: String,
    pub endpoint_id: String,
    /// The user the event concerns; none for an app's own events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Set (to the request's id) for a redelivery asked for through the API: it is sent even
    /// if the endpoint acknowledged the event before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redelivery: Option<String>,
}
