//! The find-or-create handler on each `events/` payload, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{TestStack, assert_error, parts};

#[tokio::test]
async fn creates_then_finds_the_same_user() {
    let stack = TestStack::new().await;
    let first = find_or_create_user::handle(&stack.store, stack.event("find-or-create-user")).await;
    let (status, created) = parts(&first);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["created"], true);
    let second =
        find_or_create_user::handle(&stack.store, stack.event("find-or-create-user")).await;
    let (status, found) = parts(&second);
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"]["created"], false);
    assert_eq!(found["data"]["user"], created["data"]["user"]);
    assert_eq!(stack.user_count().await, 1);
}

#[tokio::test]
async fn finds_a_user_made_by_create() {
    let stack = TestStack::new().await;
    let (_, made) = parts(&create_user::handle(&stack.store, stack.event("create-user")).await);
    let (status, found) =
        parts(&find_or_create_user::handle(&stack.store, stack.event("find-or-create-user")).await);
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"]["user"]["id"], made["data"]["id"]);
}

#[tokio::test]
async fn a_body_without_identifiers_is_400_and_changes_nothing() {
    let stack = TestStack::new().await;
    let before = stack.items().await;
    let response = find_or_create_user::handle(
        &stack.store,
        stack.event("find-or-create-user-no-identifier"),
    )
    .await;
    assert_error(&response, 400, "validation_failed");
    let empty = api_tests::request("POST", "/v1/users/find-or-create", &stack.api_key, None);
    assert_error(
        &find_or_create_user::handle(&stack.store, empty).await,
        400,
        "validation_failed",
    );
    assert_eq!(stack.items().await, before);
}
