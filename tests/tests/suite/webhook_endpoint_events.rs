//! A new webhook endpoint is an event: `webhook_endpoint.created`, from the table's stream, to
//! every endpoint of the app that subscribes to it (the new one included), without its secret.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api_tests::receiver::{Receiver, reference_verifies};
use api_tests::{TestStack, parts, request};
use local_api::{LOCAL_DESTINATIONS, Services, workers};
use serde_json::{Value, json};
use shared::adapters::http_sender::Sender;
use shared::domain::webhooks::delivery::RetrySchedule;

async fn register(stack: &TestStack, services: &Services, url: &str, events: &[&str]) -> Value {
    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: LOCAL_DESTINATIONS,
    };
    let body = json!({"url": url, "events": events});
    let request = request("POST", "/v1/webhooks", &stack.api_key, Some(&body));
    let (status, body) = parts(&webhooks::handle(&context, request).await);
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn registering_an_endpoint_is_an_event_the_apps_endpoints_receive_without_its_secret() {
    let stack = TestStack::new().await;
    let schedule = RetrySchedule::new(vec![Duration::from_millis(100); 2]);
    let services = stack.services(schedule.attempts());
    tokio::spawn(workers::run_event_publisher(
        services.clone(),
        api_tests::endpoint(),
    ));
    let sender = Sender::with_timeout(LOCAL_DESTINATIONS, Duration::from_secs(5)).unwrap();
    tokio::spawn(workers::run_deliveries(services.clone(), sender, schedule));

    let watcher = Receiver::start(vec![]).await;
    let existing = register(
        &stack,
        &services,
        &watcher.url,
        &["webhook_endpoint.created"],
    )
    .await;
    let newcomer = Receiver::start(vec![]).await;
    let added = register(&stack, &services, &newcomer.url, &["user.created"]).await;
    let secret = added["secret"].as_str().unwrap();

    // The watcher hears of itself, then of the newcomer (which did not subscribe).
    let received = watcher.wait_for(2, Duration::from_secs(30)).await;
    let bodies: Vec<Value> = received.iter().map(|r| r.json()).collect();
    let about = |id: &Value| {
        bodies
            .iter()
            .find(|b| &b["data"]["id"] == id)
            .unwrap_or_else(|| panic!("no event about {id}: {bodies:?}"))
            .clone()
    };
    about(&existing["id"]);
    let event = about(&added["id"]);
    assert_eq!(event["type"], "webhook_endpoint.created");
    assert_eq!(event["app_id"], json!(stack.app.to_string()));
    assert_eq!(event["data"]["url"], added["url"]);
    assert_eq!(event["data"]["events"], json!(["user.created"]));
    let text = event.to_string();
    assert!(event["data"].get("secret").is_none() && event["data"].get("secrets").is_none());
    assert!(
        !text.contains(secret.trim_start_matches("whsec_")),
        "{text}"
    );
    assert!(!text.contains("ciphertext"), "{text}");
    let existing_secret = existing["secret"].as_str().unwrap();
    assert!(
        received
            .iter()
            .all(|r| reference_verifies(existing_secret, r))
    );
    assert!(newcomer.received().is_empty(), "not subscribed");
}
