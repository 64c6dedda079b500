//! The `exports` Lambda: `POST /v1/exports` and `GET /v1/exports/{id}`.

use shared::adapters::export_files::S3Files;
use shared::adapters::sqs::SqsExportRuns;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let files = S3Files::from_env(&config)?;
    let runs = SqsExportRuns::from_env(&config)?;
    let services = exports::Services {
        store: &store,
        files: &files,
        runs: &runs,
    };
    shared::edge::lambda::serve(|request| exports::handle(&services, request)).await
}
