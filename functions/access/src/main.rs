//! The `access` Lambda: the app's settings, its allowlist and its invitations.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| access::handle(&store, request)).await
}
