//! Idempotency keys, their completion inside a write's transaction, and batch receipts.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::sdk::{applied, build_error, classify, from_item, plain_put, to_item};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::AppId;
use crate::ports::StoreError;
use crate::ports::commit::{Completion, RowReceipt};
use crate::ports::idempotency::{Claim, IdempotencyStore, KeyRecord, Rendered};

#[derive(Serialize, Deserialize)]
struct KeyRecordItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: u64,
    #[serde(flatten)]
    record: KeyRecord,
}

impl IdempotencyStore for DynamoStore {
    async fn claim_key(
        &self,
        app: &AppId,
        key: &str,
        record: &KeyRecord,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        let item = to_item(&KeyRecordItem {
            pk: keys::idempotency_pk(app, key),
            sk: keys::SK_IDEMPOTENCY.to_owned(),
            entity: "idempotency_key".to_owned(),
            ttl: record.expires_at,
            record: record.clone(),
        })?;
        // Free, expired (checked here: TTL deletion can lag by days), or an abandoned claim of
        // the same request whose lock has run out.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now_secs \
                 OR (#state = :in_progress AND locked_until_ms < :now_ms AND fingerprint = :fingerprint)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now_secs", AttributeValue::N((now_ms / 1000).to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .expression_attribute_values(":fingerprint", AttributeValue::S(record.fingerprint.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(error) => error,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
            error.as_service_error()
            && let Some(held) = failed.item()
        {
            let held: KeyRecordItem = from_item(held.clone())?;
            return Ok(Claim::Held(held.record));
        }
        Err(classify(error))
    }

    async fn complete_key(
        &self,
        app: &AppId,
        key: &str,
        token: &str,
        response: &Rendered,
    ) -> Result<(), StoreError> {
        let mut completion = KeyCompletion::new(token, response);
        completion.values.insert(
            ":in_progress".into(),
            AttributeValue::S("in_progress".into()),
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
            .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
            .update_expression(completion.expression)
            // A write that committed the key's outcome already keeps it.
            .condition_expression("#token = :token AND #state = :in_progress")
            .set_expression_attribute_names(Some(completion.names))
            .set_expression_attribute_values(Some(completion.values))
            .send()
            .await;
        if applied(result)? {
            Ok(())
        } else {
            Err(StoreError::Other(
                "the idempotency claim was taken over".into(),
            ))
        }
    }

    async fn release_key(&self, app: &AppId, key: &str, token: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
            .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
            // A write that committed the key's outcome keeps it, whatever its caller heard.
            .condition_expression("#token = :token AND #state = :in_progress")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn row_receipts(&self, app: &AppId, key: &str) -> Result<Vec<RowReceipt>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :row)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::idempotency_pk(app, key)))
            .expression_attribute_values(":row", AttributeValue::S(keys::SK_ROW_PREFIX.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(classify)?;
        items
            .into_iter()
            .map(|item| {
                let row: RowReceiptItem = from_item(item)?;
                Ok(RowReceipt {
                    app: app.clone(),
                    key: key.to_owned(),
                    index: row.index,
                    fingerprint: row.fingerprint,
                    expires_at: row.ttl,
                    user: row.user,
                })
            })
            .collect()
    }
}

/// A batch row's receipt, in its key's partition.
#[derive(Serialize, Deserialize)]
struct RowReceiptItem {
    pk: String,
    sk: String,
    entity: String,
    index: usize,
    fingerprint: String,
    user: String,
    ttl: u64,
}

/// How a key's record is completed with `response`: its update expression, names and values
/// (`:token` among them, for the caller's condition).
struct KeyCompletion {
    expression: &'static str,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl KeyCompletion {
    fn new(token: &str, response: &Rendered) -> Self {
        let names = [
            ("#state", "state"),
            ("#status", "status"),
            ("#token", "token"),
        ]
        .into_iter()
        .map(|(name, attribute)| (name.to_owned(), attribute.to_owned()))
        .collect();
        let mut values: HashMap<String, AttributeValue> = [
            (":completed", AttributeValue::S("completed".into())),
            (":status", AttributeValue::N(response.status.to_string())),
            (":body", AttributeValue::S(response.body.clone())),
            (":token", AttributeValue::S(token.to_owned())),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let expression = match &response.etag {
            Some(etag) => {
                values.insert(":etag".into(), AttributeValue::S(etag.clone()));
                "SET #state = :completed, #status = :status, body = :body, etag = :etag"
            }
            None => "SET #state = :completed, #status = :status, body = :body",
        };
        Self {
            expression,
            names,
            values,
        }
    }
}

impl DynamoStore {
    /// The item a write commits beside itself for `completion`: the key's record completed
    /// (on condition the claim is still ours), or a batch row's receipt.
    pub(super) fn completion_item(
        &self,
        completion: &Completion,
    ) -> Result<TransactWriteItem, StoreError> {
        match completion {
            Completion::Key {
                app,
                key,
                token,
                rendered,
            } => {
                let completion = KeyCompletion::new(token, rendered);
                let update = Update::builder()
                    .table_name(&self.table)
                    .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
                    .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
                    .update_expression(completion.expression)
                    .condition_expression("#token = :token")
                    .set_expression_attribute_names(Some(completion.names))
                    .set_expression_attribute_values(Some(completion.values))
                    .build()
                    .map_err(build_error)?;
                Ok(TransactWriteItem::builder().update(update).build())
            }
            Completion::Row(receipt) => {
                let item = to_item(&RowReceiptItem {
                    pk: keys::idempotency_pk(&receipt.app, &receipt.key),
                    sk: format!("{}{:03}", keys::SK_ROW_PREFIX, receipt.index),
                    entity: "idempotency_row".to_owned(),
                    index: receipt.index,
                    fingerprint: receipt.fingerprint.clone(),
                    user: receipt.user.clone(),
                    ttl: receipt.expires_at,
                })?;
                plain_put(&self.table, item)
            }
        }
    }
}
