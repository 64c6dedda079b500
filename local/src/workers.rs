//! The local stack's background work, as Lambda runs it in AWS: the wallet creator and the
//! event publisher each on the table's stream, and webhook deliveries on the delivery queue.

use std::collections::HashSet;

use shared::adapters::eventbridge::LogPublisher;
use shared::adapters::http_sender::Sender;
use shared::adapters::sealer::LocalSealer;
use shared::domain::webhooks::delivery::{RetrySchedule, SecretOpener};

use crate::Services;
use crate::stream::{StreamError, run_consumer};

/// The wallet creator on the stream, until the task is dropped.
pub async fn run_wallet_creator(
    services: Services,
    endpoint: String,
    sealer: LocalSealer,
) -> Result<(), StreamError> {
    let store = &services.store;
    run_consumer(store, &endpoint, |batch| {
        create_wallets::handle(store, &sealer, batch)
    })
    .await
}

/// The event publisher on the stream (events to the log and the delivery queue), until the
/// task is dropped.
pub async fn run_event_publisher(services: Services, endpoint: String) -> Result<(), StreamError> {
    let (store, queue) = (&services.store, services.queue.as_ref());
    run_consumer(store, &endpoint, |batch| {
        publish_events::handle(store, &LogPublisher, queue, batch)
    })
    .await
}

/// Webhook deliveries from the queue through `sender`, until the task is dropped.
pub async fn run_deliveries(services: Services, sender: Sender, schedule: RetrySchedule) {
    let opener = SecretOpener::new(services.sealer.clone());
    let context = deliver_webhooks::Deliveries {
        store: &services.store,
        opener: &opener,
        sender: &sender,
        queue: services.queue.as_ref(),
        schedule: &schedule,
    };
    services
        .queue
        .run(|event| async {
            deliver_webhooks::handle(&context, event)
                .await
                .batch_item_failures
                .into_iter()
                .map(|failure| failure.item_identifier)
                .collect::<HashSet<String>>()
        })
        .await;
}
