//! Webhook delivery, fed by the delivery queue. Each message is one job: one event for one
//! endpoint. A failed attempt hides the message for the schedule's next delay
//! (`ChangeMessageVisibility`) and reports it failed, so SQS offers it again then, with its
//! receive count as the attempt number; after the last attempt it is reported failed and the
//! queue's redrive policy (`maxReceiveCount` = the attempts) moves it to the dead-letter
//! queue, where it stays visible.

use std::collections::HashSet;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use shared::adapters::http_sender::Sender;
use shared::domain::wallets::KeySealer;
use shared::domain::webhooks::delivery::{self, DeliveryJob, RetrySchedule, SecretOpener, Verdict};
use shared::ports::WebhookStore;
use shared::ports::queue::DeliveryQueue;

/// What deliveries need.
pub struct Deliveries<'a, S, K, Q> {
    pub store: &'a S,
    pub opener: &'a SecretOpener<K>,
    pub sender: &'a Sender,
    pub queue: &'a Q,
    pub schedule: &'a RetrySchedule,
}

/// Messages delivered at once.
const CONCURRENCY: usize = 10;

/// Handles one batch of queue messages.
pub async fn handle<S, K, Q>(context: &Deliveries<'_, S, K, Q>, event: SqsEvent) -> SqsBatchResponse
where
    S: WebhookStore,
    K: KeySealer,
    Q: DeliveryQueue,
{
    let work: Vec<_> = event
        .records
        .iter()
        .map(|message| async move {
            match deliver_message(context, message).await {
                true => None,
                false => message.message_id.clone(),
            }
        })
        .collect();
    let failed: Vec<Option<String>> = futures::stream::iter(work)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.set_failures(failed.into_iter().flatten().collect::<HashSet<_>>());
    response
}

/// `true` when the message is finished with (delete it).
async fn deliver_message<S, K, Q>(context: &Deliveries<'_, S, K, Q>, message: &SqsMessage) -> bool
where
    S: WebhookStore,
    K: KeySealer,
    Q: DeliveryQueue,
{
    let job: DeliveryJob = match message
        .body
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
    {
        Ok(Some(job)) => job,
        _ => {
            // Retrying cannot help; after its receives it goes to the dead-letter queue.
            tracing::error!(message_id = ?message.message_id, "malformed delivery job");
            return false;
        }
    };
    let attempt: u32 = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let verdict = delivery::deliver(
        context.store,
        context.opener,
        context.sender,
        context.schedule,
        &job,
        attempt,
    )
    .await;
    match verdict {
        Ok(Verdict::Done) => true,
        Ok(Verdict::RetryAfter(delay)) => {
            if let Some(receipt) = &message.receipt_handle
                && let Err(error) = context.queue.retry_after(receipt, delay).await
            {
                // The message comes back after the queue's visibility timeout instead.
                tracing::warn!(%error, "could not schedule the retry");
            }
            false
        }
        Ok(Verdict::Exhausted) => {
            tracing::error!(
                event_id = %job.event_id,
                endpoint = %job.endpoint_id,
                attempt,
                "delivery exhausted its attempts; to the dead-letter queue"
            );
            false
        }
        Err(error) => {
            tracing::error!(%error, event_id = %job.event_id, "delivery failed before sending; will retry");
            false
        }
    }
}
