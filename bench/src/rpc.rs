//! The wallet RPC route (`POST /v1/users/{id}/wallets/{chain_type}/rpc`): its handler time
//! minus its SDK calls' time, per method, on a metered store, with the key service local (an
//! in-process AES unwrap standing in for KMS `Decrypt`, so its microseconds count as overhead
//! here); its capacity units; and what a million signatures cost in AWS.

use std::time::Instant;

use serde_json::{Value, json};
use shared::adapters::chain_node::HttpNode;
use shared::domain::access::settings::{SettingsChange, change_settings};
use shared::domain::wallets::KeySealer;
use shared::domain::wallets::seal::associated_data;
use shared::model::network::{Network, WalletNetwork};
use shared::model::{ChainType, UserId};
use shared::ports::{ReadyWallet, WalletStore};

use crate::cost::{self, prices};
use crate::meter::{Meter, Usage};
use crate::overhead::metered_stack;
use crate::report::{Report, Stats};

/// KMS `Decrypt` latency assumed for the cost (the bench has no KMS): a few milliseconds in
/// region; the duration is billed while the function waits.
const ASSUMED_KMS_MS: f64 = 10.0;

/// Measures each method `samples` times, alternating, and adds the rows to `report`.
pub async fn run(report: &mut Report, samples: usize) {
    let meter = Meter::default();
    let stack = metered_stack(&meter).await;
    let sealer = api_tests::wallets::stack_sealer();
    let node = HttpNode::new(local_api::LOCAL_DESTINATIONS).unwrap();
    let network = Network {
        chain_type: ChainType::Ethereum,
        chain_id: Some(31337),
        cluster: None,
        name: "Anvil".into(),
        explorer_url: "https://explorer.invalid/{address}".into(),
        rpc_url: None,
    };
    let change = SettingsChange {
        networks: Some(vec![network]),
        ..SettingsChange::default()
    };
    change_settings(&stack.store, &stack.app, &change)
        .await
        .unwrap();
    let body = json!({"email": "signer@example.com", "wallets": [{"chain_type": "ethereum"}]});
    let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
    let (_, created) = api_tests::parts(&create_user::handle(&stack.store, request).await);
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    // The wallet made as the wallet creator makes it: a key, sealed, completed in the store.
    let user = UserId::parse(&id).unwrap();
    let key = shared::domain::wallets::generate(ChainType::Ethereum).unwrap();
    let sealed = sealer
        .data_key(&shared::domain::wallets::seal::KeyContext::wallet(
            &stack.app, user,
        ))
        .await
        .unwrap()
        .seal(
            &key.private_key,
            &associated_data(&stack.app, user, ChainType::Ethereum),
        )
        .unwrap();
    let networks: Vec<WalletNetwork> = Vec::new();
    let ready = ReadyWallet {
        address: &key.address,
        created_at: "2026-12-02T00:00:00Z",
        sealed: &sealed,
        networks: &networks,
    };
    assert!(
        stack
            .store
            .complete_wallet(&stack.app, user, 0, &ready)
            .await
            .unwrap()
    );
    let context = wallet_rpc::WalletRpc {
        store: &stack.store,
        sealer: &sealer,
        node: &node,
    };
    let methods: [(&str, Value); 2] = [
        (
            "personal_sign",
            json!({"method": "personal_sign", "params": {"message": "Sign in to example.com\nNonce: 42"}}),
        ),
        (
            "eth_signTransaction",
            json!({"method": "eth_signTransaction", "params": {"transaction": {
                "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "value": "0x2386f26fc10000",
                "chain_id": 31337, "nonce": 0, "gas_limit": 21000,
                "max_fee_per_gas": "0x77359400", "max_priority_fee_per_gas": 1}}}),
        ),
    ];
    let path = format!("/v1/users/{id}/wallets/ethereum/rpc");
    let mut figures: Vec<(Vec<_>, Vec<_>, Vec<_>, Usage)> =
        methods.iter().map(|_| Default::default()).collect();
    meter.take();
    for _ in 0..samples {
        for ((_, body), (handler, sdk, overhead, total)) in methods.iter().zip(figures.iter_mut()) {
            let request = api_tests::request("POST", &path, &stack.api_key, Some(body));
            meter.take();
            let started = Instant::now();
            let response = wallet_rpc::handle(&context, request).await;
            let elapsed = started.elapsed();
            let usage = meter.take();
            assert_eq!(response.status(), 200);
            handler.push(elapsed);
            sdk.push(usage.sdk_time());
            overhead.push(elapsed.saturating_sub(usage.sdk_time()));
            total.read_units += usage.read_units;
            total.write_units += usage.write_units;
            total.operations = usage.operations;
        }
    }
    for ((name, _), (handler, sdk, overhead, total)) in methods.iter().zip(figures.iter_mut()) {
        let (handler, sdk, overhead) = (Stats::of(handler), Stats::of(sdk), Stats::of(overhead));
        let route = format!("POST …/wallets/ethereum/rpc {name}");
        report.timing("rpc", &format!("{route}: handler"), handler);
        report.timing("rpc", &format!("{route}: its SDK calls"), sdk);
        report.overhead(
            "rpc",
            &format!("{route}: overhead (handler - SDK)"),
            overhead,
        );
        let (reads, writes) = (
            total.read_units / samples as f64,
            total.write_units / samples as f64,
        );
        report.capacity(
            &format!("{route}: RRU / WRU per request"),
            reads,
            writes,
            json!({"operations": total.operations}),
        );
        // Per signature in AWS: the API call, the function for the handler's time and KMS's,
        // its reads and writes (the signature's record among them), one KMS Decrypt, and the
        // user.wallet_signed event on the bus with its kept record.
        let per_signature = prices::HTTP_API_REQUEST
            + cost::lambda(handler.median_ms() + ASSUMED_KMS_MS)
            + cost::dynamodb(reads, writes)
            + prices::KMS_REQUEST
            + prices::EVENTBRIDGE_EVENT
            + prices::DYNAMODB_WRITE_UNIT;
        report.figure(
            "cost",
            &format!("per million signatures ({name}), USD"),
            &format!("${:.2}", per_signature * 1e6),
            json!({"usd_per_million": per_signature * 1e6, "assumed_kms_ms": ASSUMED_KMS_MS}),
        );
    }
}
