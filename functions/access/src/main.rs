//! The `access` Lambda: the app's settings, its allowlist, its invitations and its API keys.

use shared::adapters::sealer::Sealer;
use shared::ports::sealer::KeyPurpose;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    // Issuing a key seals its client secret; this function never opens one.
    let sealer = Sealer::from_env(&config, KeyPurpose::ClientSecrets)?;
    shared::edge::lambda::serve(|request| access::handle(&store, &sealer, request)).await
}
