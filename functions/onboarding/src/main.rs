//! The `onboarding` Lambda: the find-or-create onboarding API's dialect, under `/onboarding`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let store = shared::config::store_from_env().await?;
    shared::edge::lambda::serve(|request| onboarding::handle(&store, request)).await
}
