//! The event publisher, on the table's stream: each committed change of a user becomes an
//! event, kept for redelivery, published to the bus and queued for every webhook endpoint
//! that wants it. Reports partial batch failures.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::domain::webhooks::fanout;
use shared::ports::WebhookStore;
use shared::ports::access::AccessStore;
use shared::ports::publisher::EventPublisher;
use shared::ports::queue::DeliveryQueue;

/// Handles one batch of stream records.
pub async fn handle<S, P, Q>(
    store: &S,
    publisher: &P,
    queue: &Q,
    event: Event,
) -> DynamoDbEventResponse
where
    S: WebhookStore + AccessStore,
    P: EventPublisher,
    Q: DeliveryQueue,
{
    shared::adapters::dynamo::stream::batch_response(
        fanout::process_batch(
            store,
            publisher,
            queue,
            &shared::adapters::dynamo::stream::records(&event),
        )
        .await,
    )
}
