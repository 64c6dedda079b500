//! The `console` Lambda: the developer console's static files.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    shared::edge::lambda::serve(|request| async move { console::handle(&request) }).await
}
