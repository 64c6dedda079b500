//! `POST /v1/users/{id}/wallets/{chain_type}/rpc` through the local API, proven by code nobody
//! here wrote: eth-account recovers the signer of every message, typed data and transaction
//! the route signs, solders verifies the Solana signatures, and Foundry's anvil (a real
//! Ethereum node) mines what the route sends.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use api_tests::TestStack;
use api_tests::anvil::{self, Anvil};
use api_tests::signatures::verify;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use shared::model::event::EventType;

/// The local API of a fresh stack, and an HTTP client for it.
struct Api {
    stack: TestStack,
    base: String,
    client: reqwest::Client,
    pipeline: tokio::sync::Mutex<api_tests::wallets::Pipeline>,
}

impl Api {
    async fn start() -> Self {
        let stack = TestStack::new().await;
        let (base, _) = stack.serve().await;
        let client = shared::tls::reqwest_builder().build().unwrap();
        let pipeline = tokio::sync::Mutex::new(api_tests::wallets::Pipeline::new(&stack).await);
        Self {
            stack,
            base,
            client,
            pipeline,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.stack.api_key);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Changes one of the app's settings.
    async fn set(&self, setting: &str, value: Value) {
        let change = json!({ setting: value });
        let (status, body) = self
            .send("PATCH", "/v1/app/settings", Some(change), None)
            .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn networks(&self, networks: Value) {
        self.set("networks", networks).await;
    }

    async fn policy(&self, policy: Value) {
        self.set("signing_policy", policy).await;
    }

    /// A new user whose wallets are all ready: its id and addresses by chain.
    async fn user_with_wallets(&self, email: &str) -> (String, Value) {
        let (status, body) = self
            .send("POST", "/v1/users", Some(json!({"email": email})), None)
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["data"]["id"].as_str().unwrap().to_owned();
        // The wallet creator on the stream, sealing under the stack's one key-encryption key.
        let sealer = api_tests::wallets::stack_sealer();
        self.pipeline.lock().await.drain(&self.stack, &sealer).await;
        for _ in 0..100 {
            let (_, user) = self
                .send("GET", &format!("/v1/users/{id}"), None, None)
                .await;
            let wallets = user["data"]["wallets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !wallets.is_empty() && wallets.iter().all(|w| w["status"] == "ready") {
                let mut addresses = json!({});
                for wallet in wallets {
                    addresses[wallet["chain_type"].as_str().unwrap()] = wallet["address"].clone();
                }
                return (id, addresses);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{id}'s wallets never became ready");
    }

    async fn rpc(&self, id: &str, chain: &str, body: Value) -> (u16, Value) {
        self.send(
            "POST",
            &format!("/v1/users/{id}/wallets/{chain}/rpc"),
            Some(body),
            None,
        )
        .await
    }
}

fn explorer() -> &'static str {
    "https://explorer.example/address/{address}"
}

/// A legacy Solana transfer of `lamports` from `from` to `to`, unsigned, serialized as the
/// wire format lays it out (solders reads it back in the check).
fn solana_transfer(from: &[u8; 32], to: &[u8; 32], lamports: u64) -> Vec<u8> {
    let mut message = vec![1u8, 0, 1, 3];
    message.extend_from_slice(from);
    message.extend_from_slice(to);
    message.extend_from_slice(&[0u8; 32]);
    message.extend_from_slice(&[9u8; 32]);
    message.extend_from_slice(&[1, 2, 2, 0, 1, 12]);
    message.extend_from_slice(&2u32.to_le_bytes());
    message.extend_from_slice(&lamports.to_le_bytes());
    let mut tx = vec![1u8];
    tx.extend_from_slice(&[0u8; 64]);
    tx.extend_from_slice(&message);
    tx
}

fn pubkey(address: &Value) -> [u8; 32] {
    bs58::decode(address.as_str().unwrap())
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn every_method_signs_as_eth_account_and_solders_verify() {
    let api = Api::start().await;
    api.networks(json!([
        {"chain_type": "ethereum", "chain_id": 31337, "name": "Anvil", "explorer_url": explorer()},
        {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": explorer()}
    ]))
    .await;
    let (id, addresses) = api.user_with_wallets("signer@example.com").await;
    let ethereum = addresses["ethereum"].as_str().unwrap().to_owned();
    let solana = addresses["solana"].as_str().unwrap().to_owned();

    let mut messages = Vec::new();
    for (params, bytes) in [
        (
            json!({"message": "Sign in to example.com"}),
            b"Sign in to example.com".to_vec(),
        ),
        (
            json!({"message": "0x00ff1945", "encoding": "hex"}),
            vec![0x00, 0xff, 0x19, 0x45],
        ),
    ] {
        let (status, body) = api
            .rpc(
                &id,
                "ethereum",
                json!({"method": "personal_sign", "params": params}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body["data"]["signature_id"]
                .as_str()
                .unwrap()
                .starts_with("sig_")
        );
        messages.push(json!({"address": ethereum, "message": hex::encode(bytes),
                             "signature": body["data"]["signature"]}));
    }
    // Privy's clients write `primary_type`; eth-account reads EIP-712's `primaryType`.
    let typed = json!({
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                  "Order": [{"name": "item", "type": "string"}, {"name": "amount", "type": "uint256"}]},
        "domain": {"name": "Shop", "chainId": 31337},
        "message": {"item": "hat", "amount": 3}
    });
    let mut privy_form = typed.clone();
    privy_form["primary_type"] = json!("Order");
    let (status, body) = api
        .rpc(
            &id,
            "ethereum",
            json!({"method": "eth_signTypedData_v4", "params": {"typed_data": privy_form}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut eip712 = typed;
    eip712["primaryType"] = json!("Order");
    let typed_cases = vec![
        json!({"address": ethereum, "typed_data": eip712, "signature": body["data"]["signature"]}),
    ];

    let mut transactions = Vec::new();
    for transaction in [
        json!({"to": anvil::SECOND_ACCOUNT, "value": "0x2386f26fc10000", "chain_id": 31337, "nonce": 0,
               "gas_limit": 21000, "max_fee_per_gas": "0x77359400", "max_priority_fee_per_gas": 1}),
        json!({"to": anvil::SECOND_ACCOUNT, "value": 5, "chain_id": 31337, "nonce": 9, "gas_limit": 50000,
               "gas_price": "0x3b9aca00", "type": 0, "data": "0xdeadbeef"}),
    ] {
        let (status, body) = api
            .rpc(
                &id,
                "ethereum",
                json!({"method": "eth_signTransaction", "params": {"transaction": transaction}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["caip2"], "eip155:31337");
        transactions.push(
            json!({"address": ethereum, "raw": body["data"]["signed_transaction"],
                                 "hash": body["data"]["hash"], "chain_id": 31337,
                                 "nonce": transaction["nonce"]}),
        );
    }

    let (status, body) = api
        .rpc(
            &id,
            "solana",
            json!({"method": "signMessage", "params": {"message": BASE64.encode("hello solana")}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let solana_messages = vec![
        json!({"address": solana, "message": hex::encode("hello solana"),
                                      "signature": body["data"]["signature"]}),
    ];
    let unsigned = solana_transfer(&pubkey(&addresses["solana"]), &[5u8; 32], 1_000);
    let (status, body) = api
        .rpc(&id, "solana", json!({"method": "signTransaction",
                                   "params": {"transaction": BASE64.encode(&unsigned), "encoding": "base64"}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let solana_transactions =
        vec![json!({"address": solana, "raw": body["data"]["signed_transaction"]})];

    let passed = verify(&json!({
        "ethereum": messages, "typed_data": typed_cases, "solana": solana_messages,
        "transactions": transactions, "solana_transactions": solana_transactions
    }))
    .await;
    assert_eq!(passed, 7);
    // Every signature is on record, with the key that asked and never the payload.
    let records = api.stack.items_with_sk("SIG#").await;
    assert_eq!(records.len(), 7);
    assert!(
        records
            .iter()
            .all(|r| r["key_id"].as_s().is_ok() && !r.contains_key("message"))
    );
    // And each is a `user.wallet_signed` event, carrying the payload's hash only.
    let mut pipeline = api.pipeline.lock().await;
    pipeline
        .drain(&api.stack, &api_tests::wallets::stack_sealer())
        .await;
    let signed = pipeline.publisher.of_type(EventType::WalletSigned);
    assert_eq!(signed.len(), 7);
    let methods: Vec<&str> = signed
        .iter()
        .map(|e| e.data["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods
            .iter()
            .filter(|m| **m == "eth_signTransaction")
            .count(),
        2
    );
    let text = serde_json::to_string(&signed.iter().map(|e| &e.data).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains(&hex::encode("hello solana")) && !text.contains("Sign in to"));
}

#[tokio::test]
async fn hostile_and_refused_requests_are_4xx_in_the_envelope_and_sign_nothing() {
    let api = Api::start().await;
    api.networks(json!([
        {"chain_type": "ethereum", "chain_id": 31337, "name": "Anvil", "explorer_url": explorer()},
        {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": explorer()}
    ]))
    .await;
    let (id, addresses) = api.user_with_wallets("hostile@example.com").await;
    let complete = json!({"to": anvil::SECOND_ACCOUNT, "value": 1, "chain_id": 31337, "nonce": 0,
                          "gas_limit": 21000, "max_fee_per_gas": 2, "max_priority_fee_per_gas": 1});
    let with = |field: &str, value: Value| {
        let mut tx = complete.clone();
        tx[field] = value;
        json!({"method": "eth_signTransaction", "params": {"transaction": tx}})
    };
    let cases = [
        (
            "ethereum",
            json!({"method": "eth_signTypedData_v4", "params": {"typed_data": {"types": {}, "primaryType": "Nope", "domain": {}, "message": {}}}}),
            400,
            "params.typed_data",
        ),
        (
            "ethereum",
            with("gas_limit", json!("0xffffffffffff")),
            400,
            "params.transaction.gas_limit",
        ),
        (
            "ethereum",
            with("max_fee_per_gas", json!("0xffffffffffffffffffffffff")),
            400,
            "params.transaction.max_fee_per_gas",
        ),
        (
            "ethereum",
            with("chain_id", json!(1)),
            400,
            "params.transaction.chain_id",
        ),
        (
            "ethereum",
            with("chain_id", Value::Null),
            400,
            "params.transaction.chain_id",
        ),
        (
            "ethereum",
            json!({"method": "personal_sign", "params": {"message": "a".repeat(40_000)}}),
            400,
            "params.message",
        ),
        (
            "ethereum",
            json!({"method": "eth_sign", "params": {}}),
            400,
            "method",
        ),
        (
            "ethereum",
            json!({"method": "signMessage", "params": {"message": "aGk="}}),
            400,
            "method",
        ),
        (
            "solana",
            json!({"method": "signTransaction", "params": {"transaction": BASE64.encode([1u8; 40])}}),
            400,
            "params.transaction",
        ),
        // Another wallet's transfer: ours is not among its signers.
        (
            "solana",
            json!({"method": "signTransaction", "params": {"transaction": BASE64.encode(solana_transfer(&[3u8; 32], &[4u8; 32], 1))}}),
            400,
            "params.transaction",
        ),
        // A send needs a network whose node it can reach: this app's Solana network has none.
        (
            "solana",
            json!({"method": "signAndSendTransaction", "caip2": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
                   "params": {"transaction": BASE64.encode(solana_transfer(&pubkey(&addresses["solana"]), &[4u8; 32], 1))}}),
            400,
            "caip2",
        ),
        // A transaction message passed off as a message would skip the policy.
        (
            "solana",
            json!({"method": "signMessage", "params": {"message": BASE64.encode(&solana_transfer(&pubkey(&addresses["solana"]), &[4u8; 32], 1)[65..])}}),
            400,
            "params.message",
        ),
    ];
    // Past the request body limit, the edge refuses before parsing.
    let (status, answer) = api
        .rpc(
            &id,
            "ethereum",
            json!({"method": "personal_sign", "params": {"message": "a".repeat(70_000)}}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    for (chain, body, status, field) in cases {
        let started = std::time::Instant::now();
        let (actual, answer) = api.rpc(&id, chain, body.clone()).await;
        assert_eq!(actual, status, "{body}: {answer}");
        assert_eq!(answer["success"], false, "{answer}");
        assert_eq!(answer["error"]["details"][0]["field"], field, "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2), "{body}");
    }

    // The policy names the rule it refused by.
    api.policy(
        json!({"methods": ["eth_signTransaction"], "max_value": "50000",
                      "denied_to": [anvil::DEV_ACCOUNT]}),
    )
    .await;
    for (body, rule) in [
        (
            json!({"method": "personal_sign", "params": {"message": "hi"}}),
            "signing_policy.methods",
        ),
        // Its value, then its value with its most fee (21,000 gas at 2 wei): 1 + 42,000 passes.
        (with("value", json!(50_001)), "signing_policy.max_value"),
        (with("value", json!(8_001)), "signing_policy.max_value"),
        (
            with("to", json!(anvil::DEV_ACCOUNT)),
            "signing_policy.denied_to",
        ),
    ] {
        let (status, answer) = api.rpc(&id, "ethereum", body).await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["error"]["code"], "policy_violation", "{answer}");
        assert_eq!(answer["error"]["details"][0]["field"], rule, "{answer}");
    }
    let (status, _) = api.rpc(&id, "ethereum", complete_request(&complete)).await;
    assert_eq!(status, 200);

    // A user's override replaces the rules it sets (here: which methods) and adds denials.
    let override_path = format!("/v1/users/{id}/signing-policy");
    let (status, set) = api
        .send(
            "PUT",
            &override_path,
            Some(json!({"methods": ["personal_sign"],
               "denied_to": [anvil::SECOND_ACCOUNT]})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(
        set["data"]["denied_to"],
        json!([anvil::SECOND_ACCOUNT.to_lowercase()])
    );
    let (status, _) = api
        .rpc(
            &id,
            "ethereum",
            json!({"method": "personal_sign", "params": {"message": "hi"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = api.rpc(&id, "ethereum", complete_request(&complete)).await;
    assert_eq!(
        answer["error"]["details"][0]["field"], "signing_policy.methods",
        "{answer}"
    );
    assert_eq!(status, 403);
    let (status, shown) = api.send("GET", &override_path, None, None).await;
    assert_eq!(
        (status, &shown["data"]["methods"]),
        (200, &json!(["personal_sign"]))
    );
    let (status, _) = api.send("DELETE", &override_path, None, None).await;
    assert_eq!(status, 204);
    let (status, _) = api.send("DELETE", &override_path, None, None).await;
    assert_eq!(status, 404);
    let (status, answer) = api
        .rpc(
            &id,
            "ethereum",
            json!({"method": "personal_sign", "params": {"message": "hi"}}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (403, Some("policy_violation"))
    );
    let (status, answer) = api
        .send(
            "PUT",
            &override_path,
            Some(json!({"max_value": "1e18"})),
            None,
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["details"][0]["field"]),
        (400, &json!("signing_policy.max_value"))
    );
    let (status, _) = api
        .send(
            "GET",
            "/v1/users/0190f2e4-0000-7000-8000-000000000000/signing-policy",
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // A disabled user cannot sign; an unknown user or chain is 404.
    let (status, _) = api
        .send("POST", &format!("/v1/users/{id}/disable"), None, None)
        .await;
    assert_eq!(status, 200);
    let (status, answer) = api.rpc(&id, "ethereum", complete_request(&complete)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (403, Some("user_disabled"))
    );
    let (status, _) = api
        .rpc(
            "0190f2e4-0000-7000-8000-000000000000",
            "ethereum",
            complete_request(&complete),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api.rpc(&id, "bitcoin", complete_request(&complete)).await;
    assert_eq!(status, 404);
    // Only the allowed signatures were made: the transaction, and one message under the
    // user's override.
    assert_eq!(api.stack.items_with_sk("SIG#").await.len(), 2);
}

fn complete_request(transaction: &Value) -> Value {
    json!({"method": "eth_signTransaction", "params": {"transaction": transaction}})
}

#[tokio::test]
async fn sends_are_mined_by_anvil_with_distinct_nonces_once_per_idempotency_key() {
    let node = Anvil::start().await;
    let api = Api::start().await;
    api.networks(
        json!([{"chain_type": "ethereum", "chain_id": 31337, "name": "Anvil",
                         "explorer_url": explorer(), "rpc_url": node.url}]),
    )
    .await;
    let (id, addresses) = api.user_with_wallets("sender@example.com").await;
    let wallet = addresses["ethereum"].as_str().unwrap().to_owned();
    let ether: u128 = 10u128.pow(18);
    node.fund(&wallet, ether).await;

    // One send: nonce, gas and fees filled by the node; mined with status 1; balances moved.
    let recipient_before = node.balance(anvil::SECOND_ACCOUNT).await;
    let value = ether / 10;
    let send = json!({"method": "eth_sendTransaction", "caip2": "eip155:31337",
                      "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": format!("{value:#x}")}}});
    let (status, body) = api
        .send(
            "POST",
            &format!("/v1/users/{id}/wallets/ethereum/rpc"),
            Some(send.clone()),
            Some("send-1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hash = body["data"]["hash"].as_str().unwrap().to_owned();
    let receipt = node.receipt(&hash).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(
        receipt["from"].as_str().unwrap().to_lowercase(),
        wallet.to_lowercase()
    );
    assert_eq!(
        node.balance(anvil::SECOND_ACCOUNT).await,
        recipient_before + value
    );
    let fee = u128::from_str_radix(
        receipt["gasUsed"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap()
        * u128::from_str_radix(
            receipt["effectiveGasPrice"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap();
    assert_eq!(node.balance(&wallet).await, ether - value - fee);

    // The same Idempotency-Key replays the answer and broadcasts nothing.
    let (status, replay) = api
        .send(
            "POST",
            &format!("/v1/users/{id}/wallets/ethereum/rpc"),
            Some(send.clone()),
            Some("send-1"),
        )
        .await;
    assert_eq!(
        (status, &replay["data"]["hash"]),
        (200, &body["data"]["hash"])
    );
    assert_eq!(node.nonce(&wallet).await, 1);

    // Concurrent sends from one wallet: each gets its own nonce and all are mined.
    let sends = (0..4).map(|_| {
        let small = json!({"method": "eth_sendTransaction",
                           "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": 1000, "chain_id": 31337}}});
        api.rpc(&id, "ethereum", small)
    });
    let answers = futures::future::join_all(sends).await;
    let mut nonces = Vec::new();
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        let hash = body["data"]["hash"].as_str().unwrap();
        assert_eq!(node.receipt(hash).await["status"], "0x1");
        let tx = node.call("eth_getTransactionByHash", json!([hash])).await;
        nonces.push(tx["nonce"].as_str().unwrap().to_owned());
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "{nonces:?}");
    assert_eq!(node.nonce(&wallet).await, 5);

    // A send the policy refuses changes nothing on chain.
    api.policy(json!({"max_value": "999"})).await;
    let balance = node.balance(&wallet).await;
    let (status, body) = api
        .rpc(&id, "ethereum", json!({"method": "eth_sendTransaction",
             "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": 1000, "chain_id": 31337}}}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("policy_violation")),
        "{body}"
    );
    assert_eq!(node.nonce(&wallet).await, 5);
    assert_eq!(node.balance(&wallet).await, balance);

    // The daily limit holds across requests, fees included: 3 × 0.1 ether (and each one's most
    // fee, far below 0.01 ether here) passes 0.25 ether on the third.
    api.policy(json!({"max_value_per_day": (ether / 4).to_string()}))
        .await;
    let tenth = format!("{:#x}", ether / 10);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, body) = api
            .rpc(&id, "ethereum", json!({"method": "eth_sendTransaction",
                 "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": tenth, "chain_id": 31337}}}))
            .await;
        statuses.push((status, body["error"]["details"][0]["field"].clone()));
    }
    assert_eq!(
        statuses,
        [
            (200, Value::Null),
            (200, Value::Null),
            (403, json!("signing_policy.max_value_per_day"))
        ]
    );
    assert_eq!(node.nonce(&wallet).await, 7);
    // A limit on one transaction counts its fees too: 0.1 ether passes a 0.1 ether limit only
    // without them.
    api.policy(json!({"max_value": (ether / 10).to_string()}))
        .await;
    let (status, body) = api
        .rpc(&id, "ethereum", json!({"method": "eth_sendTransaction",
             "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": tenth, "chain_id": 31337}}}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("with its fees")
    );
    assert_eq!(node.nonce(&wallet).await, 7);

    // A send the node rejects (more than the wallet holds) gives its nonce back.
    api.policy(json!({})).await;
    let (status, body) = api
        .rpc(&id, "ethereum", json!({"method": "eth_sendTransaction",
             "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": format!("{:#x}", 100 * ether), "chain_id": 31337, "gas_limit": 21000}}}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "transaction_rejected");
    let (status, body) = api
        .rpc(&id, "ethereum", json!({"method": "eth_sendTransaction",
             "params": {"transaction": {"to": anvil::SECOND_ACCOUNT, "value": 1, "chain_id": 31337}}}))
        .await;
    assert_eq!(status, 200, "{body}");
    node.receipt(body["data"]["hash"].as_str().unwrap()).await;
    assert_eq!(node.nonce(&wallet).await, 8);
}

/// Privy's own client, `@privy-io/node`, signs and sends with our wallets through
/// `wallets().ethereum()` and `.solana()` unchanged (tests/clients/privy_wallet_calls.mjs);
/// eth-account and solders check what it got back, and anvil mines what it sent.
#[tokio::test]
async fn privy_node_client_signs_and_sends_with_our_wallets() {
    let node = Anvil::start().await;
    let api = Api::start().await;
    api.networks(json!([
        {"chain_type": "ethereum", "chain_id": 31337, "name": "Anvil", "explorer_url": explorer(), "rpc_url": node.url},
        {"chain_type": "solana", "cluster": "devnet", "name": "Solana devnet", "explorer_url": explorer()}
    ]))
    .await;
    api.policy(json!({"max_value": "100000000000000000"})).await;
    let (id, addresses) = api.user_with_wallets("privy-signer@example.com").await;
    node.fund(addresses["ethereum"].as_str().unwrap(), 10u128.pow(18))
        .await;
    let key = shared::domain::apps::issue_api_key(
        &api.stack.store,
        &api_tests::wallets::stack_sealer(),
        &api.stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let clients = shared::dialects::credentials::clients(&api.stack.app, &key);
    let wallets = json!({
        "ethereum": {"id": format!("{id}-ethereum"), "address": addresses["ethereum"]},
        "solana": {"id": format!("{id}-solana"), "address": addresses["solana"]},
    });
    let unsigned = solana_transfer(&pubkey(&addresses["solana"]), &[5u8; 32], 1_000);
    let clients_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients");
    let output = tokio::process::Command::new("node")
        .arg(clients_dir.join("privy_wallet_calls.mjs"))
        .current_dir(&clients_dir)
        .env("BASE_URL", format!("{}/privy", api.base))
        .env("CLIENTS", clients.to_string())
        .env("WALLETS", wallets.to_string())
        .env("SOLANA_TX", BASE64.encode(&unsigned))
        .env("RECIPIENT", anvil::SECOND_ACCOUNT)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        9,
        "{stdout}"
    );
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap()
            .to_owned()
    };
    let receipt = node.receipt(&line("sent ")).await;
    assert_eq!(receipt["status"], "0x1");
    // One send under the idempotency key, mined once; the refused one never reached the node.
    assert_eq!(node.nonce(addresses["ethereum"].as_str().unwrap()).await, 1);
    let cases: Value = serde_json::from_str(&line("cases ")).unwrap();
    assert_eq!(verify(&cases).await, 6);
}

/// A node that answers nothing usable: every request gets `502` with no body.
async fn mute_node() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buffer = vec![0u8; 65536];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    url
}

/// A send whose node does not answer may have been taken: it is `202` with the signed
/// transaction, its nonce and day's share stay taken, and a retry under the same key replays
/// that answer instead of signing a second transaction.
#[tokio::test]
async fn a_send_the_node_does_not_confirm_is_202_and_never_signed_twice() {
    let api = Api::start().await;
    api.networks(
        json!([{"chain_type": "ethereum", "chain_id": 31337, "name": "Mute",
                         "explorer_url": explorer(), "rpc_url": mute_node().await}]),
    )
    .await;
    let (id, _) = api.user_with_wallets("mute@example.com").await;
    let send = json!({"method": "eth_sendTransaction", "params": {"transaction": {
        "to": anvil::SECOND_ACCOUNT, "value": 1, "chain_id": 31337, "nonce": 3, "gas_limit": 21000,
        "max_fee_per_gas": 2, "max_priority_fee_per_gas": 1}}});
    let path = format!("/v1/users/{id}/wallets/ethereum/rpc");
    let (status, first) = api
        .send("POST", &path, Some(send.clone()), Some("mute-1"))
        .await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["data"]["unconfirmed"], true);
    assert!(
        first["data"]["signed_transaction"]
            .as_str()
            .unwrap()
            .starts_with("0x02")
    );
    let (status, again) = api.send("POST", &path, Some(send), Some("mute-1")).await;
    assert_eq!((status, &again["data"]), (202, &first["data"]));
    assert_eq!(api.stack.items_with_sk("SIG#").await.len(), 1);
}
