//! The wallet creator on the `events/` stream batches, against DynamoDB Local: wallets created
//! once however often records come, poison records isolated, failures bounded.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use api_tests::wallets::{CapturedLogs, FailingSealer, opened_key, test_sealer};
use aws_lambda_events::event::dynamodb::Event;
use shared::adapters::sealer::LocalSealer;
use shared::model::{AppId, ChainType, Identifier, User, UserId, WalletAddress, WalletStatus};
use shared::ports::UserStore;

fn event(name: &str) -> Event {
    serde_json::from_str(&api_tests::read_event(name)).unwrap()
}

/// Writes each record's user into the table, as the create that produced the record did.
async fn materialise(stack: &TestStack, event: &Event) {
    for record in &event.records {
        stack.put_image(&record.change.new_image).await;
    }
}

fn owner_of(record: &aws_lambda_events::event::dynamodb::EventRecord) -> (AppId, UserId) {
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(text)) => text.clone(),
        other => panic!("{name}: {other:?}"),
    };
    (
        AppId::parse(&text("app_id")).unwrap(),
        UserId::parse(&text("id")).unwrap(),
    )
}

async fn user(stack: &TestStack, app: &AppId, id: UserId) -> User {
    stack.store.get_user(app, id).await.unwrap().unwrap()
}

/// Every wallet is ready, its key opens, derives its address, and the address is guarded.
async fn assert_wallets_ready(
    stack: &TestStack,
    sealer: &LocalSealer,
    app: &AppId,
    id: UserId,
) -> User {
    let user = user(stack, app, id).await;
    for wallet in &user.wallets {
        assert_eq!(wallet.status, WalletStatus::Ready, "{wallet:?}");
        let address =
            WalletAddress::parse(wallet.chain_type, wallet.address.as_deref().unwrap()).unwrap();
        let key = opened_key(stack, sealer, app, id, wallet.chain_type).await;
        assert_eq!(
            shared::domain::wallets::address_of(wallet.chain_type, &key).unwrap(),
            address
        );
        let owner = stack
            .store
            .find_owner(app, &Identifier::Address(address.key()))
            .await
            .unwrap();
        assert_eq!(owner, Some(id));
    }
    user
}

#[tokio::test]
async fn an_insert_creates_each_wallet_and_a_redelivery_changes_nothing() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let batch = event("create-wallets-insert");
    materialise(&stack, &batch).await;
    let (app, id) = owner_of(&batch.records[0]);

    let response = create_wallets::handle(&stack.store, &sealer, batch.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    let first = assert_wallets_ready(&stack, &sealer, &app, id).await;
    assert_eq!(first.wallets.len(), 2);
    assert_eq!(first.wallets[0].chain_type, ChainType::Ethereum);

    let again = create_wallets::handle(&stack.store, &sealer, batch).await;
    assert!(again.batch_item_failures.is_empty());
    let second = user(&stack, &app, id).await;
    assert_eq!(
        second.wallets, first.wallets,
        "an address never changes once ready"
    );
    assert_eq!(stack.items_with_sk("WALLETKEY#").await.len(), 2);
}

#[tokio::test]
async fn a_duplicated_record_and_racing_consumers_make_one_wallet_per_chain() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let batch = event("create-wallets-duplicate");
    materialise(&stack, &batch).await;
    let (app, id) = owner_of(&batch.records[0]);
    let (a, b) = tokio::join!(
        create_wallets::handle(&stack.store, &sealer, batch.clone()),
        create_wallets::handle(&stack.store, &sealer, batch.clone()),
    );
    assert!(a.batch_item_failures.is_empty() && b.batch_item_failures.is_empty());
    assert_wallets_ready(&stack, &sealer, &app, id).await;
    let keys = stack.items_with_sk("WALLETKEY#").await;
    assert_eq!(keys.len(), 2, "one sealed key per chain");
    let guards = stack
        .items()
        .await
        .into_iter()
        .filter(|item| item["pk"].as_s().unwrap().contains("#ID#address#"))
        .count();
    assert_eq!(guards, 2, "one address guard per chain");
}

#[tokio::test]
async fn a_poison_record_is_the_only_failure_and_blocks_nothing() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let batch = event("create-wallets-malformed");
    for record in [&batch.records[0], &batch.records[2]] {
        stack.put_image(&record.change.new_image).await;
    }
    let response = create_wallets::handle(&stack.store, &sealer, batch.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(
        failed,
        [batch.records[1].change.sequence_number.clone().unwrap()]
    );
    for record in [&batch.records[0], &batch.records[2]] {
        let (app, id) = owner_of(record);
        assert_wallets_ready(&stack, &sealer, &app, id).await;
    }
}

#[tokio::test]
async fn a_failing_key_service_fails_the_wallet_after_bounded_attempts() {
    let stack = TestStack::new().await;
    let batch = event("create-wallets-insert");
    materialise(&stack, &batch).await;
    let (app, id) = owner_of(&batch.records[0]);
    let max = shared::domain::wallets::provision::MAX_WALLET_ATTEMPTS;
    for attempt in 1..=max {
        let response = create_wallets::handle(&stack.store, &FailingSealer, batch.clone()).await;
        let user = user(&stack, &app, id).await;
        for wallet in &user.wallets {
            assert_eq!(wallet.attempts, attempt);
            assert_eq!(wallet.last_error.as_deref(), Some("key_sealing_failed"));
            assert_eq!(wallet.address, None);
        }
        if attempt < max {
            assert_eq!(
                response.batch_item_failures.len(),
                1,
                "retry while attempts remain"
            );
            assert!(
                user.wallets
                    .iter()
                    .all(|w| w.status == WalletStatus::Pending)
            );
        } else {
            assert!(
                response.batch_item_failures.is_empty(),
                "a failed wallet is settled"
            );
            assert!(
                user.wallets
                    .iter()
                    .all(|w| w.status == WalletStatus::Failed)
            );
        }
    }
    assert!(stack.items_with_sk("WALLETKEY#").await.is_empty());
}

#[tokio::test]
async fn no_key_material_reaches_the_log() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let logs = CapturedLogs::start();
    let batch = event("create-wallets-insert");
    materialise(&stack, &batch).await;
    let (app, id) = owner_of(&batch.records[0]);
    create_wallets::handle(&stack.store, &sealer, batch).await;
    let user = assert_wallets_ready(&stack, &sealer, &app, id).await;
    let text = logs.text();
    assert!(text.contains("wallet ready"), "the capture works: {text}");
    for wallet in &user.wallets {
        let key = opened_key(&stack, &sealer, &app, id, wallet.chain_type).await;
        for spelling in api_tests::wallets::spellings(&key) {
            assert!(!text.contains(&spelling), "key material in the log");
        }
    }
}
