//! The `privy` Lambda: Privy's server API for users, under `/privy`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    let retention = shared::config::deleted_user_retention()?;
    let context = privy::Privy {
        store: &store,
        retention,
    };
    shared::edge::lambda::serve(|request| privy::handle(&context, request)).await
}
