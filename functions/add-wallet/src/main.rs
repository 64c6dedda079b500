//! The `add-wallet` Lambda: `POST /v1/users/{id}/wallets`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| add_wallet::handle(&store, request)).await
}
