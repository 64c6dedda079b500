//! The local server over real HTTP: routing as API Gateway does, and the README's flow. (Hostile
//! input over HTTP, the body limit included, is in `hostile.rs`.)

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use api_tests::raw_http::{call, start};
use serde_json::json;

#[tokio::test]
async fn the_readme_flow_works_over_http() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    let created = call(
        &address,
        "POST",
        "/v1/users",
        key,
        Some(&json!({"email": "ada+test@example.com", "external_id": "user-123"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap();

    let got = call(&address, "GET", &format!("/v1/users/{id}"), key, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["data"], created.body["data"]);

    // Query values are percent-decoded, as API Gateway does.
    let by_email = call(
        &address,
        "GET",
        "/v1/users?email=ada%2Btest%40example.com",
        key,
        None,
    )
    .await;
    assert_eq!(by_email.body["data"]["id"], id);

    let found = call(
        &address,
        "POST",
        "/v1/users/find-or-create",
        key,
        Some(&json!({"external_id": "user-123"})),
    )
    .await;
    assert_eq!(
        (found.status, found.body["data"]["created"].clone()),
        (200, json!(false))
    );
    assert!(created.headers.contains("x-request-id:"));
}

#[tokio::test]
async fn unrouted_requests_get_404_and_405_in_the_envelope() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let wrong_method = call(&address, "DELETE", "/v1/users", &stack.api_key, None).await;
    assert_eq!(wrong_method.status, 405);
    assert!(
        wrong_method.headers.contains("allow: post, get"),
        "{}",
        wrong_method.headers
    );
    assert_eq!(wrong_method.body["error"]["code"], "method_not_allowed");
    let unknown = call(&address, "GET", "/v1/nothing", &stack.api_key, None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "not_found");
}
