//! What every consumer of the table's stream shares: records it cannot understand, and the
//! partial batch response that reports the records to retry.

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

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
