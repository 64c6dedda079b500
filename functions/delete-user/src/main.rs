//! The `delete-user` Lambda: `DELETE /v1/users/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    let retention = shared::config::deleted_user_retention()?;
    shared::edge::lambda::serve(|request| delete_user::handle(&store, retention, request)).await
}
