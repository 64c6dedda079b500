//! The get-user handler on each `events/` payload, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{TestStack, assert_error, parts, with_id};

async fn create_ada(stack: &TestStack) -> String {
    let (status, body) =
        parts(&create_user::handle(&stack.store, stack.event("create-user")).await);
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn gets_a_user_by_id() {
    let stack = TestStack::new().await;
    let id = create_ada(&stack).await;
    let response = get_user::handle(&stack.store, with_id(stack.event("get-user"), &id)).await;
    let (status, body) = parts(&response);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["email"], "ada@example.com");
}

#[tokio::test]
async fn unknown_or_malformed_ids_are_404() {
    let stack = TestStack::new().await;
    create_ada(&stack).await;
    // The event's id names no user of this app.
    assert_error(
        &get_user::handle(&stack.store, stack.event("get-user")).await,
        404,
        "not_found",
    );
    let malformed = with_id(stack.event("get-user"), "not-a-uuid");
    assert_error(
        &get_user::handle(&stack.store, malformed).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn looks_up_by_email_in_any_case_and_by_address_in_any_hex_case() {
    let stack = TestStack::new().await;
    let id = create_ada(&stack).await;
    for event in ["get-user-by-email", "get-user-by-address"] {
        let (status, body) = parts(&get_user::handle(&stack.store, stack.event(event)).await);
        assert_eq!(status, 200, "{event}: {body}");
        assert_eq!(body["data"]["id"], id.as_str(), "{event}");
    }
}

#[tokio::test]
async fn lookups_of_unheld_identifiers_are_404_and_bad_queries_400() {
    let stack = TestStack::new().await;
    assert_error(
        &get_user::handle(&stack.store, stack.event("get-user-by-email")).await,
        404,
        "not_found",
    );
    let body = assert_error(
        &get_user::handle(&stack.store, stack.event("get-user-bad-query")).await,
        400,
        "validation_failed",
    );
    assert_eq!(body["error"]["details"][0]["field"], "phone");
    for query in [
        "?email=a@example.com&external_id=x",
        "?email=a@example.com&limit=5",
        "?email=nope",
        "?address=0x12",
        "?external_id=",
    ] {
        let request = api_tests::request("GET", &format!("/v1/users{query}"), &stack.api_key, None);
        assert_error(
            &get_user::handle(&stack.store, request).await,
            400,
            "validation_failed",
        );
    }
}

#[tokio::test]
async fn another_apps_user_is_404() {
    let stack = TestStack::new().await;
    let id = create_ada(&stack).await;
    let (_, other_key) = stack.other_app().await;
    let by_id = api_tests::with_api_key(with_id(stack.event("get-user"), &id), &other_key);
    assert_error(
        &get_user::handle(&stack.store, by_id).await,
        404,
        "not_found",
    );
    let by_email = api_tests::with_api_key(stack.event("get-user-by-email"), &other_key);
    assert_error(
        &get_user::handle(&stack.store, by_email).await,
        404,
        "not_found",
    );
}
