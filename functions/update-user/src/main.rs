//! The `update-user` Lambda: `PATCH /v1/users/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| update_user::handle(&store, request)).await
}
