//! Custody of what opens wallets and signs requests: sealed wallet keys and sealed client
//! secrets live in partitions of their own, out of reach of every function that does not need
//! them (the template's denials: `template::sealed_keys_and_client_secrets_are_out_of_every_other_functions_reach`).
//! Here, against DynamoDB Local: a deleted user's keys go only with its tombstone and never
//! while the user can come back; keys and secrets stored by stacks from before still work, and
//! `migrate-secrets` (and a restore) move them.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use api_tests::wallets::{Pipeline, opened_key, stack_sealer, test_sealer};
use api_tests::{TestStack, parts, request};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use shared::adapters::dynamo::keys;
use shared::domain::users::restore_user;
use shared::model::{ChainType, UserId};
use shared::ports::{AppStore, UserStore, WalletStore};

async fn create(stack: &TestStack, email: &str) -> UserId {
    let body = json!({ "email": email });
    let response = create_user::handle(
        &stack.store,
        request("POST", "/v1/users", &stack.api_key, Some(&body)),
    )
    .await;
    let (status, body) = parts(&response);
    assert_eq!(status, 201, "{body}");
    UserId::parse(body["data"]["id"].as_str().unwrap()).unwrap()
}

/// Users of `stack` with these emails, their wallets made by the wallet creator (sealing with
/// `sealer`); and the stream's pipeline, to deliver what follows.
async fn with_wallets(
    stack: &TestStack,
    sealer: &shared::adapters::sealer::LocalSealer,
    emails: &[&str],
) -> (Pipeline, Vec<UserId>) {
    let mut pipeline = Pipeline::new(stack).await;
    let mut users = Vec::new();
    for email in emails {
        users.push(create(stack, email).await);
    }
    pipeline.drain(stack, sealer).await;
    (pipeline, users)
}

async fn delete(stack: &TestStack, id: UserId) {
    let response = delete_user::handle(
        &stack.store,
        Duration::from_secs(30 * 86_400),
        request("DELETE", &format!("/v1/users/{id}"), &stack.api_key, None),
    )
    .await;
    assert_eq!(response.status(), 204);
}

async fn raw_item(
    stack: &TestStack,
    pk: String,
    sk: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    stack
        .store
        .client()
        .get_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn delete_raw(stack: &TestStack, pk: String, sk: &str) {
    stack
        .store
        .client()
        .delete_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .unwrap();
}

async fn put_raw(stack: &TestStack, item: std::collections::HashMap<String, AttributeValue>) {
    stack
        .store
        .client()
        .put_item()
        .table_name(stack.table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// Moves a user's key back to where stacks from before kept it, beside the user, with the
/// marks a deletion by those stacks left (`marked`: its expiry).
async fn to_old_layout(stack: &TestStack, user: UserId, chain: ChainType, marked: Option<u64>) {
    let sk = keys::wallet_key_sk(chain);
    let mut item = raw_item(stack, keys::wallet_keys_pk(&stack.app, user), &sk)
        .await
        .unwrap();
    delete_raw(stack, keys::wallet_keys_pk(&stack.app, user), &sk).await;
    item.insert(
        "pk".into(),
        AttributeValue::S(keys::user_pk(&stack.app, user)),
    );
    if let Some(expires) = marked {
        item.insert("ttl".into(), AttributeValue::N(expires.to_string()));
        item.insert(
            "deleted_at".into(),
            AttributeValue::S("2026-01-01T00:00:00Z".into()),
        );
    }
    put_raw(stack, item).await;
}

fn now_secs() -> u64 {
    shared::clock::now_ms() / 1000
}

/// A deletion leaves the keys alone (the deleting function cannot reach them). They go when
/// the tombstone goes and the user is not back: not for a restored user, nor for one deleted
/// again (restorable), whose earlier tombstone's removal the wallet creator also sees.
#[tokio::test]
async fn keys_go_with_the_tombstone_and_never_while_the_user_can_come_back() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let (mut pipeline, users) = with_wallets(
        &stack,
        &sealer,
        &["gone@example.com", "back@example.com", "again@example.com"],
    )
    .await;
    let [gone, back, again] = users[..] else {
        unreachable!()
    };
    let eth = ChainType::Ethereum;
    let before = opened_key(&stack, &sealer, &stack.app, again, eth).await;

    for user in [gone, back, again] {
        delete(&stack, user).await;
    }
    restore_user(&stack.store, &stack.app, back).await.unwrap();
    restore_user(&stack.store, &stack.app, again).await.unwrap();
    delete(&stack, again).await;
    // A key of `gone` a stack from before left beside the user goes too.
    let mut legacy = raw_item(
        &stack,
        keys::wallet_keys_pk(&stack.app, gone),
        &keys::wallet_key_sk(eth),
    )
    .await
    .unwrap();
    legacy.insert(
        "pk".into(),
        AttributeValue::S(keys::user_pk(&stack.app, gone)),
    );
    legacy.insert(
        "sk".into(),
        AttributeValue::S(keys::wallet_key_sk(ChainType::Solana)),
    );
    put_raw(&stack, legacy).await;
    // Deletions and restores so far removed tombstones (the restores'), and none of it
    // purged a key.
    pipeline.drain(&stack, &sealer).await;
    for user in [gone, back, again] {
        assert!(
            stack
                .store
                .get_sealed_key(&stack.app, user, eth)
                .await
                .unwrap()
                .is_some()
        );
    }

    // `gone`'s retention ends: DynamoDB's TTL deletes its tombstone (DynamoDB Local runs no
    // TTL, so the test does what it would).
    delete_raw(&stack, keys::user_pk(&stack.app, gone), keys::SK_DELETED).await;
    pipeline.drain(&stack, &sealer).await;
    for chain in ChainType::ALL {
        assert_eq!(
            stack
                .store
                .get_sealed_key(&stack.app, gone, chain)
                .await
                .unwrap(),
            None,
            "{chain} key of a user gone for good"
        );
    }
    assert!(
        stack
            .store
            .get_sealed_key(&stack.app, back, eth)
            .await
            .unwrap()
            .is_some()
    );
    // `again` is still restorable, and its key opens as before.
    restore_user(&stack.store, &stack.app, again).await.unwrap();
    assert_eq!(
        opened_key(&stack, &sealer, &stack.app, again, eth).await,
        before
    );
}

/// A user deleted by a stack from before has its key beside it, marked to expire with its
/// tombstone: a restore moves the key to its own partition and drops the mark (or the restored
/// user's key would expire), and the key still opens.
#[tokio::test]
async fn a_restore_moves_a_key_from_the_old_layout_and_drops_its_expiry() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let (_, users) = with_wallets(&stack, &sealer, &["old@example.com"]).await;
    let user = users[0];
    let eth = ChainType::Ethereum;
    let key = opened_key(&stack, &sealer, &stack.app, user, eth).await;
    delete(&stack, user).await;
    let purge_at = stack
        .store
        .get_deleted_user(&stack.app, user)
        .await
        .unwrap()
        .unwrap()
        .purge_at;
    to_old_layout(&stack, user, eth, Some(purge_at)).await;

    restore_user(&stack.store, &stack.app, user).await.unwrap();
    let sk = keys::wallet_key_sk(eth);
    assert_eq!(
        raw_item(&stack, keys::user_pk(&stack.app, user), &sk).await,
        None
    );
    let moved = raw_item(&stack, keys::wallet_keys_pk(&stack.app, user), &sk)
        .await
        .unwrap();
    assert!(
        !moved.contains_key("ttl") && !moved.contains_key("deleted_at"),
        "{moved:?}"
    );
    assert_eq!(
        opened_key(&stack, &sealer, &stack.app, user, eth).await,
        key
    );
}

/// `migrate-secrets` moves every wallet key and client secret a stack from before kept in
/// reach of every function, once: a key past its retention is deleted instead, a second run
/// moves nothing, and what moved still opens and authenticates. Before it runs, the readers
/// find both where they were.
#[tokio::test]
async fn migrating_moves_every_old_key_and_secret_once() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let (_, users) = with_wallets(
        &stack,
        &sealer,
        &["kept@example.com", "expired@example.com"],
    )
    .await;
    let (kept, expired) = (users[0], users[1]);
    let eth = ChainType::Ethereum;
    let key = opened_key(&stack, &sealer, &stack.app, kept, eth).await;
    delete(&stack, expired).await;
    to_old_layout(&stack, kept, eth, None).await;
    // A user whose retention ended a minute ago: tombstone and key (both marked with the same
    // expiry by stacks from before) wait for DynamoDB's TTL.
    let past = now_secs() - 60;
    to_old_layout(&stack, expired, eth, Some(past)).await;
    stack
        .store
        .client()
        .update_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(keys::user_pk(&stack.app, expired)))
        .key("sk", AttributeValue::S(keys::SK_DELETED.into()))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "ttl")
        .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
        .send()
        .await
        .unwrap();

    // A key issued by a stack from before holds its client secret in its record.
    let issued = shared::domain::apps::issue_api_key(
        &stack.store,
        &stack_sealer(),
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let key_id = issued.record.key_id.clone();
    let secret_item = raw_item(
        &stack,
        keys::client_secret_pk(&key_id),
        keys::SK_CLIENT_SECRET,
    )
    .await
    .unwrap();
    let sealed: shared::model::SealedKey = serde_dynamo::from_item(secret_item.clone()).unwrap();
    delete_raw(
        &stack,
        keys::client_secret_pk(&key_id),
        keys::SK_CLIENT_SECRET,
    )
    .await;
    stack
        .store
        .client()
        .update_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(keys::api_key_pk(&key_id)))
        .key("sk", AttributeValue::S(keys::SK_API_KEY.into()))
        .update_expression("SET client_secret = :sealed")
        .expression_attribute_values(
            ":sealed",
            serde_dynamo::to_attribute_value(&sealed).unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Until the migration, both are found where they were: the key opens, and Original's
    // client signs with the secret.
    assert_eq!(
        opened_key(&stack, &sealer, &stack.app, kept, eth).await,
        key
    );
    let (address, _) = stack.serve().await;
    let token = shared::dialects::credentials::original_token(
        &key_id,
        issued.client_secret.as_ref().unwrap(),
    );
    let answer = shared::tls::reqwest_builder()
        .build()
        .unwrap()
        .get(format!(
            "{address}/original/v1/user?email=nobody@example.com"
        ))
        .header("X-API-KEY", &key_id)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let migrated = stack.store.migrate_secrets(now_secs()).await.unwrap();
    assert_eq!(
        (migrated.wallet_keys, migrated.client_secrets),
        (1, 1),
        "{migrated:?}"
    );
    // Nothing is left where every function could read it.
    for item in stack.items_with_sk("WALLETKEY#").await {
        assert!(
            item["pk"]
                .as_s()
                .unwrap()
                .starts_with(keys::WALLET_KEYS_PREFIX),
            "{item:?}"
        );
    }
    assert!(
        stack
            .items()
            .await
            .iter()
            .all(|item| !item.contains_key("client_secret"))
    );
    assert_eq!(
        opened_key(&stack, &sealer, &stack.app, kept, eth).await,
        key
    );
    assert_eq!(
        stack
            .store
            .get_sealed_key(&stack.app, expired, eth)
            .await
            .unwrap(),
        None
    );
    let record = stack.store.get_api_key(&key_id).await.unwrap().unwrap();
    assert_eq!(
        stack.store.client_secret_of(&record).await.unwrap(),
        Some(sealed)
    );

    let again = stack.store.migrate_secrets(now_secs()).await.unwrap();
    assert_eq!((again.wallet_keys, again.client_secrets), (0, 0));
    assert!(
        stack
            .store
            .get_user(&stack.app, kept)
            .await
            .unwrap()
            .is_some()
    );
}

/// The body of every request a DynamoDB client sent: each names the partitions it touches.
#[derive(Debug, Clone, Default)]
struct Sent(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl aws_sdk_dynamodb::config::Intercept for Sent {
    fn name(&self) -> &'static str {
        "Sent"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(body) = context.request().body().bytes() {
            self.0
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(body).into_owned());
        }
        Ok(())
    }
}

impl Sent {
    /// The guarded partitions the requests since the last call named (by prefix).
    fn touched(&self) -> std::collections::BTreeSet<&'static str> {
        let bodies = std::mem::take(&mut *self.0.lock().unwrap());
        // A string value starting so is a wallet key's partition (or, in the old layout, its
        // sort key: the same prefix) or a client secret's.
        [
            (keys::WALLET_KEYS_PREFIX, "wallet keys"),
            (keys::CLIENT_SECRET_PREFIX, "client secrets"),
        ]
        .into_iter()
        .filter(|(prefix, _)| {
            bodies
                .iter()
                .any(|body| body.contains(&format!("\"{prefix}")))
        })
        .map(|(_, what)| what)
        .collect()
    }
}

/// The function API Gateway gives a request to, as the template routes it.
fn function_of(method: &str, path: &str) -> &'static str {
    if let Some(function) = shared::dialects::function_of(path) {
        return function;
    }
    let method = method.parse().unwrap();
    let path = path.split('?').next().unwrap();
    let route = shared::edge::routes::resolve(&method, path).unwrap().route;
    shared::edge::routes::routes()
        .into_iter()
        .find(|spec| spec.route == route)
        .unwrap()
        .function
}

/// What the template denies, the code never asks for: served over HTTP by a local API whose
/// DynamoDB client records every request, a tour of the routes names a wallet key's partition
/// only from the signing function and a client secret's only from the dialects that sign with
/// it and the access function that issues keys. Each is seen where it is allowed, so the
/// recording would catch it anywhere else.
#[tokio::test]
async fn only_the_functions_allowed_them_ask_for_keys_or_client_secrets() {
    use api_tests::raw_http::{call, exchange};
    let stack = TestStack::new().await;
    let sent = Sent::default();
    let config = aws_sdk_dynamodb::config::Builder::from(
        &shared::config::sdk_config(Some(&api_tests::endpoint())).await,
    )
    .interceptor(sent.clone())
    .build();
    let mut services = stack.services(7);
    services.store = shared::adapters::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        stack.table(),
    )
    .with_rate_limit(api_tests::UNTHROTTLED);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(local_api::serve(listener, services));
    let mut pipeline = Pipeline::new(&stack).await;
    let issued = shared::domain::apps::issue_api_key(
        &stack.store,
        &stack_sealer(),
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let clients = shared::dialects::credentials::clients(&stack.app, &issued);
    let key = &issued.token;

    let created = call(
        &address,
        "POST",
        "/v1/users",
        key,
        Some(&json!({"email": "tour@example.com"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    // The wallet creator, on the stream (its own client: it may write keys).
    pipeline.drain(&stack, &stack_sealer()).await;
    sent.touched();

    let native = [
        ("GET", format!("/v1/users/{id}"), None),
        ("GET", "/v1/users?email=tour@example.com".to_owned(), None),
        ("GET", "/v1/users".to_owned(), None),
        (
            "POST",
            "/v1/users/lookup".to_owned(),
            Some(json!({"email": "tour@example.com"})),
        ),
        (
            "POST",
            "/v1/users/find-or-create".to_owned(),
            Some(json!({"email": "tour@example.com"})),
        ),
        (
            "PATCH",
            format!("/v1/users/{id}"),
            Some(json!({"custom_metadata": {"tier": "gold"}})),
        ),
        (
            "POST",
            format!("/v1/users/{id}/wallets/ethereum/rpc"),
            Some(json!({"method": "personal_sign", "params": {"message": "hello"}})),
        ),
        (
            "POST",
            format!("/v1/users/{id}/wallets"),
            Some(json!({"chain_type": "solana"})),
        ),
        (
            "POST",
            "/v1/users/batch".to_owned(),
            Some(json!({"users": [{"email": "batch@example.com"}]})),
        ),
        ("POST", format!("/v1/users/{id}/disable"), None),
        ("POST", format!("/v1/users/{id}/enable"), None),
        ("DELETE", format!("/v1/users/{id}"), None),
        ("POST", format!("/v1/users/{id}/restore"), None),
    ];
    let mut seen = std::collections::BTreeMap::new();
    for (method, path, body) in native {
        let reply = call(&address, method, &path, key, body.as_ref()).await;
        assert!(
            reply.status < 300,
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        seen.entry(function_of(method, &path))
            .or_insert_with(Vec::new)
            .extend(sent.touched());
    }
    // A key issued over the API: its client secret is written by the access function.
    let issued = call(
        &address,
        "POST",
        "/v1/keys",
        key,
        Some(&json!({"scopes": ["users:read"]})),
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let issued_id = issued.body["data"]["key_id"].as_str().unwrap().to_owned();
    for (method, path) in [
        ("GET", "/v1/keys".to_owned()),
        ("DELETE", format!("/v1/keys/{issued_id}")),
    ] {
        let reply = call(&address, method, &path, key, None).await;
        assert!(reply.status < 300, "{method} {path}: {}", reply.body);
    }
    seen.entry(function_of("POST", "/v1/keys"))
        .or_insert_with(Vec::new)
        .extend(sent.touched());
    let privy = format!(
        "GET /privy/v1/users HTTP/1.1\r\nhost: localhost\r\nauthorization: Basic {}\r\nprivy-app-id: {}\r\nconnection: close\r\n\r\n",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", stack.app, key)
        ),
        stack.app
    );
    let original = format!(
        "GET /original/v1/user?email=tour@example.com HTTP/1.1\r\nhost: localhost\r\nx-api-key: {}\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        clients["original"]["api_key"].as_str().unwrap(),
        clients["original"]["token"].as_str().unwrap(),
    );
    for (path, head) in [("/privy/v1/users", privy), ("/original/v1/user", original)] {
        let reply = exchange(&address, head, b"").await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        seen.entry(function_of("GET", path))
            .or_insert_with(Vec::new)
            .extend(sent.touched());
    }
    let reached: Vec<(&str, Vec<&str>)> = seen
        .into_iter()
        .filter(|(_, touched)| !touched.is_empty())
        .collect();
    assert_eq!(
        reached,
        [
            ("access", vec!["client secrets"]),
            ("original", vec!["client secrets"]),
            ("wallet-rpc", vec!["wallet keys"])
        ]
    );
}

/// The `events/` payload of a tombstone's removal (as DynamoDB's TTL makes it) is read as the
/// removal of that user's tombstone, and as no change of a user.
#[test]
fn a_tombstones_removal_on_the_stream_names_its_user() {
    let text = api_tests::read_event("create-wallets-tombstone-removed");
    let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(&text).unwrap();
    let records = shared::adapters::dynamo::stream::records(&event);
    assert_eq!(
        records[0].tombstone_removed,
        Some((
            shared::model::AppId::parse("app_0123456789abcdef0123456789abcdef").unwrap(),
            UserId::parse("0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b").unwrap()
        ))
    );
    assert_eq!(records[0].change, Ok(None));
}
