//! The `unlink-account` Lambda: `DELETE /v1/users/{id}/linked-accounts/{type}/{value}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| unlink_account::handle(&store, request)).await
}
