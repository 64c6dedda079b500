//! The table's stream as the domain sees it: each record of a Lambda DynamoDB event decoded
//! once into a [`ChangeRecord`] (its user images read through the user item's one decoder),
//! and the partial batch response that reports the records to retry.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use super::keys::{SK_DELETED, SK_USER};
use super::signing::{KeyExportItem, SK_KEY_EXPORT_PREFIX, SK_SIGNATURE_PREFIX, SignatureItem};
use super::user_from_image;
use super::users::TombstoneItem;
use super::webhooks::EndpointItem;
use crate::model::change::{ChangeKind, ChangeRecord, PoisonRecord, UserChange};
use crate::model::key_export::KeyExportRecord;
use crate::model::signature::SignatureRecord;
use crate::model::webhook::Endpoint;
use crate::model::{AppId, UserId};

/// The sort key prefix of a webhook endpoint item (`keys::endpoint_sk`).
const SK_ENDPOINT_PREFIX: &str = "WEBHOOK#";

/// The records of a batch, in order.
pub fn records(event: &Event) -> Vec<ChangeRecord> {
    event.records.iter().map(record).collect()
}

/// One record, decoded.
pub fn record(record: &EventRecord) -> ChangeRecord {
    ChangeRecord {
        id: record.event_id.clone(),
        sequence: record
            .change
            .sequence_number
            .clone()
            .unwrap_or_else(|| record.event_id.clone()),
        item: match record.change.keys.get("pk") {
            Some(serde_dynamo::AttributeValue::S(pk)) => pk.clone(),
            _ => record.event_id.clone(),
        },
        change: user_change(record),
        signature: signature(record),
        key_export: key_export(record),
        endpoint: endpoint(record),
        tombstone_removed: tombstone_removed(record),
    }
}

/// The user whose tombstone a removal of one took away.
fn tombstone_removed(record: &EventRecord) -> Option<(AppId, UserId)> {
    let is_tombstone = matches!(
        record.change.keys.get("sk"),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk == SK_DELETED
    );
    if !is_tombstone || record.event_name != "REMOVE" {
        return None;
    }
    let item: TombstoneItem = serde_dynamo::from_item(record.change.old_image.clone()).ok()?;
    Some((item.app_id, item.user_id))
}

/// The webhook endpoint an insertion of one carries (its item's sort key is `WEBHOOK#<id>`;
/// delivery items have that as their partition key instead).
fn endpoint(record: &EventRecord) -> Option<(AppId, Endpoint)> {
    let is_endpoint = matches!(
        record.change.keys.get("sk"),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(SK_ENDPOINT_PREFIX)
    );
    if !is_endpoint || record.event_name != "INSERT" {
        return None;
    }
    let item: EndpointItem = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    Some((item.app_id, item.endpoint))
}

/// The signature record an insertion of one carries (a record that does not decode carries
/// none: it is bookkeeping, and its signature was answered already).
fn signature(record: &EventRecord) -> Option<(AppId, SignatureRecord)> {
    let is_signature = matches!(
        record.change.keys.get("sk"),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(SK_SIGNATURE_PREFIX)
    );
    if !is_signature || record.event_name != "INSERT" {
        return None;
    }
    let item: SignatureItem = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    Some((item.app_id, item.record))
}

/// The key export record an insertion of one carries.
fn key_export(record: &EventRecord) -> Option<(AppId, KeyExportRecord)> {
    let is_export = matches!(
        record.change.keys.get("sk"),
        Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(SK_KEY_EXPORT_PREFIX)
    );
    if !is_export || record.event_name != "INSERT" {
        return None;
    }
    let item: KeyExportItem = serde_dynamo::from_item(record.change.new_image.clone()).ok()?;
    Some((item.app_id, item.record))
}

/// The response that reports `failed` (sequence numbers) in `batchItemFailures`: the event
/// source mapping retries from the first of them.
pub fn batch_response(failed: Vec<String>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            failure
        })
        .collect();
    response
}

/// The user change `record` carries; `None` for a record of another kind of item.
fn user_change(record: &EventRecord) -> Result<Option<UserChange>, PoisonRecord> {
    let poison = |reason: String| PoisonRecord {
        record_id: record.event_id.clone(),
        reason,
    };
    match record.change.keys.get("sk") {
        Some(serde_dynamo::AttributeValue::S(sk)) if sk == SK_USER => {}
        Some(_) => return Ok(None),
        None => return Err(poison("the record has no sort key".into())),
    }
    let kind = match record.event_name.as_str() {
        "INSERT" => ChangeKind::Insert,
        "MODIFY" => ChangeKind::Modify,
        "REMOVE" => ChangeKind::Remove,
        other => return Err(poison(format!("an unknown event name {other:?}"))),
    };
    let image = |item: &serde_dynamo::Item, which: &str| {
        if item.is_empty() {
            return Ok(None);
        }
        user_from_image(item.clone())
            .map(Some)
            .map_err(|e| poison(format!("{which} image: {e}")))
    };
    let committed_at = crate::clock::format_rfc3339(
        time::OffsetDateTime::from_unix_timestamp(
            record.change.approximate_creation_date_time.timestamp(),
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    Ok(Some(UserChange {
        kind,
        old: image(&record.change.old_image, "old")?,
        new: image(&record.change.new_image, "new")?,
        committed_at,
    }))
}
