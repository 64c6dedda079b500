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
    store: &shared::store::DynamoStore,
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
    assert_eq!(stack.user_items().await.len(), faults.len());
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
    assert_eq!(stack.user_items().await.len(), 1);
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
