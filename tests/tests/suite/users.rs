//! Cross-function behaviour against DynamoDB Local: every conflict, racing requests, tenant
//! isolation and key rotation.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{Backend, TestStack, assert_error, parts, request};
use futures::future::join_all;
use serde_json::{Value, json};

async fn create<S: Backend>(stack: &TestStack<S>, key: &str, body: Value) -> (u16, Value) {
    parts(&create_user::handle(&stack.store, request("POST", "/v1/users", key, Some(&body))).await)
}

async fn find_or_create<S: Backend>(stack: &TestStack<S>, key: &str, body: Value) -> (u16, Value) {
    let request = request("POST", "/v1/users/find-or-create", key, Some(&body));
    parts(&find_or_create_user::handle(&stack.store, request).await)
}

fn conflict_fields(body: &Value) -> Vec<&str> {
    body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect()
}

async fn every_taken_identifier_is_a_409_naming_it_and_changes_nothing<S: Backend>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let (status, _) = create(&stack, &key, json!({
        "external_id": "ext-1",
        "email": "ada@example.com",
        "linked_accounts": [
            {"type": "wallet", "chain_type": "ethereum", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
            {"type": "twitter", "subject": "1234"},
            {"type": "phone", "number": "+14155550123"},
            {"type": "farcaster", "fid": 4423}
        ]
    }))
    .await;
    assert_eq!(status, 201);
    let before = stack.snapshot().await;
    let cases = [
        (json!({"email": "ADA@Example.com"}), vec!["email"]),
        (json!({"external_id": "ext-1"}), vec!["external_id"]),
        (
            json!({"linked_accounts": [{"type": "wallet", "chain_type": "ethereum", "address": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}]}),
            vec!["linked_accounts[0]"],
        ),
        (
            json!({"linked_accounts": [{"type": "twitter", "subject": "999"}, {"type": "twitter", "subject": "1234"}]}),
            vec!["linked_accounts[1]"],
        ),
        (
            json!({"linked_accounts": [{"type": "phone", "number": "+14155550123"}]}),
            vec!["linked_accounts[0]"],
        ),
        (
            json!({"linked_accounts": [{"type": "farcaster", "fid": 4423}]}),
            vec!["linked_accounts[0]"],
        ),
        (
            json!({"email": "ada@example.com", "external_id": "ext-1", "username": "new"}),
            vec!["external_id", "email"],
        ),
    ];
    for (body, fields) in cases {
        let response = create_user::handle(
            &stack.store,
            request("POST", "/v1/users", &key, Some(&body)),
        )
        .await;
        let error = assert_error(&response, 409, "conflict");
        assert_eq!(conflict_fields(&error), fields, "{body}");
    }
    assert_eq!(stack.snapshot().await, before);
}

async fn a_twitter_subject_and_a_github_subject_do_not_collide<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let (first, _) = create(
        &stack,
        &key,
        json!({"linked_accounts": [{"type": "twitter", "subject": "42"}]}),
    )
    .await;
    let (second, body) = create(
        &stack,
        &key,
        json!({"linked_accounts": [{"type": "github", "subject": "42"}]}),
    )
    .await;
    assert_eq!((first, second), (201, 201), "{body}");
}

async fn fifty_racing_creates_with_one_email_make_one_user<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let results = join_all((0..50).map(|i| {
        create(
            &stack,
            &key,
            json!({"email": "race@example.com", "external_id": format!("racer-{i}")}),
        )
    }))
    .await;
    let created = results.iter().filter(|(status, _)| *status == 201).count();
    let conflicts: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 409)
        .collect();
    assert_eq!(created, 1, "{results:?}");
    assert_eq!(conflicts.len(), 49, "{results:?}");
    for (_, body) in conflicts {
        assert_eq!(conflict_fields(body), ["email"]);
    }
    assert_eq!(stack.user_count().await, 1);
    // The winner's guards only: its email and external id; the losers left nothing.
    assert_eq!(stack.guard_count().await, 2);
}

async fn fifty_racing_find_or_creates_return_one_user_created_once<S: Backend>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let body = json!({"email": "login@example.com", "linked_accounts": [{"type": "twitter", "subject": "77"}]});
    let results = join_all((0..50).map(|_| find_or_create(&stack, &key, body.clone()))).await;
    let ids: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|(_, body)| {
            body["data"]["user"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let created: Vec<_> = results
        .iter()
        .filter(|(_, b)| b["data"]["created"] == true)
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, 201);
    assert!(
        results
            .iter()
            .filter(|(_, b)| b["data"]["created"] == false)
            .all(|(s, _)| *s == 200)
    );
    assert_eq!(stack.user_count().await, 1);
}

async fn find_or_create_returns_a_partial_match_unchanged<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let (_, made) = create(
        &stack,
        &key,
        json!({"external_id": "ext-9", "username": "original"}),
    )
    .await;
    let (status, found) = find_or_create(
        &stack,
        &key,
        json!({"external_id": "ext-9", "email": "new@example.com", "username": "changed"}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"]["user"], made["data"]);
    // The unused email stays free.
    let (status, _) = create(&stack, &key, json!({"email": "new@example.com"})).await;
    assert_eq!(status, 201);
}

async fn identifiers_of_two_users_are_an_ambiguous_409<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let (_, a) = create(&stack, &key, json!({"email": "a@example.com"})).await;
    let (_, b) = create(&stack, &key, json!({"external_id": "b"})).await;
    let before = stack.snapshot().await;
    let request = request(
        "POST",
        "/v1/users/find-or-create",
        &key,
        Some(&json!({"email": "a@example.com", "external_id": "b"})),
    );
    let response = find_or_create_user::handle(&stack.store, request).await;
    let body = assert_error(&response, 409, "ambiguous_match");
    assert_eq!(conflict_fields(&body), ["external_id", "email"]);
    let messages = body["error"]["details"].to_string();
    assert!(
        messages.contains(a["data"]["id"].as_str().unwrap())
            && messages.contains(b["data"]["id"].as_str().unwrap())
    );
    assert_eq!(stack.snapshot().await, before);
}

async fn apps_are_isolated_and_identifiers_are_unique_per_app<S: Backend>(stack: TestStack<S>) {
    let (_, other_key) = stack.other_app().await;
    let body = json!({"email": "shared@example.com", "external_id": "same"});
    let (a_status, a) = create(&stack, &stack.api_key.clone(), body.clone()).await;
    let (b_status, b) = create(&stack, &other_key, body.clone()).await;
    assert_eq!((a_status, b_status), (201, 201));
    assert_ne!(a["data"]["id"], b["data"]["id"]);
    // Each app finds its own user by the same identifier.
    let (_, found) = find_or_create(&stack, &other_key, body).await;
    assert_eq!(found["data"]["user"]["id"], b["data"]["id"]);
    let lookup = request("GET", "/v1/users?external_id=same", &other_key, None);
    let (_, looked_up) = parts(&get_user::handle(&stack.store, lookup).await);
    assert_eq!(looked_up["data"]["id"], b["data"]["id"]);
}

#[tokio::test]
async fn an_app_may_hold_several_keys_and_revoke_one() {
    let stack = TestStack::new().await;
    let second = shared::domain::apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let keys = shared::domain::apps::list_api_keys(&stack.store, &stack.app)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|k| k.app_id == stack.app && k.revoked_at.is_none())
    );
    // Neither the key nor anything but its hash is stored.
    let stored = format!("{:?}", stack.items().await);
    assert!(!stored.contains(&stack.api_key) && !stored.contains(&second.token));

    let first_id = shared::edge::auth::key_id_of(&stack.api_key)
        .unwrap()
        .to_owned();
    shared::edge::auth::revoke_api_key(&stack.store, &stack.app, &first_id)
        .await
        .unwrap();
    let (status, _) = create(&stack, &stack.api_key.clone(), json!({})).await;
    assert_eq!(status, 401);
    let (status, _) = create(&stack, &second.token, json!({})).await;
    assert_eq!(status, 201);
    // Revoking twice, or another app's key, is refused.
    assert!(
        shared::edge::auth::revoke_api_key(&stack.store, &stack.app, &first_id)
            .await
            .is_err()
    );
    let (other_app, other_key) = stack.other_app().await;
    let other_id = shared::edge::auth::key_id_of(&other_key)
        .unwrap()
        .to_owned();
    assert!(
        shared::edge::auth::revoke_api_key(&stack.store, &stack.app, &other_id)
            .await
            .is_err()
    );
    assert!(
        shared::edge::auth::revoke_api_key(&stack.store, &other_app, &other_id)
            .await
            .is_ok()
    );
}

async fn responses_never_carry_the_api_key<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let (_, body) = create(&stack, &key, json!({"email": "k@example.com"})).await;
    assert!(
        api_tests::strings(&body)
            .iter()
            .all(|s| !s.contains("wusk_"))
    );
}

#[tokio::test]
async fn an_unreachable_store_is_a_503_that_names_no_internals() {
    let stack = TestStack::new().await;
    // Nothing listens on port 1: every call fails to connect.
    let client = shared::config::dynamodb_client(Some("http://127.0.0.1:1")).await;
    let down = shared::adapters::DynamoStore::new(client, stack.table());
    let request = request(
        "POST",
        "/v1/users",
        &stack.api_key,
        Some(&json!({"email": "x@example.com"})),
    );
    let response = create_user::handle(&down, request).await;
    let body = assert_error(&response, 503, "service_unavailable");
    assert_eq!(response.headers()["retry-after"], "1");
    let text = body.to_string();
    for internal in ["dispatch", "127.0.0.1", "connect", "DynamoDB"] {
        assert!(!text.contains(internal), "{internal} leaked: {text}");
    }
    assert!(stack.user_count().await == 0);
}

/// The recorded last use of each of the app's keys, by key id.
async fn last_uses<S: Backend>(
    stack: &TestStack<S>,
) -> std::collections::HashMap<String, Option<String>> {
    let keys = shared::domain::apps::list_api_keys(&stack.store, &stack.app)
        .await
        .unwrap();
    keys.into_iter()
        .map(|k| (k.key_id, k.last_used_at))
        .collect()
}

#[tokio::test]
async fn a_keys_last_use_is_recorded_to_the_hour() {
    let stack = TestStack::new().await;
    let unused = shared::domain::apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let key = stack.api_key.clone();
    let used_id = shared::edge::auth::key_id_of(&key).unwrap().to_owned();
    create(&stack, &key, json!({})).await;
    let uses = last_uses(&stack).await;
    let first_use = uses[&used_id].clone().expect("the used key has a last use");
    assert_eq!(uses[&unused.record.key_id], None);
    // Within the hour, further requests write nothing more.
    create(&stack, &key, json!({})).await;
    assert_eq!(
        last_uses(&stack).await[&used_id].as_deref(),
        Some(first_use.as_str())
    );
}

async fn confusable_and_idn_spellings_of_an_email_are_the_same_user<S: Backend>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let (status, first) = create(&stack, &key, json!({"email": "ada@bücher.example"})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        first["data"]["email"], "ada@bücher.example",
        "stored as given"
    );
    for spelling in [
        "ＡＤＡ@bücher.example",
        "ada@xn--bcher-kva.example",
        "Ada@BÜCHER.example",
    ] {
        let (status, body) = create(&stack, &key, json!({"email": spelling})).await;
        assert_eq!(status, 409, "{spelling}: {body}");
        assert_eq!(conflict_fields(&body), ["email"]);
        let (status, found) = find_or_create(&stack, &key, json!({"email": spelling})).await;
        // A login matches only the mailbox (confusables.rs): the fullwidth local part is
        // another mailbox, a conflict; case and the domain's spellings are this one.
        if spelling.starts_with('Ａ') {
            assert_eq!((status, conflict_fields(&found)), (409, vec!["email"]));
        } else {
            assert_eq!(
                (status, &found["data"]["user"]["id"]),
                (200, &first["data"]["id"]),
                "{spelling}"
            );
        }
    }
    let lookup = request(
        "GET",
        "/v1/users?email=ada@xn--bcher-kva.example",
        &key,
        None,
    );
    let (status, found) = parts(&get_user::handle(&stack.store, lookup).await);
    assert_eq!((status, &found["data"]["id"]), (200, &first["data"]["id"]));
    stack.assert_guards_match_users().await;
}

async fn letters_that_only_look_alike_are_different_emails_and_respellings_are_the_same<
    S: Backend,
>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let (status, latin) = create(&stack, &key, json!({"email": "ada@example.com"})).await;
    assert_eq!(status, 201, "{latin}");
    // Cyrillic а (U+0430), Greek ο (U+03BF): other letters, so other addresses and other users.
    let mut ids = vec![latin["data"]["id"].clone()];
    for look_alike in [
        "\u{430}da@example.com",
        "ada@ex\u{430}mple.com",
        "ada@example.c\u{3bf}m",
    ] {
        let (status, body) = create(&stack, &key, json!({"email": look_alike})).await;
        assert_eq!(status, 201, "{look_alike}: {body}");
        assert_eq!(body["data"]["email"], look_alike);
        ids.push(body["data"]["id"].clone());
    }
    // Case, width and IDNA spellings of one address are one user, in a change too: another
    // user's address respelt is a conflict; a user's own, respelt, is stored as given.
    let id = latin["data"]["id"].as_str().unwrap();
    let patch = |email: &str, user: &str| {
        let body = json!({ "email": email });
        request("PATCH", &format!("/v1/users/{user}"), &key, Some(&body))
    };
    let cyrillic = ids[1].as_str().unwrap();
    let before = stack.snapshot().await.len();
    for respelt in ["ADA@EXAMPLE.COM", "ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ"] {
        let response = update_user::handle(&stack.store, patch(respelt, cyrillic)).await;
        let body = assert_error(&response, 409, "conflict");
        assert_eq!(conflict_fields(&body), ["email"]);
    }
    let response = update_user::handle(&stack.store, patch("Ada@Example.com", id)).await;
    let (status, body) = parts(&response);
    assert_eq!(
        (status, &body["data"]["email"]),
        (200, &json!("Ada@Example.com"))
    );
    assert_eq!(
        stack.snapshot().await.len(),
        before,
        "no guard gained or lost"
    );
    // A fullwidth at sign is not the @ of an address.
    let (status, body) = create(&stack, &key, json!({"email": "ada＠example.com"})).await;
    assert_eq!(
        (status, &body["error"]["details"][0]["field"]),
        (400, &json!("email"))
    );
    stack.assert_guards_match_users().await;
}

api_tests::on_every_store!(
    every_taken_identifier_is_a_409_naming_it_and_changes_nothing,
    a_twitter_subject_and_a_github_subject_do_not_collide,
    fifty_racing_creates_with_one_email_make_one_user,
    fifty_racing_find_or_creates_return_one_user_created_once,
    find_or_create_returns_a_partial_match_unchanged,
    identifiers_of_two_users_are_an_ambiguous_409,
    apps_are_isolated_and_identifiers_are_unique_per_app,
    responses_never_carry_the_api_key,
    confusable_and_idn_spellings_of_an_email_are_the_same_user,
    letters_that_only_look_alike_are_different_emails_and_respellings_are_the_same,
);
