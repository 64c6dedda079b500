//! Webhook endpoints, kept events, delivery leases and attempts, in memory.

use std::time::Duration;

use super::MemoryStore;
use crate::model::event::{Event, UserEvent, timeline_position};
use crate::model::webhook::{Attempt, AttemptOutcome, DeliveryClaim, Endpoint, LeaseRequest};
use crate::model::{AppId, UserId};
use crate::ports::{EndpointLimitError, StoreError, WebhookStore};

impl WebhookStore for MemoryStore {
    async fn insert_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        max: u32,
    ) -> Result<(), EndpointLimitError> {
        let mut tables = self.tables();
        if !tables.apps.contains_key(app)
            || tables.endpoint_counts.get(app).copied().unwrap_or(0) >= max
        {
            return Err(EndpointLimitError::LimitReached(max));
        }
        let id = (app.clone(), endpoint.id.clone());
        if tables.endpoints.contains_key(&id) {
            return Err(
                StoreError::Other(format!("endpoint {} exists", endpoint.id).into()).into(),
            );
        }
        tables.endpoints.insert(id, endpoint.clone());
        *tables.endpoint_counts.entry(app.clone()).or_default() += 1;
        Ok(())
    }

    async fn list_endpoints(&self, app: &AppId) -> Result<Vec<Endpoint>, StoreError> {
        let tables = self.tables();
        let mut endpoints: Vec<Endpoint> = tables
            .endpoints
            .iter()
            .filter(|((owner, _), _)| owner == app)
            .map(|(_, endpoint)| endpoint.clone())
            .collect();
        endpoints.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(endpoints)
    }

    async fn get_endpoint(&self, app: &AppId, id: &str) -> Result<Option<Endpoint>, StoreError> {
        Ok(self
            .tables()
            .endpoints
            .get(&(app.clone(), id.to_owned()))
            .cloned())
    }

    async fn replace_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        match tables
            .endpoints
            .get_mut(&(app.clone(), endpoint.id.clone()))
        {
            Some(current) if current.version == expected_version => {
                *current = endpoint.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_endpoint(&self, app: &AppId, id: &str) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        if tables
            .endpoints
            .remove(&(app.clone(), id.to_owned()))
            .is_none()
        {
            return Ok(false);
        }
        if let Some(count) = tables.endpoint_counts.get_mut(app) {
            *count = count.saturating_sub(1);
        }
        Ok(true)
    }

    async fn put_event(&self, event: &UserEvent) -> Result<(), StoreError> {
        // Already kept (a retried record): the same id names the same event.
        self.tables()
            .events
            .entry(event.event.id.clone())
            .or_insert_with(|| event.clone());
        Ok(())
    }

    async fn get_event(&self, app: &AppId, id: &str) -> Result<Option<UserEvent>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .events
            .get(id)
            .filter(|event| &event.event.app_id == app)
            .cloned())
    }

    async fn claim_delivery(
        &self,
        endpoint_id: &str,
        event_id: &str,
        lease: &LeaseRequest,
    ) -> Result<DeliveryClaim, StoreError> {
        let mut tables = self.tables();
        let delivery = tables
            .deliveries
            .entry((endpoint_id.to_owned(), event_id.to_owned()))
            .or_default();
        let free = delivery
            .lease
            .as_ref()
            .is_none_or(|(_, until_ms)| *until_ms < lease.now_ms);
        if free && (lease.redelivery || delivery.delivered_at.is_none()) {
            delivery.lease = Some((lease.token.clone(), lease.until_ms));
            return Ok(DeliveryClaim::Granted);
        }
        match &delivery.lease {
            // Our own claim, applied by an attempt whose answer was lost and retried.
            Some((token, _)) if *token == lease.token => Ok(DeliveryClaim::Granted),
            _ if !lease.redelivery && delivery.delivered_at.is_some() => {
                Ok(DeliveryClaim::Delivered)
            }
            Some((_, until_ms)) => Ok(DeliveryClaim::Busy(Duration::from_millis(
                until_ms.saturating_sub(lease.now_ms),
            ))),
            None => Err(StoreError::Corrupt(
                "a delivery lease without its end".into(),
            )),
        }
    }

    async fn record_attempt(
        &self,
        endpoint_id: &str,
        attempt: &Attempt,
        lease_token: &str,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let delivery = tables
            .deliveries
            .entry((endpoint_id.to_owned(), attempt.event_id.clone()))
            .or_default();
        // Only the holder releases: a lease taken over after running out is the new holder's.
        // A 2xx is recorded as delivered whoever holds the lease now.
        if delivery
            .lease
            .as_ref()
            .is_some_and(|(token, _)| token == lease_token)
        {
            delivery.lease = None;
        } else {
            tracing::warn!(
                endpoint = endpoint_id,
                event_id = %attempt.event_id,
                "the delivery lease ran out during the attempt and was taken over"
            );
        }
        if attempt.outcome == AttemptOutcome::Delivered {
            delivery.delivered_at = Some(attempt.attempted_at.clone());
        }
        tables
            .attempts
            .entry(endpoint_id.to_owned())
            .or_default()
            .push(attempt.clone());
        Ok(())
    }

    async fn list_attempts(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<Attempt>, StoreError> {
        let tables = self.tables();
        let mut attempts = tables
            .attempts
            .get(endpoint_id)
            .cloned()
            .unwrap_or_default();
        // Newest first, as the attempts' sort keys (time, then event) order them.
        attempts
            .sort_by(|a, b| (&b.attempted_at, &b.event_id).cmp(&(&a.attempted_at, &a.event_id)));
        attempts.truncate(limit);
        Ok(attempts)
    }

    async fn list_user_events(
        &self,
        app: &AppId,
        user: UserId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Event>, bool), StoreError> {
        let tables = self.tables();
        let mut events: Vec<(String, Event)> = tables
            .events
            .values()
            .filter(|kept| &kept.event.app_id == app && kept.user_id == Some(user))
            .map(|kept| (timeline_position(&kept.event), kept.event.clone()))
            .filter(|(position, _)| before.is_none_or(|before| position.as_str() < before))
            .collect();
        events.sort_by(|a, b| b.0.cmp(&a.0));
        let more = events.len() > limit;
        Ok((
            events
                .into_iter()
                .take(limit)
                .map(|(_, event)| event)
                .collect(),
            more,
        ))
    }
}
