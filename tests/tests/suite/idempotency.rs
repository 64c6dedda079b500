//! `Idempotency-Key` on the write routes, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{Backend, TestStack, assert_error, request};
use futures::future::join_all;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::edge::idempotency::{Claim, KeyRecord, KeyState};

fn with_key(mut request: Request, key: &str) -> Request {
    request
        .headers_mut()
        .insert("idempotency-key", key.parse().unwrap());
    request
}

async fn create<S: Backend>(stack: &TestStack<S>, key: &str, body: &Value) -> Response<Body> {
    let request = with_key(
        request("POST", "/v1/users", &stack.api_key, Some(body)),
        key,
    );
    create_user::handle(&stack.store, request).await
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().as_ref().to_vec()).unwrap()
}

fn replayed(response: &Response<Body>) -> bool {
    response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn a_retry_replays_the_first_response_byte_for_byte_and_changes_nothing<S: Backend>(
    stack: TestStack<S>,
) {
    let body = json!({"email": "retry@example.com"});
    let first = create(&stack, "order-1", &body).await;
    assert_eq!(first.status(), 201);
    assert!(!replayed(&first));
    let before = stack.snapshot().await;
    let second = create(&stack, "order-1", &body).await;
    assert_eq!(second.status(), 201);
    assert!(replayed(&second));
    assert_eq!(text(&second), text(&first));
    assert_eq!(stack.snapshot().await, before);
    assert_eq!(stack.user_count().await, 1);
}

async fn a_key_reused_for_another_body_or_route_is_422<S: Backend>(stack: TestStack<S>) {
    let body = json!({"email": "a@example.com"});
    assert_eq!(create(&stack, "k-1", &body).await.status(), 201);
    let other_body = create(&stack, "k-1", &json!({"email": "b@example.com"})).await;
    assert_error(&other_body, 422, "idempotency_key_reused");
    let other_route = with_key(
        request(
            "POST",
            "/v1/users/find-or-create",
            &stack.api_key,
            Some(&body),
        ),
        "k-1",
    );
    let response = find_or_create_user::handle(&stack.store, other_route).await;
    assert_error(&response, 422, "idempotency_key_reused");
    assert_eq!(stack.user_count().await, 1);
}

async fn keys_are_scoped_to_the_app<S: Backend>(stack: TestStack<S>) {
    let (_, other_key) = stack.other_app().await;
    assert_eq!(create(&stack, "shared-key", &json!({})).await.status(), 201);
    let request = with_key(
        request("POST", "/v1/users", &other_key, Some(&json!({}))),
        "shared-key",
    );
    let response = create_user::handle(&stack.store, request).await;
    assert_eq!(response.status(), 201);
    assert!(!replayed(&response));
    assert_eq!(stack.user_count().await, 2);
}

async fn fifty_concurrent_posts_with_one_key_create_one_user_and_answer_alike<S: Backend>(
    stack: TestStack<S>,
) {
    let body = json!({"external_id": "once"});
    let responses = join_all((0..50).map(|_| create(&stack, "burst", &body))).await;
    let first = text(&responses[0]);
    for response in &responses {
        assert_eq!(response.status(), 201, "{}", text(response));
        assert_eq!(text(response), first);
    }
    assert_eq!(responses.iter().filter(|r| !replayed(r)).count(), 1);
    assert_eq!(stack.user_count().await, 1);
}

async fn a_request_that_failed_validation_is_not_remembered<S: Backend>(stack: TestStack<S>) {
    let bad = create(&stack, "fix-and-retry", &json!({"email": "nope"})).await;
    assert_error(&bad, 400, "validation_failed");
    let fixed = create(
        &stack,
        "fix-and-retry",
        &json!({"email": "fixed@example.com"}),
    )
    .await;
    assert_eq!(fixed.status(), 201);
    assert!(!replayed(&fixed));
}

async fn conflicts_are_remembered_like_any_outcome<S: Backend>(stack: TestStack<S>) {
    assert_eq!(
        create(&stack, "a", &json!({"email": "taken@example.com"}))
            .await
            .status(),
        201
    );
    let body = json!({"email": "taken@example.com"});
    let conflict = create(&stack, "b", &body).await;
    assert_error(&conflict, 409, "conflict");
    let again = create(&stack, "b", &body).await;
    assert!(replayed(&again));
    assert_eq!(text(&again), text(&conflict));
}

async fn malformed_keys_are_400<S: Backend>(stack: TestStack<S>) {
    for key in [" leading", &"k".repeat(256)] {
        let response = create(&stack, key, &json!({})).await;
        assert_error(&response, 400, "validation_failed");
    }
    assert!(stack.user_count().await == 0);
}

fn in_progress(fingerprint: &str, locked_until_ms: u64, expires_at: u64) -> KeyRecord {
    KeyRecord {
        fingerprint: fingerprint.to_owned(),
        state: KeyState::InProgress,
        token: "another-request".to_owned(),
        locked_until_ms,
        expires_at,
        status: None,
        body: None,
        etag: None,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn a_retry_while_the_first_runs_waits_then_is_409_and_a_dead_claim_is_reclaimed<
    S: Backend,
>(
    stack: TestStack<S>,
) {
    let body = json!({"username": "patient"});
    let probe = request("POST", "/v1/users", &stack.api_key, Some(&body));
    let fingerprint = shared::edge::idempotency::fingerprint(&probe);
    let now = now_ms();
    // A live claim held by "another request" that never finishes.
    let live = in_progress(&fingerprint, now + 60_000, now / 1000 + 3600);
    assert_eq!(
        stack
            .store
            .claim_key(&stack.app, "busy", &live, now)
            .await
            .unwrap(),
        Claim::Claimed
    );
    let response = create(&stack, "busy", &body).await;
    assert_error(&response, 409, "idempotency_key_in_progress");
    assert!(stack.user_count().await == 0);

    // A claim whose function died: its lock ran out, so the same request takes it over.
    let dead = in_progress(&fingerprint, now - 1, now / 1000 + 3600);
    assert_eq!(
        stack
            .store
            .claim_key(&stack.app, "dead", &dead, now - 31_000)
            .await
            .unwrap(),
        Claim::Claimed
    );
    let response = create(&stack, "dead", &body).await;
    assert_eq!(response.status(), 201);
}

async fn an_expired_record_is_ignored_even_before_ttl_deletes_it<S: Backend>(stack: TestStack<S>) {
    let now = now_ms();
    let expired = KeyRecord {
        fingerprint: "another request".to_owned(),
        state: KeyState::Completed,
        token: "old".to_owned(),
        locked_until_ms: now - 100_000_000,
        expires_at: now / 1000 - 1,
        status: Some(201),
        body: Some("{\"success\":true,\"data\":{}}".to_owned()),
        etag: None,
    };
    assert_eq!(
        stack
            .store
            .claim_key(&stack.app, "yesterday", &expired, now - 100_000_000)
            .await
            .unwrap(),
        Claim::Claimed
    );
    let response = create(&stack, "yesterday", &json!({"username": "today"})).await;
    assert_eq!(response.status(), 201);
    assert!(!replayed(&response));
    assert_eq!(stack.user_count().await, 1);
}

async fn add_wallet_and_find_or_create_honour_keys_too<S: Backend>(stack: TestStack<S>) {
    let body = json!({"email": "foc@example.com"});
    let foc = || {
        with_key(
            request(
                "POST",
                "/v1/users/find-or-create",
                &stack.api_key,
                Some(&body),
            ),
            "foc",
        )
    };
    let first = find_or_create_user::handle(&stack.store, foc()).await;
    let second = find_or_create_user::handle(&stack.store, foc()).await;
    // Replayed as created (201), not re-run as found (200).
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    assert!(replayed(&second));
    let id = api_tests::parts(&first).1["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let add = || {
        with_key(
            request(
                "POST",
                &format!("/v1/users/{id}/wallets"),
                &stack.api_key,
                Some(&json!({"chain_type": "solana"})),
            ),
            "w",
        )
    };
    let first = add_wallet::handle(&stack.store, add()).await;
    let second = add_wallet::handle(&stack.store, add()).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (202, 202)
    );
    assert!(replayed(&second));
}

api_tests::on_every_store!(
    a_retry_replays_the_first_response_byte_for_byte_and_changes_nothing,
    a_key_reused_for_another_body_or_route_is_422,
    keys_are_scoped_to_the_app,
    fifty_concurrent_posts_with_one_key_create_one_user_and_answer_alike,
    a_request_that_failed_validation_is_not_remembered,
    conflicts_are_remembered_like_any_outcome,
    malformed_keys_are_400,
    a_retry_while_the_first_runs_waits_then_is_409_and_a_dead_claim_is_reclaimed,
    an_expired_record_is_ignored_even_before_ttl_deletes_it,
    add_wallet_and_find_or_create_honour_keys_too,
);
