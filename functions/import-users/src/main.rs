//! The `import-users` Lambda: `POST /v1/users/batch`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| import_users::handle(&store, request)).await
}
