//! The event publisher's work on one batch of stream records: derive each record's events,
//! keep them (for redelivery), publish them to the bus, and enqueue one delivery job per
//! endpoint that wants them.
//!
//! Everything here may run twice for a record (a retried batch): the event's id is derived
//! from the change, keeping it again is a no-op, the queue drops a job it already holds, and
//! the delivery function skips an event the endpoint already acknowledged.

use std::collections::HashMap;

use futures::StreamExt;
use tokio::sync::Mutex;

use super::delivery::DeliveryJob;
use super::endpoint::Endpoint;
use crate::domain::events::{UserEvent, events_of};
use crate::model::change::ChangeRecord;
use crate::model::event::EventType;
use crate::model::{AppId, UserId};
use crate::ports::access::AccessStore;
use crate::ports::publisher::EventPublisher;
use crate::ports::queue::DeliveryQueue;
use crate::ports::{StoreError, WebhookStore};

/// Users whose records are processed at once (one user's records stay in order).
const CONCURRENCY: usize = 16;

/// Processes a batch. Returns the sequence numbers to report in `batchItemFailures`: a
/// record that failed, and every later record of the same user (kept in order).
pub async fn process_batch<S, P, Q>(
    store: &S,
    publisher: &P,
    queue: &Q,
    batch: &[ChangeRecord],
) -> Vec<String>
where
    S: WebhookStore + AccessStore,
    P: EventPublisher,
    Q: DeliveryQueue,
{
    // Endpoints are read once per app per batch.
    let endpoints: Mutex<HashMap<AppId, Vec<Endpoint>>> = Mutex::new(HashMap::new());
    let mut by_user: Vec<(&str, Vec<&ChangeRecord>)> = Vec::new();
    for record in batch {
        let key = record.item.as_str();
        match by_user.iter_mut().find(|(k, _)| *k == key) {
            Some((_, records)) => records.push(record),
            None => by_user.push((key, vec![record])),
        }
    }
    let work: Vec<_> = by_user
        .into_iter()
        .map(|(_, records)| process_user(store, publisher, queue, &endpoints, records))
        .collect();
    let failed: Vec<Vec<String>> = futures::stream::iter(work)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    failed.into_iter().flatten().collect()
}

/// The invitation and inviter of an `invitation.accepted` event's data, if a user invited.
fn claim_of(data: &serde_json::Value) -> Option<(String, UserId)> {
    let onboarding = data.get("onboarding")?;
    let invitation = onboarding.get("invitation_id")?.as_str()?.to_owned();
    let inviter = UserId::parse(onboarding.get("invited_by")?.as_str()?)?;
    Some((invitation, inviter))
}

/// The records of one item, in order; on the first failure, it and the rest are reported.
async fn process_user<S, P, Q>(
    store: &S,
    publisher: &P,
    queue: &Q,
    endpoints: &Mutex<HashMap<AppId, Vec<Endpoint>>>,
    records: Vec<&ChangeRecord>,
) -> Vec<String>
where
    S: WebhookStore + AccessStore,
    P: EventPublisher,
    Q: DeliveryQueue,
{
    for (index, record) in records.iter().enumerate() {
        if let Err(error) = process_record(store, publisher, queue, endpoints, record).await {
            tracing::error!(record_id = %record.id, %error, "record not published; will retry");
            return records[index..]
                .iter()
                .map(|r| r.sequence.clone())
                .collect();
        }
    }
    Vec::new()
}

#[derive(Debug, thiserror::Error)]
enum FanoutError {
    #[error("malformed record: {0}")]
    Poison(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] crate::ports::publisher::PublishError),
    #[error(transparent)]
    Queue(#[from] crate::ports::queue::QueueError),
}

async fn process_record<S, P, Q>(
    store: &S,
    publisher: &P,
    queue: &Q,
    endpoints: &Mutex<HashMap<AppId, Vec<Endpoint>>>,
    record: &ChangeRecord,
) -> Result<(), FanoutError>
where
    S: WebhookStore + AccessStore,
    P: EventPublisher,
    Q: DeliveryQueue,
{
    let events = events_of(record).map_err(|poison| FanoutError::Poison(poison.reason))?;
    if events.is_empty() {
        return Ok(());
    }
    // The outbox counts every claim on its inviter, once: a count the invitee's request could
    // not make (its inviter's item busy) is made here, or the record is retried.
    for UserEvent { event, .. } in &events {
        if event.event_type == EventType::InvitationAccepted
            && let Some((invitation, inviter)) = claim_of(&event.data)
        {
            store
                .count_claim(&event.app_id, &invitation, inviter, &event.created_at)
                .await?;
        }
    }
    for event in &events {
        store.put_event(event).await?;
    }
    let plain: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
    publisher.publish(&plain).await?;
    let mut jobs = Vec::new();
    for UserEvent { user_id, event } in &events {
        let app_endpoints = endpoints_of(store, endpoints, &event.app_id).await?;
        for endpoint in app_endpoints.iter().filter(|e| e.wants(event.event_type)) {
            jobs.push(DeliveryJob {
                app_id: event.app_id.clone(),
                event_id: event.id.clone(),
                endpoint_id: endpoint.id.clone(),
                user_id: *user_id,
                redelivery: None,
            });
        }
    }
    queue.enqueue(&jobs).await?;
    Ok(())
}

async fn endpoints_of<S: WebhookStore>(
    store: &S,
    cache: &Mutex<HashMap<AppId, Vec<Endpoint>>>,
    app: &AppId,
) -> Result<Vec<Endpoint>, StoreError> {
    let mut cache = cache.lock().await;
    if let Some(endpoints) = cache.get(app) {
        return Ok(endpoints.clone());
    }
    let endpoints = store.list_endpoints(app).await?;
    cache.insert(app.clone(), endpoints.clone());
    Ok(endpoints)
}
