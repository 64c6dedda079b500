//! The `deliver-webhooks` Lambda, on the webhook delivery queue.

use std::convert::Infallible;

use aws_lambda_events::event::sqs::SqsEvent;
use deliver_webhooks::Deliveries;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::http_sender::Sender;
use shared::adapters::sealer::Sealer;
use shared::adapters::sqs::SqsQueue;
use shared::domain::wallets::seal::KeyPurpose;
use shared::domain::webhooks::delivery::{RetrySchedule, SecretOpener};
use shared::domain::webhooks::destination::DestinationPolicy;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let opener = SecretOpener::new(Sealer::from_env(&config, KeyPurpose::WebhookSecrets)?);
    let sender = Sender::new(DestinationPolicy::from_env()?)?;
    let queue = SqsQueue::from_env(&config)?;
    let schedule = RetrySchedule::from_env()?;
    let context = Deliveries {
        store: &store,
        opener: &opener,
        sender: &sender,
        queue: &queue,
        schedule: &schedule,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let context = &context;
        async move { Ok::<_, Infallible>(deliver_webhooks::handle(context, event.payload).await) }
    }))
    .await
}
