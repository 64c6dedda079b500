//! Least privilege at the door: scoped keys (each route needs its scope, on every surface),
//! per-app rate limits that hold across functions and racing requests, the headers every
//! answer carries, and revoking every key at once. Over real HTTP, where the runner stamps
//! the headers as it does under Lambda.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use api_tests::TestStack;
use api_tests::raw_http::{Reply, assert_error, call, exchange, start};
use serde_json::json;
use shared::domain::apps;
use shared::domain::rate_limit;
use shared::model::Scope;
use shared::model::rate_limit::{Budget, RateLimit};

/// A new key of the stack's app holding `scopes`.
async fn key_with(stack: &TestStack, scopes: &[Scope]) -> String {
    apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        scopes,
    )
    .await
    .unwrap()
    .token
}

fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
    reply.headers.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        (n.trim() == name).then(|| v.trim())
    })
}

#[tokio::test]
async fn each_route_needs_its_scope_and_a_refusal_changes_nothing() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let reader = key_with(&stack, &[Scope::UsersRead]).await;
    let writer = key_with(&stack, &[Scope::UsersRead, Scope::UsersWrite]).await;

    let created = call(
        &address,
        "POST",
        "/v1/users",
        &writer,
        Some(&json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let read = call(&address, "GET", &format!("/v1/users/{id}"), &reader, None).await;
    assert_eq!(read.status, 200, "{}", read.body);

    let before = stack.snapshot().await;
    let refused = [
        (
            &reader,
            "POST",
            "/v1/users".to_owned(),
            json!({"email": "bob@example.com"}),
            Scope::UsersWrite,
        ),
        (
            &reader,
            "DELETE",
            format!("/v1/users/{id}"),
            json!(null),
            Scope::UsersWrite,
        ),
        (
            &writer,
            "POST",
            "/v1/webhooks".to_owned(),
            json!({"url": "https://example.com/hook"}),
            Scope::Webhooks,
        ),
        (
            &writer,
            "POST",
            "/v1/events/evt_1/redeliver".to_owned(),
            json!(null),
            Scope::Webhooks,
        ),
        (
            &writer,
            "PATCH",
            "/v1/app/settings".to_owned(),
            json!({"allowlist_required": true}),
            Scope::Admin,
        ),
        (
            &writer,
            "PUT",
            format!("/v1/users/{id}/signing-policy"),
            json!({"max_value": "1"}),
            Scope::Admin,
        ),
        // A key cannot list, issue or revoke keys (its own included) without `admin`.
        (
            &writer,
            "GET",
            "/v1/keys".to_owned(),
            json!(null),
            Scope::Admin,
        ),
        (
            &writer,
            "POST",
            "/v1/keys".to_owned(),
            json!({"scopes": ["users:read"]}),
            Scope::Admin,
        ),
        (
            &writer,
            "DELETE",
            format!(
                "/v1/keys/{}",
                shared::edge::auth::key_id_of(&writer).unwrap()
            ),
            json!(null),
            Scope::Admin,
        ),
        (
            &writer,
            "POST",
            format!("/v1/users/{id}/wallets/ethereum/rpc"),
            json!({"method": "personal_sign", "params": {"message": "hi"}}),
            Scope::WalletsSign,
        ),
    ];
    for (key, method, path, body, needed) in refused {
        let body = (!body.is_null()).then_some(body);
        let reply = call(&address, method, &path, key, body.as_ref()).await;
        let error = assert_error(&reply, 403, "insufficient_scope");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needed.as_str()),
            "{method} {path}: {}",
            error
        );
    }
    // The find-or-create dialect checks the same scope as the native route it speaks for.
    let head = format!(
        "POST /onboarding/v1/users/find-or-create HTTP/1.1\r\nhost: localhost\r\nauthorization: ApiKey {reader}\r\ncontent-type: application/json\r\ncontent-length: 27\r\nconnection: close\r\n\r\n"
    );
    let reply = exchange(&address, head, br#"{"email": "cy@example.com"}"#).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused request changed something"
    );

    // A key stored before scopes existed holds them all; list-keys shows each key's.
    let keys = apps::list_api_keys(&stack.store, &stack.app).await.unwrap();
    let shown: Vec<Vec<Scope>> = keys.iter().map(|k| k.scopes()).collect();
    assert!(shown.contains(&Scope::ALL.to_vec()), "{shown:?}");
    assert!(shown.contains(&vec![Scope::UsersRead]), "{shown:?}");
}

#[tokio::test]
async fn every_answer_carries_its_apps_quota_and_no_store() {
    let stack = TestStack::limited(RateLimit { per_second: 1000 }).await;
    let address = start(&stack).await;
    let reply = call(
        &address,
        "POST",
        "/v1/users",
        &stack.api_key,
        Some(&json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let refused = call(
        &address,
        "POST",
        "/v1/users",
        &stack.api_key,
        Some(&json!({"email": "nope"})),
    )
    .await;
    assert_eq!(refused.status, 400);
    for reply in [&reply, &refused] {
        assert_eq!(
            header(reply, "cache-control"),
            Some("no-store"),
            "{}",
            reply.headers
        );
        assert_eq!(header(reply, "x-ratelimit-limit"), Some("1000"));
        assert_eq!(
            header(reply, "ratelimit-policy"),
            Some("\"app\";q=1000;w=1")
        );
        let remaining: u32 = header(reply, "x-ratelimit-remaining")
            .unwrap()
            .parse()
            .unwrap();
        assert!(remaining < 1000);
        let reset: u64 = header(reply, "x-ratelimit-reset").unwrap().parse().unwrap();
        let now = shared::clock::now_ms() / 1000;
        assert!(
            reset > now.saturating_sub(5) && reset <= now + 1,
            "{reset} vs {now}"
        );
        assert_eq!(
            header(reply, "ratelimit"),
            Some(format!("\"app\";r={remaining};t=1").as_str())
        );
    }
    // No key, no app: nothing to count, but still nothing to cache.
    let anonymous = call(&address, "GET", "/v1/users/x", "wusk_nope", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(header(&anonymous, "cache-control"), Some("no-store"));
    assert_eq!(header(&anonymous, "x-ratelimit-limit"), None);
}

/// The window (its reset second) and remaining count of an admitted answer.
fn window_of(reply: &Reply) -> (u64, u32) {
    let reset = header(reply, "x-ratelimit-reset").unwrap().parse().unwrap();
    let remaining = header(reply, "x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    (reset, remaining)
}

#[tokio::test]
async fn an_app_over_its_limit_is_429_with_retry_after_across_functions_and_others_are_not() {
    const LIMIT: u32 = 3;
    let stack = TestStack::limited(RateLimit { per_second: LIMIT }).await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    // Sequential requests, alternating functions: within whatever windows they fall in, the
    // remaining count goes down by one per request until the window's LIMIT is spent.
    let mut admitted: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    let mut refusal = None;
    for i in 0..200 {
        let reply = if i % 2 == 0 {
            call(
                &address,
                "GET",
                "/v1/users/00000000-0000-0000-0000-000000000000",
                key,
                None,
            )
            .await
        } else {
            call(
                &address,
                "GET",
                "/v1/users?email=nobody@example.com",
                key,
                None,
            )
            .await
        };
        if reply.status == 429 {
            refusal = Some(reply);
            break;
        }
        assert_eq!(reply.status, 404, "{}", reply.body);
        let (window, remaining) = window_of(&reply);
        admitted.entry(window).or_default().push(remaining);
    }
    let refusal = refusal.expect("200 requests never met a limit of 3 a second");
    let body = assert_error(&refusal, 429, "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry after")
    );
    let retry_after: u64 = header(&refusal, "retry-after").unwrap().parse().unwrap();
    assert_eq!(retry_after, 1);
    let (window, remaining) = window_of(&refusal);
    assert_eq!(remaining, 0);
    assert_eq!(
        admitted.get(&window),
        Some(&(0..LIMIT).rev().collect::<Vec<_>>()),
        "the refused window admitted other than its limit: {admitted:?}"
    );
    for (window, counts) in &admitted {
        let expected: Vec<u32> = (0..LIMIT).rev().take(counts.len()).collect();
        assert_eq!(counts, &expected, "window {window}: {admitted:?}");
    }

    // Another app on the same deployment is untouched by this one's flood.
    let (_, other_key) = stack.other_app().await;
    let other = call(
        &address,
        "GET",
        "/v1/users?email=nobody@example.com",
        &other_key,
        None,
    )
    .await;
    assert_eq!(other.status, 404, "{}", other.body);
}

#[tokio::test]
async fn racing_requests_never_pass_the_limit_in_any_window() {
    const LIMIT: u32 = 5;
    let stack = TestStack::limited(RateLimit { per_second: LIMIT }).await;
    let address = start(&stack).await;
    let replies = futures::future::join_all((0..40).map(|_| {
        let (address, key) = (address.clone(), stack.api_key.clone());
        async move {
            call(
                &address,
                "GET",
                "/v1/users?email=nobody@example.com",
                &key,
                None,
            )
            .await
        }
    }))
    .await;
    let mut admitted: BTreeMap<u64, u32> = BTreeMap::new();
    let mut refused = 0;
    for reply in &replies {
        match reply.status {
            404 => *admitted.entry(window_of(reply).0).or_default() += 1,
            429 => refused += 1,
            other => panic!("{other}: {}", reply.body),
        }
    }
    assert!(
        admitted.values().all(|&count| count <= LIMIT),
        "a window admitted more than {LIMIT}: {admitted:?}"
    );
    assert_eq!(admitted.values().sum::<u32>() + refused, 40);
}

#[tokio::test]
async fn revoking_every_key_locks_out_each_of_them() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let second = key_with(&stack, &[Scope::UsersRead]).await;
    let already = apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        &[Scope::Admin],
    )
    .await
    .unwrap();
    apps::revoke_api_key(&stack.store, &stack.app, &already.record.key_id)
        .await
        .unwrap();
    let revoked = apps::revoke_all_api_keys(&stack.store, &stack.app)
        .await
        .unwrap();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    assert!(!revoked.contains(&already.record.key_id));
    for key in [&stack.api_key, &second] {
        let reply = call(&address, "GET", "/v1/users?email=a@example.com", key, None).await;
        // The local server's key cache may hold a record for a few seconds: a fresh process
        // (this test's server never saw these keys used) reads the revocation.
        assert_error(&reply, 401, "unauthorized");
    }
    assert!(
        apps::list_api_keys(&stack.store, &stack.app)
            .await
            .unwrap()
            .iter()
            .all(|key| key.revoked_at.is_some())
    );
}

#[tokio::test]
async fn budgets_hold_in_dynamodb_under_racing_spends() {
    let stack = TestStack::new().await;
    let budget = Budget {
        name: "test",
        limit: 10,
        window_secs: 3600,
    };
    let now = shared::clock::now_ms() / 1000;
    let spends = futures::future::join_all(
        (0..8).map(|_| rate_limit::spend(&stack.store, &stack.app, budget, 3, now)),
    )
    .await;
    let granted = spends.iter().filter(|s| matches!(s, Ok(Ok(())))).count();
    // 3 spends of 3 fit in 10; a fourth would make 12.
    assert_eq!(granted, 3, "{spends:?}");
    assert_eq!(
        rate_limit::spend(&stack.store, &stack.app, budget, 1, now)
            .await
            .unwrap(),
        Ok(())
    );
    assert!(
        rate_limit::spend(&stack.store, &stack.app, budget, 1, now)
            .await
            .unwrap()
            .is_err()
    );
}

#[tokio::test]
async fn redeliveries_and_imports_are_refused_past_the_apps_budget_changing_nothing() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    let now = shared::clock::now_ms() / 1000;
    // Spend the hour's redeliveries (as 60 calls would have), then ask for one more.
    let spent = Budget::REDELIVERIES.limit;
    rate_limit::spend(&stack.store, &stack.app, Budget::REDELIVERIES, spent, now)
        .await
        .unwrap()
        .unwrap();
    let before = stack.snapshot().await;
    let reply = call(&address, "POST", "/v1/events/evt_1/redeliver", key, None).await;
    assert_error(&reply, 429, "rate_limited");
    let retry_after: u64 = header(&reply, "retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");

    // Leave one import row of the minute; a batch of two is refused whole.
    let rows = Budget::IMPORTED_USERS.limit - 1;
    rate_limit::spend(&stack.store, &stack.app, Budget::IMPORTED_USERS, rows, now)
        .await
        .unwrap()
        .unwrap();
    let batch = json!({"users": [{"email": "a@example.com"}, {"email": "b@example.com"}]});
    let reply = call(&address, "POST", "/v1/users/batch", key, Some(&batch)).await;
    assert_error(&reply, 429, "rate_limited");
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused request changed something"
    );
    let one = json!({"users": [{"email": "a@example.com"}]});
    let reply = call(&address, "POST", "/v1/users/batch", key, Some(&one)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["data"]["results"][0]["status"], 201);
}

#[tokio::test]
async fn a_lookup_can_keep_the_identifier_out_of_the_url() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    let body = json!({"email": "Ada+vip@Example.com", "external_id": "ext-1"});
    let created = call(&address, "POST", "/v1/users", key, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    for lookup in [
        json!({"email": "ada+vip@example.com"}),
        json!({"external_id": "ext-1"}),
    ] {
        let found = call(&address, "POST", "/v1/users/lookup", key, Some(&lookup)).await;
        assert_eq!(found.status, 200, "{lookup}: {}", found.body);
        assert_eq!(found.body["data"], created.body["data"]);
        assert!(header(&found, "etag").is_some());
    }
    let missing = json!({"email": "nobody@example.com"});
    let reply = call(&address, "POST", "/v1/users/lookup", key, Some(&missing)).await;
    assert_error(&reply, 404, "not_found");
    for bad in [
        json!({}),
        json!({"email": "a@example.com", "external_id": "x"}),
        json!({"limit": "5"}),
        json!({"email": 7}),
    ] {
        let reply = call(&address, "POST", "/v1/users/lookup", key, Some(&bad)).await;
        assert_error(&reply, 400, "validation_failed");
    }
    let reader = key_with(&stack, &[Scope::UsersWrite]).await;
    let reply = call(
        &address,
        "POST",
        "/v1/users/lookup",
        &reader,
        Some(&missing),
    )
    .await;
    assert_error(&reply, 403, "insufficient_scope");
}
