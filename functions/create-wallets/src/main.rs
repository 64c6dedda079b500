//! The `create-wallets` Lambda, on the users table's stream.

use std::convert::Infallible;

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::adapters::sealer::Sealer;
use shared::domain::wallets::seal::{self, KeyPurpose};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    // On Graviton this must be true, or AES runs in software.
    tracing::info!(aes_hardware = seal::aes_hardware_accelerated(), "starting");
    // One SDK configuration (region, credentials) for both clients.
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    let sealer = Sealer::from_env(&config, KeyPurpose::WalletKeys)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let (store, sealer) = (&store, &sealer);
        async move { Ok::<_, Infallible>(create_wallets::handle(store, sealer, event.payload).await) }
    }))
    .await
}
