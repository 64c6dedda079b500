//! `POST /v1/users/batch`, against DynamoDB Local.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{Backend, TestStack, assert_error, parts, request};
use serde_json::{Value, json};

async fn import<S: Backend>(stack: &TestStack<S>, body: Value) -> (u16, Value) {
    parts(
        &import_users::handle(
            &stack.store,
            request("POST", "/v1/users/batch", &stack.api_key, Some(&body)),
        )
        .await,
    )
}

async fn a_batch_of_100_creates_each_user<S: Backend>(stack: TestStack<S>) {
    let users: Vec<Value> = (0..100)
        .map(|i| json!({"email": format!("u{i}@example.com")}))
        .collect();
    let (status, body) = import(&stack, json!({ "users": users })).await;
    assert_eq!(status, 200, "{body}");
    let results = body["data"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index);
        assert_eq!(result["status"], 201, "{result}");
        assert_eq!(result["user"]["email"], format!("u{index}@example.com"));
    }
    assert_eq!(stack.user_count().await, 100);
    stack.assert_guards_match_users().await;
}

async fn bad_items_and_duplicates_are_reported_per_index_and_block_nothing<S: Backend>(
    stack: TestStack<S>,
) {
    let (status, _) = import(&stack, json!({"users": [{"email": "taken@example.com"}]})).await;
    assert_eq!(status, 200);
    let (status, body) = import(
        &stack,
        json!({"users": [
            {"email": "fine@example.com"},
            {"email": "not-an-email"},
            {"email": "taken@example.com"},
            {"external_id": "dup", "email": "second@example.com"},
            {"external_id": "dup"},
            {"username": "fine too"}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let results = body["data"]["results"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 400, 409, 201, 409, 201]);
    assert_eq!(results[1]["error"]["code"], "validation_failed");
    assert_eq!(results[1]["error"]["details"][0]["field"], "email");
    assert_eq!(results[2]["error"]["details"][0]["field"], "email");
    assert_eq!(
        results[4]["error"]["details"][0]["message"],
        "repeats users[3] of this batch"
    );
    assert_eq!(stack.user_count().await, 4);
    stack.assert_guards_match_users().await;
}

async fn a_malformed_batch_is_400_and_changes_nothing<S: Backend>(stack: TestStack<S>) {
    let before = stack.snapshot().await;
    let too_many: Vec<Value> = (0..101).map(|_| json!({})).collect();
    for body in [
        json!({"users": []}),
        json!({"users": too_many}),
        json!({"people": []}),
        json!([]),
        json!({"users": {}}),
    ] {
        let response = import_users::handle(
            &stack.store,
            request("POST", "/v1/users/batch", &stack.api_key, Some(&body)),
        )
        .await;
        assert_error(&response, 400, "validation_failed");
    }
    assert_eq!(stack.snapshot().await, before);
}

api_tests::on_every_store!(
    a_batch_of_100_creates_each_user,
    bad_items_and_duplicates_are_reported_per_index_and_block_nothing,
    a_malformed_batch_is_400_and_changes_nothing,
);
