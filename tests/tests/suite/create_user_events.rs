//! The create-user handler on each `events/` payload, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{TestStack, assert_error, parts};
use serde_json::json;

#[tokio::test]
async fn creates_a_user_with_pending_wallets() {
    let stack = TestStack::new().await;
    let response = create_user::handle(&stack.store, stack.event("create-user")).await;
    let (status, body) = parts(&response);
    assert_eq!(status, 201, "{body}");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(body["success"], true);
    let user = &body["data"];
    assert!(shared::model::UserId::parse(user["id"].as_str().unwrap()).is_some());
    assert_eq!(user["external_id"], "user-123");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["username"], "ada");
    assert_eq!(user["custom_metadata"], json!({"plan": "pro"}));
    assert_eq!(
        user["linked_accounts"][1],
        json!({"type": "twitter", "subject": "1234", "username": "ada_l", "linked_at": user["created_at"]})
    );
    assert_eq!(
        user["wallets"],
        json!([
            {"chain_type": "ethereum", "address": null, "status": "pending", "created_at": null, "attempts": 0, "last_error": null, "networks": []},
            {"chain_type": "solana", "address": null, "status": "pending", "created_at": null, "attempts": 0, "last_error": null, "networks": []}
        ])
    );
    assert_eq!(user["created_at"], user["updated_at"]);
    // The user item plus a guard for the external id, the email and both linked accounts.
    assert_eq!(stack.user_count().await, 1);
    assert_eq!(stack.guard_count().await, 4);
}

/// Privy's create body: the email arrives as a linked account and becomes the user's email;
/// the passkey and farcaster accounts are kept, each with when it was linked.
#[tokio::test]
async fn privys_linked_accounts_create_a_user() {
    let stack = TestStack::new().await;
    let response =
        create_user::handle(&stack.store, stack.event("create-user-privy-accounts")).await;
    let (status, body) = parts(&response);
    assert_eq!(status, 201, "{body}");
    let user = &body["data"];
    assert_eq!(user["email"], "payton@example.com");
    let types: Vec<&str> = user["linked_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["farcaster", "passkey"]);
    assert_eq!(
        user["linked_accounts"][1]["authenticator_name"],
        "1Password"
    );
    assert_eq!(user["linked_accounts"][1]["linked_at"], user["created_at"]);
    // The email, the fid and the credential id are each guarded.
    assert_eq!(stack.guard_count().await, 3);
}

#[tokio::test]
async fn an_empty_body_creates_a_user_with_one_ethereum_wallet() {
    let stack = TestStack::new().await;
    let response = create_user::handle(&stack.store, stack.event("create-user-empty-body")).await;
    let (status, body) = parts(&response);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["email"], serde_json::Value::Null);
    assert_eq!(body["data"]["wallets"][0]["chain_type"], "ethereum");
    assert_eq!(body["data"]["wallets"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_requests_get_their_status_and_change_nothing() {
    let stack = TestStack::new().await;
    let before = stack.items().await;
    let cases = [
        ("create-user-invalid-fields", 400, "validation_failed"),
        ("create-user-malformed-json", 400, "malformed_json"),
        (
            "create-user-wrong-content-type",
            415,
            "unsupported_media_type",
        ),
        ("create-user-no-auth", 401, "unauthorized"),
    ];
    for (event, status, code) in cases {
        let response = create_user::handle(&stack.store, stack.event(event)).await;
        let body = assert_error(&response, status, code);
        // API Gateway's request id is the one reported.
        assert_eq!(body["error"]["request_id"], "JKJaXmPLvHcESHA=", "{event}");
    }
    assert_eq!(stack.items().await, before);
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let stack = TestStack::new().await;
    let response =
        create_user::handle(&stack.store, stack.event("create-user-invalid-fields")).await;
    let body = assert_error(&response, 400, "validation_failed");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["nickname", "email", "username", "wallets[0].chain_type"]
    );
}

#[tokio::test]
async fn a_wrong_or_revoked_key_is_401() {
    let stack = TestStack::new().await;
    let wrong = api_tests::with_api_key(stack.event("create-user"), "wusk_not_a_key");
    assert_error(
        &create_user::handle(&stack.store, wrong).await,
        401,
        "unauthorized",
    );

    // A well-formed key with a valid checksum that was never issued: found by no lookup.
    let other =
        shared::model::api_key::issue_key(&stack.app, &shared::model::Scope::ALL, "now").unwrap();
    let unissued = api_tests::with_api_key(stack.event("create-user"), &other.token);
    assert_error(
        &create_user::handle(&stack.store, unissued).await,
        401,
        "unauthorized",
    );

    let key_id = shared::edge::auth::key_id_of(&stack.api_key)
        .unwrap()
        .to_owned();
    shared::edge::auth::revoke_api_key(&stack.store, &stack.app, &key_id)
        .await
        .unwrap();
    let revoked = stack.event("create-user");
    assert_error(
        &create_user::handle(&stack.store, revoked).await,
        401,
        "unauthorized",
    );
    assert!(stack.user_count().await == 0);
}

#[tokio::test]
async fn another_method_is_405() {
    let stack = TestStack::new().await;
    let request = api_tests::request("GET", "/v1/users", &stack.api_key, None);
    let response = create_user::handle(&stack.store, request).await;
    assert_error(&response, 405, "method_not_allowed");
    assert_eq!(response.headers()["allow"], "POST");
}
