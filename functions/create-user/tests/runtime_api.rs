//! The compiled `create-user` binary, run as Lambda runs it: under a Runtime API, fed an
//! `events/` payload, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use api_tests::runtime_api::{Outcome, invoke};
use serde_json::Value;

/// Runs the binary on `events/<event>.json`; returns the API Gateway response and its body.
async fn run_binary(stack: &TestStack, event: &str) -> (Value, Value) {
    let endpoint = api_tests::endpoint();
    let invocation = invoke(
        env!("CARGO_BIN_EXE_create-user"),
        &[
            ("TABLE_NAME", stack.table()),
            ("DYNAMODB_ENDPOINT", &endpoint),
        ],
        &stack.event_text(event),
    )
    .await;
    let Outcome::Response(response) = invocation.outcome else {
        panic!("the function reported an error: {:?}", invocation.outcome);
    };
    let body = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    (response, body)
}

#[tokio::test]
async fn the_binary_answers_an_api_gateway_event() {
    let stack = TestStack::new().await;
    let (response, body) = run_binary(&stack, "create-user").await;
    // The API Gateway payload 2.0 response shape.
    assert_eq!(response["statusCode"], 201, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    assert_eq!(body["data"]["email"], "ada@example.com");
    let users = stack.user_items().await;
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0]["id"].as_s().unwrap(),
        body["data"]["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_binary_reports_bad_input_in_the_envelope() {
    let stack = TestStack::new().await;
    let (response, body) = run_binary(&stack, "create-user-malformed-json").await;
    assert_eq!(response["statusCode"], 400);
    assert_eq!(body["error"]["code"], "malformed_json");
    assert!(stack.user_items().await.is_empty());
}
