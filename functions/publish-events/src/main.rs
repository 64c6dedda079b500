//! The `publish-events` Lambda, on the users table's stream.

use std::convert::Infallible;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::eventbridge::Publisher;
use shared::adapters::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let publisher = Publisher::from_env(&config);
    let queue = SqsQueue::from_env(&config)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let (store, publisher, queue) = (&store, &publisher, &queue);
        async move {
            Ok::<_, Infallible>(
                publish_events::handle(store, publisher, queue, event.payload).await,
            )
        }
    }))
    .await
}
