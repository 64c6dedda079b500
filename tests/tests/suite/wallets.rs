//! Wallets end to end against DynamoDB Local: users created through the HTTP handlers, the
//! table's real stream read through the Streams API and delivered to the wallet creator as
//! Lambda's event source mapping would, then read back through the API.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::wallets::{
    CapturedLogs, FailingSealer, Pipeline, opened_key, spellings, test_sealer,
};
use api_tests::{TestStack, assert_error, parts, request};
use aws_lambda_events::event::dynamodb::Event;
use serde_json::{Value, json};
use shared::domain::events::EventType;
use shared::model::{ChainType, UserId, WalletAddress};
use shared::ports::WalletStore;

async fn create(stack: &TestStack, body: Value) -> Value {
    let request = request("POST", "/v1/users", &stack.api_key, Some(&body));
    let (status, body) = parts(&create_user::handle(&stack.store, request).await);
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

async fn get(stack: &TestStack, id: &str) -> Value {
    let (status, body) = parts(
        &get_user::handle(
            &stack.store,
            request("GET", &format!("/v1/users/{id}"), &stack.api_key, None),
        )
        .await,
    );
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

async fn add_wallet(stack: &TestStack, key: &str, id: &str, body: Value) -> (u16, Value) {
    let request = request("POST", &format!("/v1/users/{id}/wallets"), key, Some(&body));
    parts(&add_wallet::handle(&stack.store, request).await)
}

#[tokio::test]
async fn created_users_get_ready_wallets_with_no_key_material_anywhere() {
    let stack = TestStack::new().await;
    let logs = CapturedLogs::start();
    let sealer = test_sealer();
    let mut pipeline = Pipeline::new(&stack).await;
    let user = create(&stack, json!({"email": "w@example.com", "wallets": [{"chain_type": "ethereum"}, {"chain_type": "solana"}]})).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let batches = pipeline.drain(&stack, &sealer).await;

    let read = get(&stack, &id).await;
    let mut bodies = vec![user, read.clone()];
    for wallet in read["wallets"].as_array().unwrap() {
        assert_eq!(wallet["status"], "ready", "{wallet}");
        assert!(wallet["created_at"].is_string());
        let chain = ChainType::parse(wallet["chain_type"].as_str().unwrap()).unwrap();
        let address = wallet["address"].as_str().unwrap();
        assert_eq!(
            WalletAddress::parse(chain, address).unwrap().as_str(),
            address
        );
        // Found by its embedded address, in any hex case.
        let query = if chain == ChainType::Ethereum {
            format!("0x{}", address[2..].to_uppercase())
        } else {
            address.to_owned()
        };
        let lookup = request(
            "GET",
            &format!("/v1/users?address={query}"),
            &stack.api_key,
            None,
        );
        let (status, found) = parts(&get_user::handle(&stack.store, lookup).await);
        assert_eq!(
            (status, found["data"]["id"].as_str()),
            (200, Some(id.as_str()))
        );
        bodies.push(found);
    }
    let events = pipeline.publisher.of_type(EventType::WalletCreated);
    assert_eq!(
        events.len(),
        2,
        "one user.wallet_created per wallet: {events:?}"
    );

    // The private keys, opened from their sealed form, appear in no response, no stream
    // record and no log line.
    let app = &stack.app;
    let user_id = UserId::parse(&id).unwrap();
    let haystack = format!(
        "{bodies:?}{}{}",
        serde_json::to_string(&batches_json(&batches)).unwrap(),
        logs.text()
    );
    for chain in ChainType::ALL {
        let sealed = stack
            .store
            .get_sealed_key(app, user_id, chain)
            .await
            .unwrap()
            .unwrap();
        let key = opened_key(&stack, &sealer, app, user_id, chain).await;
        for spelling in spellings(&key) {
            assert!(
                !haystack.contains(&spelling),
                "key material leaked ({chain})"
            );
        }
        // The scan can find what it looks for: the sealed ciphertext is in the stream.
        assert!(haystack.contains(&sealed.ciphertext));
    }
}

fn batches_json(batches: &[Event]) -> Value {
    serde_json::to_value(batches).unwrap()
}

#[tokio::test]
async fn a_failed_wallet_is_visible_and_recovers_when_requeued() {
    let stack = TestStack::new().await;
    let mut pipeline = Pipeline::new(&stack).await;
    let id = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    pipeline.drain(&stack, &FailingSealer).await;
    let failed = get(&stack, &id).await["wallets"][0].clone();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["attempts"],
        shared::domain::wallets::provision::MAX_WALLET_ATTEMPTS
    );
    assert_eq!(failed["last_error"], "key_sealing_failed");
    assert_eq!(failed["address"], Value::Null);

    let (status, queued) = add_wallet(
        &stack,
        &stack.api_key,
        &id,
        json!({"chain_type": "ethereum"}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["data"]["status"], "pending");
    assert_eq!(queued["data"]["attempts"], 0);

    let sealer = test_sealer();
    pipeline.drain(&stack, &sealer).await;
    let ready = get(&stack, &id).await["wallets"][0].clone();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert!(ready["address"].is_string());
    assert_eq!(ready["last_error"], Value::Null);
    // One user.wallet_failed for the failure, one user.wallet_created for the recovery.
    assert_eq!(pipeline.publisher.of_type(EventType::WalletFailed).len(), 1);
    assert_eq!(
        pipeline.publisher.of_type(EventType::WalletCreated).len(),
        1
    );
}

#[tokio::test]
async fn adding_a_wallet_for_a_new_chain_then_asking_again_changes_nothing() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let mut pipeline = Pipeline::new(&stack).await;
    let id = create(&stack, json!({"wallets": []})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, queued) =
        add_wallet(&stack, &stack.api_key, &id, json!({"chain_type": "solana"})).await;
    assert_eq!(
        (status, queued["data"]["status"].as_str()),
        (202, Some("pending"))
    );
    // Asking while it is pending queues nothing more.
    let (status, _) =
        add_wallet(&stack, &stack.api_key, &id, json!({"chain_type": "solana"})).await;
    assert_eq!(status, 200);
    pipeline.drain(&stack, &sealer).await;

    let before = get(&stack, &id).await;
    assert_eq!(before["wallets"].as_array().unwrap().len(), 1);
    assert_eq!(before["wallets"][0]["status"], "ready");
    let (status, same) =
        add_wallet(&stack, &stack.api_key, &id, json!({"chain_type": "solana"})).await;
    assert_eq!(status, 200);
    assert_eq!(same["data"], before["wallets"][0]);
    assert_eq!(
        get(&stack, &id).await,
        before,
        "a ready wallet's request changes nothing"
    );
}

#[tokio::test]
async fn add_wallet_refuses_other_apps_unknown_users_and_bad_bodies() {
    let stack = TestStack::new().await;
    let id = create(&stack, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = stack.other_app().await;
    let before = stack.items().await;
    let (status, body) = add_wallet(&stack, &other_key, &id, json!({"chain_type": "solana"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let unknown = UserId::generate().to_string();
    let (status, _) = add_wallet(
        &stack,
        &stack.api_key,
        &unknown,
        json!({"chain_type": "solana"}),
    )
    .await;
    assert_eq!(status, 404);
    for body in [
        json!({"chain_type": "bitcoin"}),
        json!({"chain_type": "solana", "x": 1}),
        json!({}),
        json!([]),
    ] {
        let request = request(
            "POST",
            &format!("/v1/users/{id}/wallets"),
            &stack.api_key,
            Some(&body),
        );
        assert_error(
            &add_wallet::handle(&stack.store, request).await,
            400,
            "validation_failed",
        );
    }
    assert_eq!(stack.items().await, before);
}
