//! [`WebhookStore`] on DynamoDB. Layout in [`super::keys`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::dynamo::{
    applied, build_error, classify, conditional_put, from_item, plain_put, to_item, unexplained,
};
use super::keys::{self, PK, SK};
use super::{DynamoStore, EndpointLimitError, StoreError, WebhookStore};
use crate::events::{Event, UserEvent};
use crate::model::{AppId, UserId};
use crate::webhooks::delivery::{ATTEMPT_RETENTION_SECS, Attempt, AttemptOutcome};
use crate::webhooks::endpoint::Endpoint;

type Item = HashMap<String, AttributeValue>;

#[derive(Serialize, Deserialize)]
struct EndpointItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    #[serde(flatten)]
    endpoint: Endpoint,
}

/// An event kept for redelivery. The event is JSON text so that its data round-trips exactly.
#[derive(Serialize, Deserialize)]
struct EventItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    user_id: UserId,
    event: String,
    ttl: u64,
}

/// Written with the attempt that got a 2xx: a duplicate job is not sent again.
#[derive(Serialize, Deserialize)]
struct DeliveredItem {
    pk: String,
    sk: String,
    entity: String,
    delivered_at: String,
    ttl: u64,
}

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

fn codes(reasons: &[CancellationReason]) -> Vec<Option<&str>> {
    reasons.iter().map(|reason| reason.code()).collect()
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
        let Some(reasons) = self.send_transaction(items).await? else {
            return Ok(());
        };
        match codes(&reasons).as_slice() {
            [_, Some("ConditionalCheckFailed")] => Err(EndpointLimitError::LimitReached(max)),
            codes if codes.contains(&Some("TransactionConflict")) => Err(StoreError::Unavailable(
                "transaction conflict on the app's endpoints".into(),
            )
            .into()),
            _ => Err(unexplained(&reasons).into()),
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
        let Some(reasons) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        match codes(&reasons).as_slice() {
            [Some("ConditionalCheckFailed"), _] => Ok(false),
            codes if codes.contains(&Some("TransactionConflict")) => Err(StoreError::Unavailable(
                "transaction conflict on the app's endpoints".into(),
            )),
            _ => Err(unexplained(&reasons)),
        }
    }

    async fn put_event(&self, event: &UserEvent) -> Result<(), StoreError> {
        let item = to_item(&EventItem {
            pk: keys::event_pk(&event.event.id),
            sk: keys::SK_EVENT.to_owned(),
            entity: "event".to_owned(),
            app_id: event.event.app_id.clone(),
            user_id: event.user_id,
            event: serde_json::to_string(&event.event)
                .map_err(|e| StoreError::Other(e.to_string()))?,
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
        let event: Event =
            serde_json::from_str(&item.event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(UserEvent {
            user_id: item.user_id,
            event,
        }))
    }

    async fn was_delivered(&self, endpoint_id: &str, event_id: &str) -> Result<bool, StoreError> {
        let item = self
            .get_item(keys::endpoint_pk(endpoint_id), &delivered_sk(event_id))
            .await?;
        Ok(item.is_some())
    }

    async fn record_attempt(&self, endpoint_id: &str, attempt: &Attempt) -> Result<(), StoreError> {
        let ttl = expiry();
        let item = to_item(&AttemptItem {
            pk: keys::endpoint_pk(endpoint_id),
            sk: format!("ATTEMPT#{}#{}", attempt.attempted_at, attempt.event_id),
            entity: "webhook_attempt".to_owned(),
            attempt: attempt.clone(),
            ttl,
        })?;
        let mut items = vec![plain_put(&self.table, item)?];
        if attempt.outcome == AttemptOutcome::Delivered {
            let mark = to_item(&DeliveredItem {
                pk: keys::endpoint_pk(endpoint_id),
                sk: delivered_sk(&attempt.event_id),
                entity: "webhook_delivered".to_owned(),
                delivered_at: attempt.attempted_at.clone(),
                ttl,
            })?;
            items.push(plain_put(&self.table, mark)?);
        }
        match self.send_transaction(items).await? {
            None => Ok(()),
            Some(reasons) => Err(unexplained(&reasons)),
        }
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
