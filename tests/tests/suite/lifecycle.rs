//! Changing users: merge patches with ETags, linking and unlinking accounts, and the races
//! between them, against DynamoDB Local. After each test the guards match the users exactly.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{Backend, TestStack, assert_error, parts, request};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::domain::users::{RestoreError, restore_user};

async fn create<S: Backend>(stack: &TestStack<S>, body: Value) -> Value {
    let response = create_user::handle(
        &stack.store,
        request("POST", "/v1/users", &stack.api_key, Some(&body)),
    )
    .await;
    let (status, body) = parts(&response);
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

fn patch_request<S: Backend>(
    stack: &TestStack<S>,
    id: &str,
    patch: &Value,
    if_match: Option<&str>,
) -> Request {
    let mut request = request(
        "PATCH",
        &format!("/v1/users/{id}"),
        &stack.api_key,
        Some(patch),
    );
    request.headers_mut().insert(
        "content-type",
        "application/merge-patch+json".parse().unwrap(),
    );
    if let Some(etag) = if_match {
        request
            .headers_mut()
            .insert("if-match", etag.parse().unwrap());
    }
    request
}

async fn patch<S: Backend>(
    stack: &TestStack<S>,
    id: &str,
    patch: Value,
    if_match: Option<&str>,
) -> Response<Body> {
    update_user::handle(&stack.store, patch_request(stack, id, &patch, if_match)).await
}

async fn link<S: Backend>(stack: &TestStack<S>, id: &str, account: Value) -> Response<Body> {
    let request = request(
        "POST",
        &format!("/v1/users/{id}/linked-accounts"),
        &stack.api_key,
        Some(&account),
    );
    link_account::handle(&stack.store, request).await
}

async fn unlink<S: Backend>(
    stack: &TestStack<S>,
    id: &str,
    kind: &str,
    value: &str,
) -> Response<Body> {
    let path = format!("/v1/users/{id}/linked-accounts/{kind}/{value}");
    unlink_account::handle(&stack.store, request("DELETE", &path, &stack.api_key, None)).await
}

async fn a_merge_patch_changes_the_profile_and_moves_the_guards<S: Backend>(stack: TestStack<S>) {
    let user = create(
        &stack,
        json!({"email": "old@example.com", "external_id": "e-1", "username": "ada",
        "custom_metadata": {"plan": "free", "prefs": {"theme": "dark", "lang": "en"}}}),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    let response = patch(
        &stack,
        id,
        json!({
            "email": "New@Example.com",
            "external_id": null,
            "custom_metadata": {"plan": "pro", "prefs": {"lang": null}}
        }),
        None,
    )
    .await;
    let (status, body) = parts(&response);
    assert_eq!(status, 200, "{body}");
    let updated = &body["data"];
    assert_eq!(updated["email"], "New@Example.com");
    assert_eq!(updated["external_id"], Value::Null);
    assert_eq!(updated["username"], "ada");
    assert_eq!(
        updated["custom_metadata"],
        json!({"plan": "pro", "prefs": {"theme": "dark"}})
    );
    assert_eq!(updated["version"], user["version"].as_u64().unwrap() + 1);
    assert!(updated["updated_at"].as_str().unwrap() > user["updated_at"].as_str().unwrap());
    assert_eq!(
        response.headers()["etag"],
        format!("\"{}\"", updated["version"])
    );
    stack.assert_guards_match_users().await;

    // The old identifiers are free at once; the new email is held.
    create(
        &stack,
        json!({"email": "old@example.com", "external_id": "e-1"}),
    )
    .await;
    let taken = create_user::handle(
        &stack.store,
        request(
            "POST",
            "/v1/users",
            &stack.api_key,
            Some(&json!({"email": "new@example.com"})),
        ),
    )
    .await;
    assert_error(&taken, 409, "conflict");
    stack.assert_guards_match_users().await;
}

async fn a_taken_or_invalid_change_is_refused_and_changes_nothing<S: Backend>(stack: TestStack<S>) {
    create(&stack, json!({"email": "taken@example.com"})).await;
    let id = create(&stack, json!({"email": "mine@example.com"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = stack.snapshot().await;
    let body = assert_error(
        &patch(&stack, &id, json!({"email": "TAKEN@example.com"}), None).await,
        409,
        "conflict",
    );
    assert_eq!(body["error"]["details"][0]["field"], "email");
    for bad in [
        json!({"email": "nope"}),
        json!({"username": "x"}),
        json!({"wallets": []}),
        json!({"nickname": "x"}),
        json!({"custom_metadata": [1]}),
        json!("not an object"),
    ] {
        assert_error(
            &patch(&stack, &id, bad, None).await,
            400,
            "validation_failed",
        );
    }
    assert_error(
        &patch(&stack, &id, json!({"username": "abc"}), Some("3")).await,
        400,
        "validation_failed",
    );
    let (_, other_key) = stack.other_app().await;
    let mut foreign = patch_request(&stack, &id, &json!({"username": "thief"}), None);
    foreign.headers_mut().insert(
        "authorization",
        format!("Bearer {other_key}").parse().unwrap(),
    );
    let after_other_app = stack.snapshot().await;
    assert_error(
        &update_user::handle(&stack.store, foreign).await,
        404,
        "not_found",
    );
    assert_eq!(stack.snapshot().await, after_other_app);
    assert_eq!(
        after_other_app.len(),
        before.len() + 3,
        "only the other app, its key and the key's client secret were added"
    );
}

async fn if_match_makes_changes_conditional<S: Backend>(stack: TestStack<S>) {
    let user = create(&stack, json!({"username": "first"})).await;
    let id = user["id"].as_str().unwrap();
    let etag = format!("\"{}\"", user["version"]);
    let ok = patch(&stack, id, json!({"username": "second"}), Some(&etag)).await;
    assert_eq!(ok.status(), 200);
    let stale = patch(&stack, id, json!({"username": "third"}), Some(&etag)).await;
    assert_error(&stale, 412, "precondition_failed");
    let get = get_user::handle(
        &stack.store,
        request("GET", &format!("/v1/users/{id}"), &stack.api_key, None),
    )
    .await;
    assert_eq!(parts(&get).1["data"]["username"], "second");
    assert_eq!(get.headers()["etag"], ok.headers()["etag"]);
}

async fn two_users_racing_to_one_new_email_get_one_200_and_one_409<S: Backend>(
    stack: TestStack<S>,
) {
    let a = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (first, second) = tokio::join!(
        patch(&stack, &a, json!({"email": "race@example.com"}), None),
        patch(&stack, &b, json!({"email": "race@example.com"}), None),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    stack.assert_guards_match_users().await;
}

async fn accounts_link_once_unlink_and_free_their_identifier<S: Backend>(stack: TestStack<S>) {
    let id = create(&stack, json!({"wallets": []})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone = json!({"type": "phone", "number": "+14155550123"});
    let linked = link(&stack, &id, phone.clone()).await;
    assert_eq!(linked.status(), 201);
    let user = parts(&linked).1["data"].clone();
    let mut shown = phone.clone();
    shown["linked_at"] = user["updated_at"].clone();
    assert_eq!(
        user["linked_accounts"],
        json!([shown]),
        "linked when the user changed"
    );
    let again = link(&stack, &id, phone.clone()).await;
    assert_eq!(again.status(), 200, "already linked: nothing changes");
    assert_eq!(
        parts(&again).1["data"]["version"],
        parts(&linked).1["data"]["version"]
    );

    let other = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = assert_error(&link(&stack, &other, phone.clone()).await, 409, "conflict");
    assert_eq!(body["error"]["details"][0]["field"], "linked_account");
    assert_error(
        &link(&stack, &other, json!({"type": "phone"})).await,
        400,
        "validation_failed",
    );

    // The phone's + travels URL-encoded in the path.
    let unlinked = unlink(&stack, &id, "phone", "%2B14155550123").await;
    let (status, body) = parts(&unlinked);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["linked_accounts"],
        json!([]),
        "the last identifier may go"
    );
    assert_error(
        &unlink(&stack, &id, "phone", "%2B14155550123").await,
        404,
        "not_found",
    );
    assert_error(&unlink(&stack, &id, "myspace", "x").await, 404, "not_found");
    assert_eq!(
        link(&stack, &other, phone).await.status(),
        201,
        "the number is free again"
    );
    stack.assert_guards_match_users().await;
}

async fn wallets_unlink_by_address_in_any_case<S: Backend>(stack: TestStack<S>) {
    let wallet = json!({"type": "wallet", "chain_type": "ethereum", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"});
    let id = create(&stack, json!({"linked_accounts": [wallet]})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = unlink(
        &stack,
        &id,
        "wallet",
        "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
    )
    .await;
    assert_eq!(response.status(), 200);
    stack.assert_guards_match_users().await;
    assert_eq!(stack.guard_count().await, 0);
}

async fn a_link_racing_a_create_for_one_address_gives_it_to_one_user<S: Backend>(
    stack: TestStack<S>,
) {
    let id = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let address = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
    let wallet = json!({"type": "wallet", "chain_type": "ethereum", "address": address});
    let create_body = json!({"linked_accounts": [wallet.clone()]});
    let (linked, created) = tokio::join!(
        link(&stack, &id, wallet.clone()),
        create_user::handle(
            &stack.store,
            request("POST", "/v1/users", &stack.api_key, Some(&create_body))
        ),
    );
    let winners = [
        linked.status().as_u16() == 201,
        created.status().as_u16() == 201,
    ];
    assert_eq!(
        winners.iter().filter(|w| **w).count(),
        1,
        "{} {}",
        linked.status(),
        created.status()
    );
    assert_eq!(
        [linked.status().as_u16(), created.status().as_u16()]
            .iter()
            .filter(|s| **s == 409)
            .count(),
        1
    );
    stack.assert_guards_match_users().await;
}

async fn delete<S: Backend>(stack: &TestStack<S>, key: &str, id: &str) -> Response<Body> {
    let retention = std::time::Duration::from_secs(30 * 24 * 3600);
    delete_user::handle(
        &stack.store,
        retention,
        request("DELETE", &format!("/v1/users/{id}"), key, None),
    )
    .await
}

async fn get<S: Backend>(stack: &TestStack<S>, id: &str) -> Response<Body> {
    get_user::handle(
        &stack.store,
        request("GET", &format!("/v1/users/{id}"), &stack.api_key, None),
    )
    .await
}

#[tokio::test]
async fn a_delete_frees_identifiers_keeps_keys_and_can_be_restored() {
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let user = create(&stack, json!({"email": "gone@example.com", "linked_accounts": [{"type": "twitter", "subject": "9"}]})).await;
    let id = user["id"].as_str().unwrap().to_owned();
    pipeline.drain(&stack, &sealer).await;
    let ready = parts(&get(&stack, &id).await).1["data"].clone();
    assert_eq!(ready["wallets"][0]["status"], "ready");

    let deleted = delete(&stack, &stack.api_key, &id).await;
    assert_eq!(deleted.status(), 204);
    assert!(deleted.body().as_ref().is_empty());
    assert_error(&get(&stack, &id).await, 404, "not_found");
    assert_error(&delete(&stack, &stack.api_key, &id).await, 404, "not_found");
    assert_eq!(stack.guard_count().await, 0, "every identifier is free");
    stack.assert_guards_match_users().await;

    // The sealed key is kept as it was, in its own partition: the deleting function never
    // reaches it. It goes when the tombstone does (see `keys_go_with_the_tombstone`).
    let keys = stack.items_with_sk("WALLETKEY#").await;
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0]["pk"]
            .as_s()
            .unwrap()
            .starts_with(shared::adapters::dynamo::keys::WALLET_KEYS_PREFIX)
    );
    assert!(!keys[0].contains_key("ttl") && !keys[0].contains_key("deleted_at"));
    let kept = keys;

    // While another user holds its email, the restore is refused and changes nothing.
    let squatter = create(&stack, json!({"email": "gone@example.com"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = shared::model::UserId::parse(&id).unwrap();
    let before = stack.items().await;
    let refused = restore_user(&stack.store, &stack.app, user_id)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("email"), "{refused}");
    assert_eq!(stack.items().await, before);

    assert_eq!(
        delete(&stack, &stack.api_key, &squatter).await.status(),
        204
    );
    let restored = restore_user(&stack.store, &stack.app, user_id)
        .await
        .unwrap();
    assert_eq!(restored.version, ready["version"].as_u64().unwrap() + 1);
    let back = parts(&get(&stack, &id).await).1["data"].clone();
    assert_eq!(
        back["wallets"], ready["wallets"],
        "the same wallet, the same address"
    );
    assert_eq!(back["email"], "gone@example.com");
    assert_eq!(stack.items_with_sk("WALLETKEY#").await, kept);
    stack.assert_guards_match_users().await;
}

async fn restore<S: Backend>(stack: &TestStack<S>, id: &str, key: Option<&str>) -> Response<Body> {
    let retention = std::time::Duration::from_secs(30 * 24 * 3600);
    let mut request = request(
        "POST",
        &format!("/v1/users/{id}/restore"),
        &stack.api_key,
        None,
    );
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    delete_user::handle(&stack.store, retention, request).await
}

/// Over the API, a restore brings the user back as it was, with the very keys it had (the
/// function never reaches them), refuses while its email is taken, and replays under its key.
#[tokio::test]
async fn a_user_restored_over_http_keeps_its_wallet_and_its_key() {
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let body = json!({"email": "back@example.com", "username": "back", "custom_metadata": {"plan": "pro"}});
    let id = create(&stack, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pipeline.drain(&stack, &sealer).await;
    let ready = parts(&get(&stack, &id).await).1["data"].clone();
    let kept = stack.items_with_sk("WALLETKEY#").await;
    assert_eq!(delete(&stack, &stack.api_key, &id).await.status(), 204);

    let squatter = create(&stack, json!({"email": "back@example.com"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = stack.items().await;
    let refused = assert_error(&restore(&stack, &id, None).await, 409, "conflict");
    assert_eq!(refused["error"]["details"][0]["field"], "email");
    assert_eq!(
        stack.items().await,
        before,
        "a refused restore writes nothing"
    );
    assert_eq!(
        delete(&stack, &stack.api_key, &squatter).await.status(),
        204
    );

    let restored = restore(&stack, &id, Some("restore-1")).await;
    let etag = restored.headers()["etag"].to_str().unwrap().to_owned();
    let (status, restored) = parts(&restored);
    assert_eq!(status, 200, "{restored}");
    let version = ready["version"].as_u64().unwrap() + 1;
    assert_eq!(restored["data"]["version"], version);
    assert_eq!(etag, format!("\"{version}\""));
    for field in [
        "id",
        "email",
        "username",
        "custom_metadata",
        "wallets",
        "created_at",
    ] {
        assert_eq!(restored["data"][field], ready[field], "{field}");
    }
    assert_eq!(parts(&get(&stack, &id).await).1["data"], restored["data"]);
    let replayed = restore(&stack, &id, Some("restore-1")).await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(parts(&replayed), (200, restored.clone()));
    assert_error(&restore(&stack, &id, None).await, 404, "not_found");
    stack.assert_guards_match_users().await;
    // Its username is listed again: the restore wrote the index entry the delete removed.
    let named = request("GET", "/v1/users?username=BACK", &stack.api_key, None);
    let (status, named) = parts(&get_user::handle(&stack.store, named).await);
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["data"]["users"][0]["id"], id.as_str());

    // The key is the one sealed at creation, and it still opens to the wallet's address.
    assert_eq!(stack.items_with_sk("WALLETKEY#").await, kept);
    let user = shared::model::UserId::parse(&id).unwrap();
    let chain = shared::model::ChainType::Ethereum;
    let key = api_tests::wallets::opened_key(&stack, &sealer, &stack.app, user, chain).await;
    let address = shared::domain::wallets::keys::address_of(chain, &key).unwrap();
    assert_eq!(restored["data"]["wallets"][0]["address"], address.as_str());
}

/// A user a stack from before deleted had its keys marked to expire: the API, which may not
/// reach them, refuses to restore it (pointing at the CLI) and changes nothing; the CLI can.
#[tokio::test]
async fn a_user_deleted_before_keys_stayed_is_restored_by_the_cli_only() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use shared::ports::{KeysAtRestore, RestoreConflict, UserStore};
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let id = create(&stack, json!({"email": "old@example.com"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pipeline.drain(&stack, &sealer).await;
    assert_eq!(delete(&stack, &stack.api_key, &id).await.status(), 204);
    let user = shared::model::UserId::parse(&id).unwrap();
    // What the tombstone of a delete from before looks like: no `keys_left`.
    let old = stack
        .store
        .client()
        .update_item()
        .table_name(stack.table())
        .key(
            "pk",
            AttributeValue::S(shared::adapters::dynamo::keys::user_pk(&stack.app, user)),
        )
        .key("sk", AttributeValue::S("DELETED".into()))
        .update_expression("REMOVE keys_left")
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.attributes.unwrap()["keys_left"],
        AttributeValue::Bool(true),
        "a delete marks its tombstone"
    );
    let before = stack.items().await;
    let refused = assert_error(&restore(&stack, &id, None).await, 409, "conflict");
    assert_eq!(refused["error"]["details"][0]["field"], "id");
    let message = refused["error"]["details"][0]["message"].as_str().unwrap();
    assert!(message.contains("restore-user"), "{message}");
    assert_eq!(stack.items().await, before);
    // The store's own condition refuses it too, should a caller skip the check above.
    let deleted = stack
        .store
        .get_deleted_user(&stack.app, user)
        .await
        .unwrap()
        .unwrap();
    assert!(!deleted.keys_left);
    let identifiers: Vec<_> = deleted.user.identifiers();
    let now = shared::clock::now_ms() / 1000;
    let written = stack
        .store
        .restore_user(
            &stack.app,
            &deleted.user,
            &identifiers,
            KeysAtRestore::LeftByTheDelete,
            now,
        )
        .await;
    assert_eq!(written, Err(RestoreConflict::RetentionEnded));
    assert_eq!(stack.items().await, before);
    let restored = restore_user(&stack.store, &stack.app, user).await.unwrap();
    assert_eq!(
        restored.wallets[0].status,
        shared::model::WalletStatus::Ready
    );
    assert_eq!(get(&stack, &id).await.status(), 200);
}

/// A restore never brings back a user past its retention (even while DynamoDB's TTL has not
/// deleted the tombstone yet), nor a ready wallet whose sealed key is gone; either refusal
/// changes nothing.
#[tokio::test]
async fn a_restore_needs_the_retention_and_every_sealed_key() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let stack = TestStack::new().await;
    let sealer = api_tests::wallets::test_sealer();
    let mut pipeline = api_tests::wallets::Pipeline::new(&stack).await;
    let mut ids = Vec::new();
    for email in ["expired@example.com", "keyless@example.com"] {
        let user = create(&stack, json!({"email": email})).await;
        ids.push(shared::model::UserId::parse(user["id"].as_str().unwrap()).unwrap());
    }
    pipeline.drain(&stack, &sealer).await;
    for id in &ids {
        assert_eq!(
            delete(&stack, &stack.api_key, &id.to_string())
                .await
                .status(),
            204
        );
    }
    let user_pk = |id: &shared::model::UserId| {
        AttributeValue::S(shared::adapters::dynamo::keys::user_pk(&stack.app, *id))
    };

    // The first one's retention ended a minute ago; DynamoDB has not purged it yet.
    let past = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60)
        .to_string();
    stack
        .store
        .client()
        .update_item()
        .table_name(stack.table())
        .key("pk", user_pk(&ids[0]))
        .key("sk", AttributeValue::S("DELETED".into()))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":past", AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    // The second one's sealed key is gone.
    stack
        .store
        .client()
        .delete_item()
        .table_name(stack.table())
        .key(
            "pk",
            AttributeValue::S(shared::adapters::dynamo::keys::wallet_keys_pk(
                &stack.app, ids[1],
            )),
        )
        .key("sk", AttributeValue::S("WALLETKEY#ethereum".into()))
        .send()
        .await
        .unwrap();

    let before = stack.items().await;
    let expired = restore_user(&stack.store, &stack.app, ids[0]).await;
    assert!(
        matches!(expired, Err(RestoreError::RetentionEnded { .. })),
        "{expired:?}"
    );
    let keyless = restore_user(&stack.store, &stack.app, ids[1]).await;
    match keyless {
        Err(RestoreError::KeysGone(chains)) => {
            assert_eq!(chains, ["ethereum"])
        }
        other => panic!("restored without its key: {other:?}"),
    }
    assert_eq!(
        stack.items().await,
        before,
        "a refused restore writes nothing"
    );
    assert_eq!(stack.user_count().await, 0);
}

async fn deletes_are_tenant_isolated_and_idempotent<S: Backend>(stack: TestStack<S>) {
    let id = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = stack.other_app().await;
    assert_error(&delete(&stack, &other_key, &id).await, 404, "not_found");
    assert_eq!(stack.user_count().await, 1);
    let keyed = || {
        let mut request = request("DELETE", &format!("/v1/users/{id}"), &stack.api_key, None);
        request
            .headers_mut()
            .insert("idempotency-key", "delete-1".parse().unwrap());
        request
    };
    let retention = std::time::Duration::from_secs(86400);
    let first = delete_user::handle(&stack.store, retention, keyed()).await;
    let second = delete_user::handle(&stack.store, retention, keyed()).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (204, 204)
    );
    assert_eq!(second.headers()["idempotent-replayed"], "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_racing_an_update_leaves_no_half_state() {
    for _ in 0..5 {
        let stack = TestStack::new().await;
        let id = create(&stack, json!({"email": "a@example.com"})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (deleted, updated) = tokio::join!(
            delete(&stack, &stack.api_key, &id),
            patch(&stack, &id, json!({"email": "b@example.com"}), None),
        );
        assert_eq!(deleted.status(), 204);
        assert!(
            [200, 404].contains(&updated.status().as_u16()),
            "{}",
            updated.status()
        );
        assert!(stack.user_count().await == 0);
        assert_eq!(
            stack.guard_count().await,
            0,
            "neither email is left guarded"
        );
    }
}

async fn links_and_unlinks_of_another_apps_user_are_404_and_change_nothing<S: Backend>(
    stack: TestStack<S>,
) {
    let phone = json!({"type": "phone", "number": "+14155550999"});
    let id = create(&stack, json!({"linked_accounts": [phone.clone()]})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = stack.other_app().await;
    let before = stack.snapshot().await;
    let twitter = json!({"type": "twitter", "subject": "1"});
    let linked = link_account::handle(
        &stack.store,
        request(
            "POST",
            &format!("/v1/users/{id}/linked-accounts"),
            &other_key,
            Some(&twitter),
        ),
    )
    .await;
    assert_error(&linked, 404, "not_found");
    let path = format!("/v1/users/{id}/linked-accounts/phone/%2B14155550999");
    let unlinked =
        unlink_account::handle(&stack.store, request("DELETE", &path, &other_key, None)).await;
    assert_error(&unlinked, 404, "not_found");
    assert_eq!(stack.snapshot().await, before);
}

/// Privy's shapes: an email as a linked account is the user's email, passkeys and the newer
/// providers are unique by their keys, and every account says when it was linked.
async fn privy_emails_passkeys_and_newer_providers_are_linked_accounts<S: Backend>(
    stack: TestStack<S>,
) {
    let passkey = json!({"type": "passkey", "credential_id": "Il5vP-3Tm3hNmDVBmDlREgXzIOJnZEaiVnT", "authenticator_name": "1Password"});
    let user = create(
        &stack,
        json!({"linked_accounts": [
            {"type": "email", "address": "Privy.User@Example.com"},
            passkey.clone(),
            {"type": "linkedin", "subject": "li-7"}
        ]}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        user["email"], "Privy.User@Example.com",
        "the email account is the email"
    );
    let accounts = user["linked_accounts"].as_array().unwrap();
    let types: Vec<&str> = accounts
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["passkey", "linkedin"]);
    for account in accounts {
        assert_eq!(account["linked_at"], user["created_at"], "{account}");
    }
    let found = get_user::handle(
        &stack.store,
        request(
            "GET",
            "/v1/users?email=privy.user@example.com",
            &stack.api_key,
            None,
        ),
    )
    .await;
    assert_eq!(parts(&found).1["data"]["id"], id.as_str());

    // Each is unique: another user with the passkey is a conflict naming its position.
    let again = create_user::handle(
        &stack.store,
        request(
            "POST",
            "/v1/users",
            &stack.api_key,
            Some(&json!({"linked_accounts": [{"type": "line", "subject": "U1"}, passkey]})),
        ),
    )
    .await;
    let body = assert_error(&again, 409, "conflict");
    assert_eq!(body["error"]["details"][0]["field"], "linked_accounts[1]");
    let differing = create_user::handle(
        &stack.store,
        request(
            "POST",
            "/v1/users",
            &stack.api_key,
            Some(&json!({"email": "a@example.com", "linked_accounts": [{"type": "email", "address": "b@example.com"}]})),
        ),
    )
    .await;
    let body = assert_error(&differing, 400, "validation_failed");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "linked_accounts[0].address"]);

    // Linking an email sets a user's missing email; its own is a no-op, another a 400.
    let other = create(&stack, json!({"wallets": []})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let taken = link(
        &stack,
        &other,
        json!({"type": "email", "address": "PRIVY.user@example.com"}),
    )
    .await;
    assert_eq!(
        assert_error(&taken, 409, "conflict")["error"]["details"][0]["field"],
        "linked_account"
    );
    let linked = link(
        &stack,
        &other,
        json!({"type": "email", "address": "second@example.com"}),
    )
    .await;
    assert_eq!(linked.status(), 201);
    assert_eq!(parts(&linked).1["data"]["email"], "second@example.com");
    let same = link(
        &stack,
        &other,
        json!({"type": "email", "address": "SECOND@example.com"}),
    )
    .await;
    assert_eq!(same.status(), 200);
    let another = link(
        &stack,
        &other,
        json!({"type": "email", "address": "third@example.com"}),
    )
    .await;
    assert_error(&another, 400, "validation_failed");

    // Unlinking the email frees it; unlinking a passkey by its credential id frees that.
    assert_error(
        &unlink(&stack, &id, "email", "nobody@example.com").await,
        404,
        "not_found",
    );
    let unlinked = unlink(&stack, &id, "email", "privy.user%40example.com").await;
    let (status, body) = parts(&unlinked);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["email"], Value::Null);
    let unlinked = unlink(
        &stack,
        &id,
        "passkey",
        "Il5vP-3Tm3hNmDVBmDlREgXzIOJnZEaiVnT",
    )
    .await;
    assert_eq!(
        parts(&unlinked).1["data"]["linked_accounts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let reused = link(
        &stack,
        &other,
        json!({"type": "passkey", "credential_id": "Il5vP-3Tm3hNmDVBmDlREgXzIOJnZEaiVnT"}),
    )
    .await;
    assert_eq!(reused.status(), 201, "the credential is free again");
    stack.assert_guards_match_users().await;
}

/// A deleted user comes back as it was, a version on, unless another user took one of its
/// identifiers meanwhile (named, nothing changed) or it is not deleted.
async fn a_deleted_user_is_restored_unless_its_identifiers_were_taken<S: Backend>(
    stack: TestStack<S>,
) {
    let user = create(
        &stack,
        json!({"email": "back@example.com", "external_id": "back-1", "wallets": []}),
    )
    .await;
    let id = shared::model::UserId::parse(user["id"].as_str().unwrap()).unwrap();
    assert!(matches!(
        restore_user(&stack.store, &stack.app, id).await,
        Err(RestoreError::NotDeleted)
    ));
    assert_eq!(
        delete(&stack, &stack.api_key, &id.to_string())
            .await
            .status(),
        204
    );
    let squatter = create(&stack, json!({"external_id": "back-1"})).await;
    let before = stack.snapshot().await;
    match restore_user(&stack.store, &stack.app, id).await {
        Err(RestoreError::Taken(fields)) => assert_eq!(fields, ["external_id"]),
        other => panic!("restored over a taken identifier: {other:?}"),
    }
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused restore writes nothing"
    );
    let squatter = squatter["id"].as_str().unwrap();
    assert_eq!(delete(&stack, &stack.api_key, squatter).await.status(), 204);
    let restored = restore_user(&stack.store, &stack.app, id).await.unwrap();
    assert_eq!(restored.version, user["version"].as_u64().unwrap() + 1);
    assert!(restored.updated_at.as_str() > user["updated_at"].as_str().unwrap());
    let back = parts(&get(&stack, &id.to_string()).await).1["data"].clone();
    assert_eq!(back["email"], "back@example.com");
    assert!(matches!(
        restore_user(&stack.store, &stack.app, id).await,
        Err(RestoreError::NotDeleted)
    ));
    stack.assert_guards_match_users().await;
}

/// Usernames are looked up through an index that follows every write of the user: create, link,
/// unlink, delete and restore; a username two users carry is ambiguous, not a guess.
async fn usernames_are_found_through_every_change_of_their_user<S: Backend>(stack: TestStack<S>) {
    use shared::domain::users::{UsersError, find_by_handle};
    use shared::model::Handle;
    let find = |kind: &'static str, name: &str| {
        let (store, app, handle) = (
            stack.store.clone(),
            stack.app.clone(),
            Handle::new(kind, name),
        );
        async move {
            find_by_handle(&store, &app, &handle)
                .await
                .map(|user| user.id.to_string())
        }
    };
    let user = create(
        &stack,
        json!({"wallets": [], "linked_accounts": [
            {"type": "twitter", "subject": "tw-1", "username": "Ada_L"},
            {"type": "github", "subject": "gh-1", "username": "ada"}]}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(find("twitter", "@ada_l").await.unwrap(), id);
    assert_eq!(find("github", "ADA").await.unwrap(), id);
    assert!(matches!(
        find("discord", "ada").await,
        Err(UsersError::NotFound)
    ));

    let response = unlink(&stack, &id, "twitter", "tw-1").await;
    assert_eq!(response.status(), 200);
    assert!(matches!(
        find("twitter", "ada_l").await,
        Err(UsersError::NotFound)
    ));
    let response = link(
        &stack,
        &id,
        json!({"type": "discord", "subject": "dc-1", "username": "Ada#1"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(find("discord", "ada#1").await.unwrap(), id);

    // Another user carrying the same github username (the first renamed since, say).
    let other = create(
        &stack,
        json!({"wallets": [], "linked_accounts": [{"type": "github", "subject": "gh-2", "username": "Ada"}]}),
    )
    .await;
    match find("github", "ada").await {
        Err(UsersError::Ambiguous(matches)) => assert_eq!(matches.len(), 2),
        other => panic!("expected an ambiguous lookup, got {other:?}"),
    }
    let other = other["id"].as_str().unwrap().to_owned();
    assert_eq!(delete(&stack, &stack.api_key, &other).await.status(), 204);
    assert_eq!(find("github", "ada").await.unwrap(), id);

    assert_eq!(delete(&stack, &stack.api_key, &id).await.status(), 204);
    assert!(matches!(
        find("discord", "ada#1").await,
        Err(UsersError::NotFound)
    ));
    let parsed = shared::model::UserId::parse(&id).unwrap();
    restore_user(&stack.store, &stack.app, parsed)
        .await
        .unwrap();
    assert_eq!(find("discord", "ada#1").await.unwrap(), id);
    assert_eq!(find("github", "ada").await.unwrap(), id);
}

api_tests::on_every_store!(
    usernames_are_found_through_every_change_of_their_user,
    a_merge_patch_changes_the_profile_and_moves_the_guards,
    a_taken_or_invalid_change_is_refused_and_changes_nothing,
    if_match_makes_changes_conditional,
    two_users_racing_to_one_new_email_get_one_200_and_one_409,
    accounts_link_once_unlink_and_free_their_identifier,
    wallets_unlink_by_address_in_any_case,
    a_link_racing_a_create_for_one_address_gives_it_to_one_user,
    deletes_are_tenant_isolated_and_idempotent,
    links_and_unlinks_of_another_apps_user_are_404_and_change_nothing,
    privy_emails_passkeys_and_newer_providers_are_linked_accounts,
    a_deleted_user_is_restored_unless_its_identifiers_were_taken,
);
