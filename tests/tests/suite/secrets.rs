//! The secrets scan (`api_tests::secrets`, run by `scripts/test.sh` after the suite) against
//! DynamoDB Local: an API key, a webhook secret and wallet private keys planted in a table and
//! in a log line are each found where they are, and a table made by real use (users, wallets
//! from the wallet creator, a registered and rotated webhook) and its logs hold none.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use api_tests::secrets::{self, Finding, Kind, KnownAddresses, Report, Scanner};
use api_tests::wallets::{Pipeline, opened_key, test_sealer};
use api_tests::{TestStack, parts, request};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::domain::wallets::address_of;
use shared::domain::webhooks::signature::SigningSecret;
use shared::model::{ChainType, UserId};
use tracing_subscriber::layer::SubscriberExt;

/// A fresh directory for one test's log files.
fn log_dir() -> PathBuf {
    std::env::temp_dir().join(format!("secrets-scan-{}", uuid::Uuid::new_v4().simple()))
}

/// Sends this thread's log lines (the tests' runtime is single-threaded: every line the code
/// under test writes) to `dir` only, in the captured format, while the guard lives.
fn capture_logs(dir: &Path) -> tracing::subscriber::DefaultGuard {
    tracing::subscriber::set_default(
        tracing_subscriber::registry().with(api_tests::log_file_layer(dir)),
    )
}

/// The scan of `stack`'s table and the logs in `logs`.
async fn scan(stack: &TestStack, logs: &Path) -> Report {
    secrets::scan(
        &api_tests::endpoint(),
        Some(&[stack.table().to_owned()]),
        Some(logs),
    )
    .await
    .unwrap()
}

fn shown(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("\n  {f}"))
        .collect::<String>()
}

async fn create(stack: &TestStack, body: Value) -> UserId {
    let request = request("POST", "/v1/users", &stack.api_key, Some(&body));
    let (status, body) = parts(&create_user::handle(&stack.store, request).await);
    assert_eq!(status, 201, "{body}");
    UserId::parse(body["data"]["id"].as_str().unwrap()).unwrap()
}

async fn put(stack: &TestStack, pk: &str, attributes: Vec<(&str, AttributeValue)>) {
    let mut item = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S("PLANTED".to_owned())),
    ]);
    item.extend(attributes.into_iter().map(|(k, v)| (k.to_owned(), v)));
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

#[tokio::test]
async fn planted_secrets_are_each_found_where_they_are() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let mut pipeline = Pipeline::new(&stack).await;
    let user = create(
        &stack,
        json!({"wallets": [{"chain_type": "ethereum"}, {"chain_type": "solana"}]}),
    )
    .await;
    pipeline.drain(&stack, &sealer).await;
    let ethereum_key = opened_key(&stack, &sealer, &stack.app, user, ChainType::Ethereum).await;
    let solana_seed = opened_key(&stack, &sealer, &stack.app, user, ChainType::Solana).await;
    let ethereum_address = address_of(ChainType::Ethereum, &ethereum_key).unwrap();
    let solana_address = address_of(ChainType::Solana, &solana_seed).unwrap();
    let logs = log_dir();
    let log_file = logs.join(format!("{}.log", std::process::id()));
    {
        let _logs = capture_logs(&logs);
        tracing::info!(%user, "before planting");
    }

    // Before planting, the table (with the user's two wallets) and the log are clean.
    let before = scan(&stack, &logs).await;
    assert!(before.findings.is_empty(), "{}", shown(&before.findings));
    assert_eq!(before.known_addresses, 2, "{before}");
    assert_eq!((before.log_files, before.log_lines), (1, 1), "{before}");

    // Planted: the app's real API key and the ethereum wallet's private key (hex) in items
    // (so also in their stream records), a webhook signing secret and the solana wallet's
    // keypair (base58 of its 64 bytes, as Phantom exports it) in log lines.
    let ethereum_hex = format!("0x{}", hex::encode(ethereum_key.as_slice()));
    put(
        &stack,
        "PLANTED#api-key",
        vec![(
            "note",
            AttributeValue::S(format!("issued {}", stack.api_key)),
        )],
    )
    .await;
    put(
        &stack,
        "PLANTED#ethereum",
        vec![(
            "debug",
            AttributeValue::M(HashMap::from([(
                "key".to_owned(),
                AttributeValue::S(ethereum_hex.clone()),
            )])),
        )],
    )
    .await;
    let webhook_secret = SigningSecret::generate().unwrap().reveal();
    let public = bs58::decode(solana_address.as_str()).into_vec().unwrap();
    let keypair: Vec<u8> = solana_seed.iter().chain(&public).copied().collect();
    let keypair = bs58::encode(keypair).into_string();
    {
        let _logs = capture_logs(&logs);
        tracing::info!("rotated: the new secret is {}", webhook_secret.as_str());
        tracing::info!(keypair = %keypair, "loaded the keypair");
    }

    let report = scan(&stack, &logs).await;
    let table = stack.table();
    let found: BTreeSet<(Kind, String, Option<String>)> = report
        .findings
        .iter()
        .map(|f| {
            // Stream records are named by their event id and sequence number: keep the image
            // and attribute.
            let location = match f.location.split_once(" stream record ") {
                Some((head, rest)) => {
                    format!("{head} stream record {}", rest.rsplit(' ').next().unwrap())
                }
                None => f.location.clone(),
            };
            (f.hit.kind, location, f.hit.address.clone())
        })
        .collect();
    let ethereum = Some(ethereum_address.as_str().to_owned());
    let solana = Some(solana_address.as_str().to_owned());
    let expected = BTreeSet::from([
        (
            Kind::ApiKey,
            format!("table {table} item (pk=PLANTED#api-key, sk=PLANTED) attribute note"),
            None,
        ),
        (
            Kind::ApiKey,
            format!("table {table} stream record NewImage.note"),
            None,
        ),
        (
            Kind::EthereumPrivateKey,
            format!("table {table} item (pk=PLANTED#ethereum, sk=PLANTED) attribute debug.key"),
            ethereum.clone(),
        ),
        (
            Kind::EthereumPrivateKey,
            format!("table {table} stream record NewImage.debug.key"),
            ethereum,
        ),
        (
            Kind::WebhookSecret,
            format!("{}:2", log_file.display()),
            None,
        ),
        (
            Kind::SolanaKeypair,
            format!("{}:3", log_file.display()),
            solana,
        ),
    ]);
    assert_eq!(found, expected, "{}", shown(&report.findings));
    assert_eq!(report.findings.len(), 6, "{}", shown(&report.findings));
    assert_eq!((report.log_lines, report.items), (3, before.items + 2));

    // A finding shows at most the first 8 characters of the secret.
    let text = format!("{report}{}", shown(&report.findings));
    for secret in [
        stack.api_key.as_str(),
        ethereum_hex.as_str(),
        webhook_secret.as_str(),
        keypair.as_str(),
    ] {
        assert!(!text.contains(&secret[..9]), "{text}");
    }

    // The planted secrets must not reach the scan after the suite.
    stack
        .store
        .client()
        .delete_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    std::fs::remove_dir_all(&logs).unwrap();
}

#[tokio::test]
async fn users_wallets_and_webhooks_in_real_use_leave_no_secret() {
    let logs = log_dir();
    let _logs = capture_logs(&logs);
    let stack = TestStack::new().await;
    let services = stack.services(3);
    let sealer = test_sealer();
    let mut pipeline = Pipeline::new(&stack).await;
    let both = json!([{"chain_type": "ethereum"}, {"chain_type": "solana"}]);
    let mut users = vec![
        create(&stack, json!({"email": "a@example.com", "wallets": both})).await,
        create(
            &stack,
            json!({"external_id": "b", "wallets": both, "linked_accounts": [
                {"type": "wallet", "chain_type": "ethereum", "address": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"}
            ]}),
        )
        .await,
    ];
    let third = create(&stack, json!({"username": "third"})).await;
    let request_to = |method: &str, path: &str, body: Option<Value>| {
        request(method, path, &stack.api_key, body.as_ref())
    };
    let (status, body) = parts(
        &add_wallet::handle(
            &stack.store,
            request_to(
                "POST",
                &format!("/v1/users/{third}/wallets"),
                Some(json!({"chain_type": "solana"})),
            ),
        )
        .await,
    );
    assert_eq!(status, 202, "{body}");
    users.push(third);

    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: local_api::LOCAL_DESTINATIONS,
    };
    let (status, body) = parts(
        &webhooks::handle(
            &context,
            request_to(
                "POST",
                "/v1/webhooks",
                Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["user.created", "user.wallet_created"]})),
            ),
        )
        .await,
    );
    assert_eq!(status, 201, "{body}");
    let endpoint = body["data"]["id"].as_str().unwrap().to_owned();
    let mut webhook_secrets = vec![body["data"]["secret"].as_str().unwrap().to_owned()];
    let (status, body) = parts(
        &webhooks::handle(
            &context,
            request_to(
                "POST",
                &format!("/v1/webhooks/{endpoint}/rotate-secret"),
                None,
            ),
        )
        .await,
    );
    assert_eq!(status, 200, "{body}");
    webhook_secrets.push(body["data"]["secret"].as_str().unwrap().to_owned());
    // A user created after the endpoint: its events are queued for delivery.
    users.push(create(&stack, json!({"email": "d@example.com", "wallets": both})).await);
    pipeline.drain(&stack, &sealer).await;

    let report = scan(&stack, &logs).await;
    assert!(report.findings.is_empty(), "{}", shown(&report.findings));
    // The scan read something: items, their stream, the wallet creator's log lines, and the
    // eight wallets (the third user's default ethereum one and its added solana one) plus the
    // linked one.
    assert!(report.items > 10, "{report}");
    assert!(report.stream_records > 10, "{report}");
    assert!(report.log_lines >= 7, "{report}");
    assert_eq!(report.known_addresses, 9, "{report}");

    // And it would have found each wallet's key and each secret had they been there.
    let mut known = KnownAddresses::default();
    for item in stack.items().await {
        known.insert_from_item(&item);
    }
    let mut scanner = Scanner::new(known);
    let mut keys = 0;
    for user in users {
        for chain in ChainType::ALL {
            let Ok(key) =
                shared::ports::WalletStore::get_sealed_key(&stack.store, &stack.app, user, chain)
                    .await
            else {
                continue;
            };
            if key.is_none() {
                continue;
            }
            let key = opened_key(&stack, &sealer, &stack.app, user, chain).await;
            let hits = scanner.scan_text(&hex::encode(key.as_slice()));
            assert_eq!(hits.len(), 1, "{chain}: {hits:?}");
            keys += 1;
        }
    }
    assert_eq!(keys, 8);
    for secret in &webhook_secrets {
        let hits = scanner.scan_text(secret);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].kind, Kind::WebhookSecret);
    }
    assert_eq!(scanner.scan_text(&stack.api_key)[0].kind, Kind::ApiKey);
    std::fs::remove_dir_all(&logs).unwrap();
}
