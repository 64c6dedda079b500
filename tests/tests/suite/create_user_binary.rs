//! The compiled `create-user` binary, run as Lambda runs it: under a Runtime API, fed an
//! `events/` payload, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api_tests::TestStack;
use api_tests::faults::{Fault, FaultyStore};
use api_tests::runtime_api::{Outcome, invoke, invoke_within};
use serde_json::Value;

/// Runs the binary on `events/<event>.json`; returns the API Gateway response and its body.
async fn run_binary(stack: &TestStack, event: &str) -> (Value, Value) {
    let endpoint = api_tests::endpoint();
    let invocation = invoke(
        &api_tests::binary("create-user"),
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
    assert!(stack.user_count().await == 0);
}

#[tokio::test]
async fn out_of_time_the_binary_answers_503_before_its_deadline() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    // The write stalls for longer than the invocation may run (and than one SDK attempt may
    // take, so the SDK's own timeout would retry it rather than answer).
    let stall = Duration::from_secs(6);
    proxy.inject(Some("TransactWriteItems"), Fault::Delay(stall), 3);
    let invocation = invoke_within(
        &api_tests::binary("create-user"),
        &[
            ("TABLE_NAME", stack.table()),
            ("DYNAMODB_ENDPOINT", &proxy.endpoint),
        ],
        &stack.event_text("create-user"),
        Duration::from_millis(1500),
    )
    .await;
    let Outcome::Response(response) = invocation.outcome else {
        panic!("the function reported an error: {:?}", invocation.outcome);
    };
    // An answer in the envelope, not Lambda killing the function at its timeout.
    assert_eq!(response["statusCode"], 503, "{response}");
    assert!(response["headers"]["retry-after"].is_string(), "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "service_unavailable");
    // It answered when its time ran out, not when the store did (cold start included).
    assert!(
        invocation.elapsed < stall,
        "answered after {:?}",
        invocation.elapsed
    );
    assert_eq!(proxy.applied().get("Delay"), Some(&1));
    // Whether the stalled write lands after the answer or not, it lands whole.
    stack.assert_guards_match_users().await;
}
