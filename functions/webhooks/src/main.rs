//! The `webhooks` Lambda: the webhook endpoints, their deliveries, and redelivery.

use shared::adapters::sealer::Sealer;
use shared::adapters::sqs::SqsQueue;
use shared::domain::wallets::seal::KeyPurpose;
use shared::domain::webhooks::destination::DestinationPolicy;
use webhooks::Webhooks;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let sealer = Sealer::from_env(&config, KeyPurpose::WebhookSecrets)?;
    let queue = SqsQueue::from_env(&config)?;
    let context = Webhooks {
        store: &store,
        sealer: &sealer,
        queue: &queue,
        policy: DestinationPolicy::from_env()?,
    };
    shared::edge::lambda::serve(|request| webhooks::handle(&context, request)).await
}
