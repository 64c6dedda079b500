//! The `link-account` Lambda: `POST /v1/users/{id}/linked-accounts`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| link_account::handle(&store, request)).await
}
