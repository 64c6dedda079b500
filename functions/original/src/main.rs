//! The `original` Lambda: Original's user API, under `/original`.

use shared::adapters::sealer::Sealer;
use shared::dialects::credentials::ClientSecrets;
use shared::ports::sealer::KeyPurpose;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let secrets = ClientSecrets::new(Sealer::from_env(&config, KeyPurpose::ClientSecrets)?);
    let context = original::Original {
        store: &store,
        secrets: &secrets,
    };
    shared::edge::lambda::serve(|request| original::handle(&context, request)).await
}
