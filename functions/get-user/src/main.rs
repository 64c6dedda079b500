//! The `get-user` Lambda: `GET /v1/users/{id}` and `GET /v1/users` (lookups and listing).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| get_user::handle(&store, request)).await
}
