//! The `create-user` Lambda: `POST /v1/users`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| create_user::handle(&store, request)).await
}
