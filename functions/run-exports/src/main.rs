//! The `run-exports` Lambda, on the export queue.

use std::time::{Duration, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::export_files::S3Files;
use shared::adapters::sqs::SqsExportRuns;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let files = S3Files::from_env(&config)?;
    let runs = SqsExportRuns::from_env(&config)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (store, files, runs) = (&store, &files, &runs);
        async move {
            let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
            run_exports::handle(store, files, runs, event.payload, deadline)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
