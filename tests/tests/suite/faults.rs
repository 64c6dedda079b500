//! Store faults between the functions and DynamoDB Local (the harness's fault-injecting
//! proxy): throttling, internal errors, resets before and after a write is applied, latency.
//! Every answer is the envelope; a fault that outlasts the retries is a 503 with Retry-After
//! that changed nothing; a write that committed before its answer was lost is reported as the
//! success it was, and stored once. Webhook registration is held to the same.

// A test reports failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use api_tests::faults::{Fault, FaultyStore};
use serde_json::json;

const TRANSACTION: &str = "TransactWriteItems";

async fn create(
    store: &shared::adapters::DynamoStore,
    stack: &TestStack,
    email: &str,
) -> (u16, serde_json::Value) {
    let body = json!({"email": email, "wallets": [{"chain_type": "ethereum"}]});
    let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
    api_tests::parts(&create_user::handle(store, request).await)
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_503_with_retry_after_and_changes_nothing() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    let before = stack.items().await;
    proxy.inject(Some(TRANSACTION), Fault::Throttle, 100);

    let body = json!({"email": "throttled@example.com"});
    let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
    let response = create_user::handle(&store, request).await;
    api_tests::assert_error(&response, 503, "service_unavailable");
    let retry_after = response.headers().get("retry-after").expect("Retry-After");
    assert!(retry_after.to_str().unwrap().parse::<u32>().unwrap() >= 1);
    // The SDK retried, boundedly: three attempts, then the answer.
    assert_eq!(proxy.seen(TRANSACTION), 3);
    assert_eq!(stack.items().await, before);
}

/// Writers colliding on a create's items while another user holds its email: the answer is the
/// 409 it would be, read from the guard at the first collision, not a 503 once the attempts
/// run out (50 creates racing for one email on a busy DynamoDB Local met exactly that).
#[tokio::test]
async fn a_collision_over_an_email_another_user_holds_is_409_at_once() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    assert_eq!(create(&store, &stack, "held@example.com").await.0, 201);
    let before = stack.items().await;
    let sent = proxy.seen(TRANSACTION);
    proxy.inject(Some(TRANSACTION), Fault::TransactionConflict, 100);
    let (status, body) = create(&store, &stack, "held@example.com").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "email");
    assert_eq!(
        proxy.seen(TRANSACTION) - sent,
        1,
        "no attempt after the guard was read"
    );
    assert_eq!(stack.items().await, before);

    // A collision over a free email is waited out: each attempt collides, then a 503.
    let sent = proxy.seen(TRANSACTION);
    let (status, body) = create(&store, &stack, "free@example.com").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        proxy.seen(TRANSACTION) - sent,
        shared::domain::users::MAX_ATTEMPTS
    );
    assert_eq!(stack.items().await, before);
}

#[tokio::test]
async fn reads_that_keep_failing_are_503_too() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    proxy.inject(Some("GetItem"), Fault::InternalError, 100);
    let request = api_tests::request(
        "GET",
        "/v1/users/0190c9c4-0000-7000-8000-000000000000",
        &stack.api_key,
        None,
    );
    let response = get_user::handle(&store, request).await;
    api_tests::assert_error(&response, 503, "service_unavailable");
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn transient_faults_are_retried_and_each_user_is_stored_exactly_once() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    let faults = [
        Fault::Throttle,
        Fault::InternalError,
        Fault::ResetBefore,
        // Applied, then the answer is lost: the retry carries the same client request token,
        // so DynamoDB reports the committed transaction as a success instead of a conflict.
        Fault::ResetAfter,
        Fault::Delay(std::time::Duration::from_millis(300)),
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let seen = proxy.seen(TRANSACTION);
        proxy.inject(Some(TRANSACTION), fault, 1);
        let email = format!("retried{i}@example.com");
        let (status, body) = create(&store, &stack, &email).await;
        assert_eq!(status, 201, "{fault:?}: {body}");
        assert_eq!(body["data"]["email"], email);
        let attempts = proxy.seen(TRANSACTION) - seen;
        let expected = if matches!(fault, Fault::Delay(_)) {
            1
        } else {
            2
        };
        assert_eq!(attempts, expected, "{fault:?}: attempts");
    }
    assert_eq!(stack.user_count().await, faults.len());
    stack.assert_guards_match_users().await;
    let applied = proxy.applied();
    for kind in [
        "Throttle",
        "InternalError",
        "ResetBefore",
        "ResetAfter",
        "Delay",
    ] {
        assert_eq!(applied.get(kind), Some(&1), "{kind}");
    }
}

#[tokio::test]
async fn find_or_create_whose_answer_was_lost_returns_the_one_user() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    proxy.inject(Some(TRANSACTION), Fault::ResetAfter, 1);
    let body = json!({"email": "lost-answer@example.com"});
    let request = api_tests::request(
        "POST",
        "/v1/users/find-or-create",
        &stack.api_key,
        Some(&body),
    );
    let (status, first) = api_tests::parts(&find_or_create_user::handle(&store, request).await);
    assert!(status == 200 || status == 201, "{status}: {first}");
    let request = api_tests::request(
        "POST",
        "/v1/users/find-or-create",
        &stack.api_key,
        Some(&body),
    );
    let (status, again) =
        api_tests::parts(&find_or_create_user::handle(&stack.store, request).await);
    assert_eq!(status, 200);
    assert!(first["data"]["user"]["id"].is_string(), "{first}");
    assert_eq!(again["data"]["user"]["id"], first["data"]["user"]["id"]);
    assert_eq!(stack.user_count().await, 1);
    stack.assert_guards_match_users().await;
}

/// Registering a webhook endpoint through a faulty store: a throttle that outlasts the retries
/// is a 503 that stored nothing; a registration whose answer was lost after it committed is
/// the one endpoint, reported as the 201 it was.
#[tokio::test]
async fn webhook_registration_under_store_faults_stores_the_endpoint_once_or_not_at_all() {
    let stack = TestStack::new().await;
    let services = stack.services(3);
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    let context = webhooks::Webhooks {
        store: &store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: local_api::LOCAL_DESTINATIONS,
    };
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let request = api_tests::request(method, path, &stack.api_key, body.as_ref());
        webhooks::handle(&context, request)
    };
    let endpoint = json!({"url": "http://127.0.0.1:9/hooks", "events": ["user.created"]});
    let listed = || async {
        let (status, body) = api_tests::parts(&call("GET", "/v1/webhooks", None).await);
        assert_eq!(status, 200, "{body}");
        body["data"]["endpoints"].as_array().unwrap().clone()
    };

    proxy.inject(Some(TRANSACTION), Fault::Throttle, 100);
    let response = call("POST", "/v1/webhooks", Some(endpoint.clone())).await;
    api_tests::assert_error(&response, 503, "service_unavailable");
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(proxy.seen(TRANSACTION), 3);
    proxy.heal();
    assert!(
        listed().await.is_empty(),
        "a refused registration stored nothing"
    );

    proxy.inject(Some(TRANSACTION), Fault::ResetAfter, 1);
    let (status, body) =
        api_tests::parts(&call("POST", "/v1/webhooks", Some(endpoint.clone())).await);
    assert_eq!(status, 201, "{body}");
    assert_eq!(proxy.applied().get("ResetAfter"), Some(&1));
    let endpoints = listed().await;
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(endpoints[0]["id"], body["data"]["id"]);
}

/// A request: method, path, body.
type Call<'a> = (&'a str, &'a str, Option<&'a serde_json::Value>);

/// One write sent with an `Idempotency-Key` through `services`, as the local API routes it.
async fn keyed(
    services: &local_api::Services,
    stack: &TestStack,
    key: &str,
    (method, path, body): Call<'_>,
    if_match: Option<&str>,
) -> lambda_http::Response<lambda_http::Body> {
    let mut request = api_tests::request(method, path, &stack.api_key, body);
    let headers = request.headers_mut();
    headers.insert("idempotency-key", key.parse().unwrap());
    if method == "PATCH" {
        let merge_patch = "application/merge-patch+json".parse().unwrap();
        headers.insert("content-type", merge_patch);
    }
    if let Some(tag) = if_match {
        headers.insert("if-match", tag.parse().unwrap());
    }
    let retention = std::time::Duration::from_secs(30 * 24 * 3600);
    local_api::dispatch(services, retention, request).await
}

/// Every write whose transaction committed while its client heard only a 503 (all three SDK
/// attempts lost their answers) is replayed by a retry with the same key: the success it was,
/// the same bytes and ETag on every retry, the write applied once. Without the key's outcome
/// committed in the write's own transaction, each retry below runs again and answers otherwise
/// (409 for a create, 200 `created: false`, 412, 200 for a link, 404 for an unlink or a delete,
/// 200 for a wallet already pending, a 409 row).
#[tokio::test]
async fn a_retry_of_a_write_whose_answers_were_all_lost_replays_its_success() {
    let stack = TestStack::new().await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let healthy = stack.services(3);
    let faulty = local_api::Services {
        store: proxy.store(stack.table()).await,
        ..stack.services(3)
    };
    let user = json!({"email": "owner@example.com", "linked_accounts": [{"type": "twitter", "subject": "42"}]});
    let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&user));
    let (status, owner) = api_tests::parts(&create_user::handle(&stack.store, request).await);
    assert_eq!(status, 201, "{owner}");
    let id = owner["data"]["id"].as_str().unwrap().to_owned();
    let user_path = format!("/v1/users/{id}");

    let created = json!({"email": "lost-create@example.com"});
    let found = json!({"email": "lost-find@example.com"});
    let patch = json!({"username": "renamed"});
    let phone = json!({"type": "phone", "number": "+14155550199"});
    let solana = json!({"chain_type": "solana"});
    let batch = json!({"users": [{"email": "lost-row@example.com"}, {"email": "not-an-email"}]});
    let (link, unlink) = (
        format!("{user_path}/linked-accounts"),
        format!("{user_path}/linked-accounts/twitter/42"),
    );
    let wallets = format!("{user_path}/wallets");
    let cases: Vec<(&str, Call, Option<&str>, u16)> = vec![
        ("create", ("POST", "/v1/users", Some(&created)), None, 201),
        (
            "find-or-create",
            ("POST", "/v1/users/find-or-create", Some(&found)),
            None,
            201,
        ),
        (
            "patch",
            ("PATCH", &user_path, Some(&patch)),
            Some("\"1\""),
            200,
        ),
        ("link", ("POST", &link, Some(&phone)), None, 201),
        ("unlink", ("DELETE", &unlink, None), None, 200),
        ("add-wallet", ("POST", &wallets, Some(&solana)), None, 202),
        (
            "batch",
            ("POST", "/v1/users/batch", Some(&batch)),
            None,
            200,
        ),
        ("delete", ("DELETE", &user_path, None), None, 204),
    ];
    for (name, call, if_match, expected) in cases {
        let key = format!("lost-{name}");
        let lost = || proxy.applied().get("ResetAfter").copied().unwrap_or(0);
        let lost_before = lost();
        proxy.inject(Some(TRANSACTION), Fault::ResetAfter, 3);
        let first = keyed(&faulty, &stack, &key, call, if_match).await;
        proxy.heal();
        let (status, body) = api_tests::parts(&first);
        if name == "batch" {
            // The row's answer was lost: the batch reports it 503, and is not remembered.
            assert_eq!(body["data"]["results"][0]["status"], 503, "{name}: {body}");
        } else {
            assert_eq!(status, 503, "{name}: {body}");
        }
        assert_eq!(
            lost() - lost_before,
            3,
            "{name}: every answer of the write lost"
        );

        let second = keyed(&healthy, &stack, &key, call, if_match).await;
        let third = keyed(&healthy, &stack, &key, call, if_match).await;
        assert_eq!(
            second.status().as_u16(),
            expected,
            "{name}: {:?}",
            second.body()
        );
        assert_eq!(third.status(), second.status(), "{name}");
        assert_eq!(
            third.body().as_ref(),
            second.body().as_ref(),
            "{name}: not the same bytes"
        );
        assert_eq!(
            third.headers().get("etag"),
            second.headers().get("etag"),
            "{name}"
        );
        assert_eq!(
            third
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap()),
            Some("true"),
            "{name}"
        );
        if name == "batch" {
            let (_, body) = api_tests::parts(&second);
            assert_eq!(body["data"]["results"][0]["status"], 201, "{body}");
            assert_eq!(body["data"]["results"][1]["status"], 400, "{body}");
        }
    }

    // Each write applied once: the created users exist once each, the owner is gone.
    for email in [
        "lost-create@example.com",
        "lost-find@example.com",
        "lost-row@example.com",
    ] {
        let path = format!("/v1/users?email={email}");
        let request = api_tests::request("GET", &path, &stack.api_key, None);
        let request = lambda_http::RequestExt::with_query_string_parameters(
            request,
            std::collections::HashMap::from([("email".to_owned(), email.to_owned())]),
        );
        let (status, body) = api_tests::parts(&get_user::handle(&stack.store, request).await);
        assert_eq!(status, 200, "{email}: {body}");
    }
    assert_eq!(stack.user_count().await, 3);
    stack.assert_guards_match_users().await;
}
