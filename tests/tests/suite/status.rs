//! Disabling and enabling users: idempotent, shown on the user, filtered in listings, and
//! refused what would extend a disabled user, on every store.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{Backend, TestStack, assert_error, parts, request};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

async fn create<S: Backend>(stack: &TestStack<S>, body: Value) -> Value {
    let request = request("POST", "/v1/users", &stack.api_key, Some(&body));
    let (status, body) = parts(&create_user::handle(&stack.store, request).await);
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

/// `POST /v1/users/{id}/<action>` with `body`, through the update-user handler.
async fn status_change<S: Backend>(
    stack: &TestStack<S>,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> Response<Body> {
    let path = format!("/v1/users/{id}/{action}");
    let request = request("POST", &path, &stack.api_key, body.as_ref());
    update_user::handle(&stack.store, request).await
}

async fn changed<S: Backend>(
    stack: &TestStack<S>,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> Value {
    let (status, body) = parts(&status_change(stack, id, action, body).await);
    assert_eq!(status, 200, "{action}: {body}");
    body["data"].clone()
}

async fn disabling_and_enabling_are_idempotent<S: Backend>(stack: TestStack<S>) {
    let user = create(&stack, json!({"email": "ada@example.com"})).await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["status"], "active");
    assert_eq!(user["disabled_at"], Value::Null);

    let first = changed(&stack, id, "disable", Some(json!({"reason": "fraud"}))).await;
    assert_eq!(first["status"], "disabled");
    assert_eq!(first["disabled_reason"], "fraud");
    assert_eq!(first["disabled_at"], first["updated_at"]);
    assert_eq!(first["version"], 2);

    // The same request again changes nothing: same version, same time.
    let again = changed(&stack, id, "disable", Some(json!({"reason": "fraud"}))).await;
    assert_eq!(again, first);
    // A new reason is recorded; the user was disabled when it first was.
    let reason = changed(&stack, id, "disable", Some(json!({"reason": "chargeback"}))).await;
    assert_eq!(reason["disabled_reason"], "chargeback");
    assert_eq!(reason["disabled_at"], first["disabled_at"]);
    assert_eq!(reason["version"], 3);
    // No body keeps the reason.
    assert_eq!(changed(&stack, id, "disable", None).await, reason);

    let enabled = changed(&stack, id, "enable", None).await;
    assert_eq!(enabled["status"], "active");
    assert_eq!(enabled["disabled_at"], Value::Null);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    assert_eq!(enabled["version"], 4);
    assert_eq!(
        changed(&stack, id, "enable", Some(json!({}))).await,
        enabled
    );

    // Bad bodies and unknown users change nothing.
    let before = stack.snapshot().await;
    let long = "x".repeat(501);
    for (action, body, status, code) in [
        ("disable", json!({"reason": long}), 400, "validation_failed"),
        ("disable", json!({"reason": 7}), 400, "validation_failed"),
        ("disable", json!({"why": "x"}), 400, "validation_failed"),
        ("disable", json!([]), 400, "validation_failed"),
        ("enable", json!({"reason": "x"}), 400, "validation_failed"),
    ] {
        let response = status_change(&stack, id, action, Some(body)).await;
        assert_error(&response, status, code);
    }
    let missing = "0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b";
    assert_error(
        &status_change(&stack, missing, "disable", None).await,
        404,
        "not_found",
    );
    assert_eq!(stack.snapshot().await, before);
}

async fn a_disabled_user_is_found_but_gains_nothing<S: Backend>(stack: TestStack<S>) {
    let user = create(
        &stack,
        json!({"email": "ada@example.com", "external_id": "ada-1", "wallets": [{"chain_type": "ethereum"}]}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    changed(&stack, &id, "disable", Some(json!({"reason": "fraud"}))).await;

    // Found by id, by lookup, and by find-or-create, which reports it and creates nothing.
    let get = |path: String| {
        let request = request("GET", &path, &stack.api_key, None);
        get_user::handle(&stack.store, request)
    };
    let (status, by_id) = parts(&get(format!("/v1/users/{id}")).await);
    assert_eq!(
        (status, &by_id["data"]["status"]),
        (200, &json!("disabled"))
    );
    let (status, by_email) = parts(&get("/v1/users?email=ada@example.com".into()).await);
    assert_eq!((status, &by_email["data"]["id"]), (200, &json!(id)));
    let body = json!({"email": "ADA@example.com"});
    let find = request(
        "POST",
        "/v1/users/find-or-create",
        &stack.api_key,
        Some(&body),
    );
    let (status, found) = parts(&find_or_create_user::handle(&stack.store, find).await);
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"]["created"], false);
    assert_eq!(found["data"]["user"]["status"], "disabled");
    assert_eq!(found["data"]["user"]["disabled_reason"], "fraud");

    // It gains no wallet and no linked account: 403, nothing written.
    let before = stack.snapshot().await;
    let wallet = json!({"chain_type": "solana"});
    let path = format!("/v1/users/{id}/wallets");
    let response = add_wallet::handle(
        &stack.store,
        request("POST", &path, &stack.api_key, Some(&wallet)),
    )
    .await;
    let envelope = assert_error(&response, 403, "user_disabled");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("enable")
    );
    let account = json!({"type": "phone", "number": "+14155550123"});
    let path = format!("/v1/users/{id}/linked-accounts");
    let response = link_account::handle(
        &stack.store,
        request("POST", &path, &stack.api_key, Some(&account)),
    )
    .await;
    assert_error(&response, 403, "user_disabled");
    assert_eq!(stack.snapshot().await, before, "refusals wrote nothing");

    // The app can still change it: a profile edit keeps it disabled.
    let patch = json!({"username": "ada"});
    let path = format!("/v1/users/{id}");
    let mut request_ = request("PATCH", &path, &stack.api_key, Some(&patch));
    request_.headers_mut().insert(
        "content-type",
        "application/merge-patch+json".parse().unwrap(),
    );
    let (status, patched) = parts(&update_user::handle(&stack.store, request_).await);
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["data"]["status"], "disabled");
    assert_eq!(patched["data"]["username"], "ada");

    // Enabled again, it gains a wallet.
    changed(&stack, &id, "enable", None).await;
    let path = format!("/v1/users/{id}/wallets");
    let response = add_wallet::handle(
        &stack.store,
        request("POST", &path, &stack.api_key, Some(&wallet)),
    )
    .await;
    assert_eq!(response.status(), 202);
    stack.assert_guards_match_users().await;
}

async fn listing_filters_by_status<S: Backend>(stack: TestStack<S>) {
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(
            create(&stack, json!({})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Disable the 2nd, 4th and 5th.
    for index in [1, 3, 4] {
        changed(&stack, &ids[index], "disable", None).await;
    }
    let list = |query: &'static str| {
        let request = request("GET", &format!("/v1/users{query}"), &stack.api_key, None);
        get_user::handle(&stack.store, request)
    };
    let ids_of = |page: &Value| -> Vec<String> {
        page["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest_first = |indexes: &[usize]| -> Vec<String> {
        indexes.iter().rev().map(|&i| ids[i].clone()).collect()
    };
    let (_, all) = parts(&list("").await);
    assert_eq!(ids_of(&all), newest_first(&[0, 1, 2, 3, 4, 5, 6]));
    let (_, disabled) = parts(&list("?status=disabled").await);
    assert_eq!(ids_of(&disabled), newest_first(&[1, 3, 4]));
    assert!(
        disabled["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] == "disabled")
    );
    let (_, active) = parts(&list("?status=active").await);
    assert_eq!(ids_of(&active), newest_first(&[0, 2, 5, 6]));

    // Paging one at a time through the disabled users.
    let mut paged = Vec::new();
    let mut query = "?status=disabled&limit=1".to_owned();
    loop {
        let request = request("GET", &format!("/v1/users{query}"), &stack.api_key, None);
        let (status, page) = parts(&get_user::handle(&stack.store, request).await);
        assert_eq!(status, 200, "{page}");
        paged.extend(ids_of(&page));
        match page["data"]["next_cursor"].as_str() {
            Some(cursor) => query = format!("?status=disabled&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, newest_first(&[1, 3, 4]));

    // Enabled again, a user is listed as active.
    changed(&stack, &ids[3], "enable", None).await;
    let (_, active) = parts(&list("?status=active").await);
    assert_eq!(ids_of(&active), newest_first(&[0, 2, 3, 5, 6]));

    assert_error(&list("?status=banned").await, 400, "validation_failed");
}

api_tests::on_every_store!(
    disabling_and_enabling_are_idempotent,
    a_disabled_user_is_found_but_gains_nothing,
    listing_filters_by_status,
);
