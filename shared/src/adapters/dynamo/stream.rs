//! What every consumer of the table's stream shares: the one reading of a record's user
//! images, records it cannot understand, and the partial batch response that reports the
//! records to retry.

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::adapters::dynamo::keys::SK_USER;
use crate::adapters::dynamo::user_from_image;
use crate::model::{AppId, User};

/// A record that cannot be understood: retrying it will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed stream record {event_id}: {reason}")]
pub struct PoisonRecord {
    pub event_id: String,
    pub reason: String,
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

/// A user item's images in one record: before the change (none for an insert) and after it
/// (none for a removal), each with its app.
#[derive(Debug, Clone, PartialEq)]
pub struct UserImages {
    pub old: Option<(AppId, User)>,
    pub new: Option<(AppId, User)>,
}

/// The user images `record` carries; `None` for a record of another kind of item (keys,
/// guards, apps, events, deliveries).
pub fn user_images(record: &EventRecord) -> Result<Option<UserImages>, PoisonRecord> {
    let poison = |reason: String| PoisonRecord {
        event_id: record.event_id.clone(),
        reason,
    };
    match record.change.keys.get("sk") {
        Some(serde_dynamo::AttributeValue::S(sk)) if sk == SK_USER => {}
        Some(_) => return Ok(None),
        None => return Err(poison("the record has no sort key".into())),
    }
    let image = |item: &serde_dynamo::Item, which: &str| {
        if item.is_empty() {
            return Ok(None);
        }
        user_from_image(item.clone())
            .map(Some)
            .map_err(|e| poison(format!("{which} image: {e}")))
    };
    Ok(Some(UserImages {
        old: image(&record.change.old_image, "old")?,
        new: image(&record.change.new_image, "new")?,
    }))
}

/// The item a record is about (its partition key), so one item's records can be kept in order.
pub fn item_key(record: &EventRecord) -> String {
    match record.change.keys.get("pk") {
        Some(serde_dynamo::AttributeValue::S(pk)) => pk.clone(),
        _ => record.event_id.clone(),
    }
}
