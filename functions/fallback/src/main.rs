//! The `fallback` Lambda: API Gateway's `$default` route, for paths and methods no route has.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    shared::edge::lambda::serve(|request| async move { fallback::handle(&request) }).await
}
