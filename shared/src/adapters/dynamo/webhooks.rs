//! [`WebhookStore`] on DynamoDB. Layout in [`super::keys`].

use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::sdk::{applied, build_error, classify, conditional_put, from_item, plain_put, to_item};
use super::{DynamoStore, Item};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::event::{Event, UserEvent};
use crate::model::webhook::ATTEMPT_RETENTION_SECS;
use crate::model::webhook::{Attempt, AttemptOutcome, DeliveryClaim, Endpoint, LeaseRequest};
use crate::model::{AppId, UserId};
use crate::ports::{EndpointLimitError, StoreError, WebhookStore};

#[derive(Serialize, Deserialize)]
pub(super) struct EndpointItem {
    pk: String,
    sk: String,
    entity: String,
    pub(super) app_id: AppId,
    #[serde(flatten)]
    pub(super) endpoint: Endpoint,
}

/// An event kept for redelivery. The event is JSON text so that its data round-trips exactly.
#[derive(Serialize, Deserialize)]
struct EventItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    event: String,
    ttl: u64,
}

/// A copy of a user's event in its timeline, kept as long as the event.
#[derive(Serialize, Deserialize)]
struct TimelineItem {
    pk: String,
    sk: String,
    entity: String,
    event: String,
    ttl: u64,
}

/// One item per (endpoint, event): the lease of the job sending it (`lease_token`,
/// `lease_until` in Unix ms) and, once an attempt got a 2xx, `delivered_at`.
const DELIVERY_ENTITY: &str = "webhook_delivery";

#[derive(Serialize, Deserialize)]
struct AttemptItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    attempt: Attempt,
    ttl: u64,
}

fn expiry() -> u64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    now + ATTEMPT_RETENTION_SECS
}

fn delivered_sk(event_id: &str) -> String {
    format!("DELIVERED#{event_id}")
}

fn endpoint_item(app: &AppId, endpoint: &Endpoint) -> Result<Item, StoreError> {
    to_item(&EndpointItem {
        pk: keys::app_pk(app),
        sk: keys::endpoint_sk(&endpoint.id),
        entity: "webhook_endpoint".to_owned(),
        app_id: app.clone(),
        endpoint: endpoint.clone(),
    })
}

impl DynamoStore {
    /// Adds `delta` to the app's endpoint count, below `max` when adding.
    fn endpoint_count(
        &self,
        app: &AppId,
        delta: i64,
        max: Option<u32>,
    ) -> Result<Update, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::app_pk(app)))
            .key(SK, AttributeValue::S(keys::SK_APP.to_owned()))
            .update_expression("ADD webhook_count :delta")
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()));
        if let Some(max) = max {
            update = update
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(webhook_count) OR webhook_count < :max)",
                )
                .expression_attribute_values(":max", AttributeValue::N(max.to_string()));
        }
        update.build().map_err(build_error)
    }

    /// Marks the event delivered to the endpoint, leaving whatever lease is held alone.
    fn mark_delivered(
        &self,
        endpoint_id: &str,
        attempt: &Attempt,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::endpoint_pk(endpoint_id)))
            .key(SK, AttributeValue::S(delivered_sk(&attempt.event_id)))
            .update_expression("SET delivered_at = :at")
            .expression_attribute_values(":at", AttributeValue::S(attempt.attempted_at.clone()))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

impl WebhookStore for DynamoStore {
    async fn insert_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        max: u32,
    ) -> Result<(), EndpointLimitError> {
        let item = endpoint_item(app, endpoint)?;
        // The app item counts its endpoints; the condition bounds them under any race.
        let count = self.endpoint_count(app, 1, Some(max))?;
        let items = vec![
            conditional_put(&self.table, item)?,
            TransactWriteItem::builder().update(count).build(),
        ];
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(());
        };
        match cancelled.codes().as_slice() {
            [_, Some("ConditionalCheckFailed")] => Err(EndpointLimitError::LimitReached(max)),
            _ if cancelled.conflicted() => Err(StoreError::Unavailable(
                "transaction conflict on the app's endpoints".into(),
            )
            .into()),
            _ => Err(cancelled.unexplained().into()),
        }
    }

    async fn list_endpoints(&self, app: &AppId) -> Result<Vec<Endpoint>, StoreError> {
        let mut endpoints = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(keys::app_pk(app)))
                .expression_attribute_values(":prefix", AttributeValue::S(keys::endpoint_sk("")))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                endpoints.push(from_item::<EndpointItem>(item)?.endpoint);
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        endpoints.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(endpoints)
    }

    async fn get_endpoint(&self, app: &AppId, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let item = self
            .get_item(keys::app_pk(app), &keys::endpoint_sk(id))
            .await?;
        item.map(|item| from_item::<EndpointItem>(item).map(|i| i.endpoint))
            .transpose()
    }

    async fn replace_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let item = endpoint_item(app, endpoint)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .send()
            .await;
        applied(result)
    }

    async fn delete_endpoint(&self, app: &AppId, id: &str) -> Result<bool, StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::app_pk(app)))
            .key(SK, AttributeValue::S(keys::endpoint_sk(id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_error)?;
        let count = self.endpoint_count(app, -1, None)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        match cancelled.codes().as_slice() {
            [Some("ConditionalCheckFailed"), _] => Ok(false),
            _ if cancelled.conflicted() => Err(StoreError::Unavailable(
                "transaction conflict on the app's endpoints".into(),
            )),
            _ => Err(cancelled.unexplained()),
        }
    }

    async fn put_event(&self, event: &UserEvent) -> Result<(), StoreError> {
        let json = serde_json::to_string(&event.event)
            .map_err(|e| StoreError::Other(e.to_string().into()))?;
        // The user's timeline first, unconditionally: writing it again is harmless, so a
        // retried record that finds the event kept below has its timeline entry too.
        if let Some(user) = event.user_id {
            let item = to_item(&TimelineItem {
                pk: keys::user_events_pk(&event.event.app_id, user),
                sk: crate::model::event::timeline_position(&event.event),
                entity: "user_event".to_owned(),
                event: json.clone(),
                ttl: expiry(),
            })?;
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(classify)?;
        }
        let item = to_item(&EventItem {
            pk: keys::event_pk(&event.event.id),
            sk: keys::SK_EVENT.to_owned(),
            entity: "event".to_owned(),
            app_id: event.event.app_id.clone(),
            user_id: event.user_id,
            event: json,
            ttl: expiry(),
        })?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        // Already kept (a retried record): the same id names the same event.
        applied(result).map(|_| ())
    }

    async fn get_event(&self, app: &AppId, id: &str) -> Result<Option<UserEvent>, StoreError> {
        let Some(item) = self.get_item(keys::event_pk(id), keys::SK_EVENT).await? else {
            return Ok(None);
        };
        let item: EventItem = from_item(item)?;
        if &item.app_id != app {
            return Ok(None);
        }
        let event: Event = serde_json::from_str(&item.event)
            .map_err(|e| StoreError::Corrupt(e.to_string().into()))?;
        Ok(Some(UserEvent {
            user_id: item.user_id,
            event,
        }))
    }

    async fn claim_delivery(
        &self,
        endpoint_id: &str,
        event_id: &str,
        lease: &LeaseRequest,
    ) -> Result<DeliveryClaim, StoreError> {
        let free = "attribute_not_exists(lease_until) OR lease_until < :now";
        let condition = if lease.redelivery {
            format!("attribute_not_exists(pk) OR {free}")
        } else {
            format!("attribute_not_exists(pk) OR (attribute_not_exists(delivered_at) AND ({free}))")
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::endpoint_pk(endpoint_id)))
            .key(SK, AttributeValue::S(delivered_sk(event_id)))
            .update_expression(
                "SET lease_token = :token, lease_until = :until, entity = :entity, #ttl = :ttl",
            )
            .condition_expression(condition)
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":token", AttributeValue::S(lease.token.clone()))
            .expression_attribute_values(":until", AttributeValue::N(lease.until_ms.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(lease.now_ms.to_string()))
            .expression_attribute_values(":entity", AttributeValue::S(DELIVERY_ENTITY.into()))
            .expression_attribute_values(":ttl", AttributeValue::N(expiry().to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let held = match result {
            Ok(_) => return Ok(DeliveryClaim::Granted),
            Err(error) => match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned().unwrap_or_default()
                }
                _ => return Err(classify(error)),
            },
        };
        // Our own claim, applied by an attempt whose answer was lost and retried by the SDK.
        if held.get("lease_token").and_then(|t| t.as_s().ok()) == Some(&lease.token) {
            return Ok(DeliveryClaim::Granted);
        }
        if !lease.redelivery && held.contains_key("delivered_at") {
            return Ok(DeliveryClaim::Delivered);
        }
        let until_ms = match held.get("lease_until") {
            Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| StoreError::Corrupt("a delivery lease without its end".into()))?;
        Ok(DeliveryClaim::Busy(Duration::from_millis(
            until_ms.saturating_sub(lease.now_ms),
        )))
    }

    async fn record_attempt(
        &self,
        endpoint_id: &str,
        attempt: &Attempt,
        lease_token: &str,
    ) -> Result<(), StoreError> {
        let item = to_item(&AttemptItem {
            pk: keys::endpoint_pk(endpoint_id),
            sk: format!("ATTEMPT#{}#{}", attempt.attempted_at, attempt.event_id),
            entity: "webhook_attempt".to_owned(),
            attempt: attempt.clone(),
            ttl: expiry(),
        })?;
        let put = plain_put(&self.table, item)?;
        let release = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::endpoint_pk(endpoint_id)))
            .key(SK, AttributeValue::S(delivered_sk(&attempt.event_id)))
            .expression_attribute_values(":token", AttributeValue::S(lease_token.to_owned()))
            // Only the holder releases: a lease taken over after running out is the new
            // holder's. A 2xx is recorded as delivered whoever holds the lease now.
            .condition_expression("lease_token = :token");
        let release = if attempt.outcome == AttemptOutcome::Delivered {
            release
                .update_expression("SET delivered_at = :at REMOVE lease_token, lease_until")
                .expression_attribute_values(":at", AttributeValue::S(attempt.attempted_at.clone()))
        } else {
            release.update_expression("REMOVE lease_token, lease_until")
        }
        .build()
        .map_err(build_error)?;
        let items = vec![
            put.clone(),
            TransactWriteItem::builder().update(release).build(),
        ];
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(());
        };
        match cancelled.codes().as_slice() {
            [_, Some("ConditionalCheckFailed")] => {
                tracing::warn!(
                    endpoint = endpoint_id,
                    event_id = %attempt.event_id,
                    "the delivery lease ran out during the attempt and was taken over"
                );
                let mut items = vec![put];
                if attempt.outcome == AttemptOutcome::Delivered {
                    items.push(self.mark_delivered(endpoint_id, attempt)?);
                }
                match self.send_transaction(items).await? {
                    None => Ok(()),
                    Some(cancelled) => Err(cancelled.unexplained()),
                }
            }
            _ => Err(cancelled.unexplained()),
        }
    }

    async fn list_user_events(
        &self,
        app: &AppId,
        user: UserId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Event>, bool), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", AttributeValue::S(keys::user_events_pk(app, user)))
            .scan_index_forward(false)
            .limit(limit as i32 + 1);
        let query = match before {
            Some(before) => query
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":before", AttributeValue::S(before.to_owned())),
            None => query.key_condition_expression("pk = :pk"),
        };
        let output = query.send().await.map_err(classify)?;
        // A page also ends at 1 MB: events carry their user, so fewer than `limit + 1` may
        // come back with more still to read.
        let cut_short = output.last_evaluated_key.is_some();
        let mut events = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let item: TimelineItem = from_item(item)?;
                serde_json::from_str(&item.event)
                    .map_err(|e| StoreError::Corrupt(e.to_string().into()))
            })
            .collect::<Result<Vec<Event>, _>>()?;
        let more = events.len() > limit || (cut_short && !events.is_empty());
        events.truncate(limit);
        Ok((events, more))
    }

    async fn list_attempts(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<Attempt>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::endpoint_pk(endpoint_id)))
            .expression_attribute_values(":prefix", AttributeValue::S("ATTEMPT#".into()))
            .scan_index_forward(false)
            .limit(limit as i32)
            .send()
            .await
            .map_err(classify)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<AttemptItem>(item).map(|i| i.attempt))
            .collect()
    }
}
