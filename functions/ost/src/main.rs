//! The `ost` Lambda: OST KIT's user API, under `/ost/v1`.

use shared::adapters::sealer::Sealer;
use shared::dialects::credentials::ClientSecrets;
use shared::ports::sealer::KeyPurpose;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let secrets = ClientSecrets::new(Sealer::from_env(&config, KeyPurpose::ClientSecrets)?);
    let context = ost::Ost {
        store: &store,
        secrets: &secrets,
    };
    shared::edge::lambda::serve(|request| ost::handle(&context, request)).await
}
