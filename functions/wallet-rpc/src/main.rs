//! The `wallet-rpc` Lambda: `POST /v1/users/{id}/wallets/{chain_type}/rpc`.

use shared::adapters::chain_node::HttpNode;
use shared::adapters::sealer::Sealer;
use shared::domain::webhooks::destination::DestinationPolicy;
use shared::ports::sealer::KeyPurpose;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = shared::config::sdk_config_from_env().await;
    let store = shared::config::store_with(&config).await?;
    // Wallet keys are opened per request and never cached: a warm sandbox holds no key.
    let sealer = Sealer::from_env(&config, KeyPurpose::WalletKeys)?;
    let node = HttpNode::new(DestinationPolicy::from_env()?)?;
    let context = wallet_rpc::WalletRpc {
        store: &store,
        sealer: &sealer,
        node: &node,
    };
    shared::edge::lambda::serve(|request| wallet_rpc::handle(&context, request)).await
}
