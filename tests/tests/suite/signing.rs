//! Our wallets' signatures checked by code nobody here wrote: eth-account (Python) recovers
//! the signer of every ethereum `personal_sign` and `eth_signTypedData_v4` (EIP-712) as the
//! wallet's address, and solders verifies
//! every solana `signMessage` with the wallet's public key (tests/clients/verify_signatures.py,
//! in the venv scripts/seed-clients.sh makes).

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use shared::domain::wallets::keys::generate;
use shared::domain::wallets::sign::{personal_sign, sign_typed_data, solana_sign_message};
use shared::model::ChainType;

/// Messages of every kind: empty, text, non-ASCII text, bytes that are no UTF-8, and long.
fn messages() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"Sign in to example.com\nNonce: 42".to_vec(),
        "héllo, 世界 👋".as_bytes().to_vec(),
        vec![0x00, 0xff, 0x19, 0x45, 0x80],
        vec![0x61; 10_000],
    ]
}

/// EIP-712's own example, and one with arrays, nested structs, bytes and a large integer.
fn typed_data() -> Vec<Value> {
    let domain_type = json!([
        {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]);
    let domain = json!({"name": "Ether Mail", "version": "1", "chainId": 1,
                        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"});
    vec![
        json!({
            "types": {
                "EIP712Domain": domain_type,
                "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
                "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                         {"name": "contents", "type": "string"}]
            },
            "primaryType": "Mail",
            "domain": domain,
            "message": {
                "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                "contents": "Hello, Bob!"
            }
        }),
        json!({
            "types": {
                "EIP712Domain": domain_type,
                "Item": [{"name": "id", "type": "uint256"}, {"name": "tag", "type": "bytes32"}],
                "Order": [{"name": "items", "type": "Item[]"}, {"name": "payload", "type": "bytes"},
                          {"name": "buyers", "type": "address[]"}, {"name": "ok", "type": "bool"},
                          {"name": "delta", "type": "int256"}]
            },
            "primaryType": "Order",
            "domain": domain,
            "message": {
                "items": [
                    {"id": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
                     "tag": format!("0x{}", "ab".repeat(32))},
                    {"id": 7, "tag": format!("0x{}", "00".repeat(32))}
                ],
                "payload": "0xdeadbeef",
                "buyers": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"],
                "ok": true,
                "delta": -42
            }
        }),
    ]
}

#[tokio::test]
async fn eth_account_and_solders_verify_our_signatures() {
    let mut ethereum = Vec::new();
    let mut solana = Vec::new();
    for message in messages() {
        let key = generate(ChainType::Ethereum).unwrap();
        let signature = personal_sign(&key.private_key, &message).unwrap();
        ethereum.push(json!({
            "address": key.address.as_str(),
            "message": hex::encode(&message),
            "signature": format!("0x{}", hex::encode(signature)),
        }));
        let key = generate(ChainType::Solana).unwrap();
        let signature = solana_sign_message(&key.private_key, &message).unwrap();
        solana.push(json!({
            "address": key.address.as_str(),
            "message": hex::encode(&message),
            "signature": bs58::encode(signature).into_string(),
        }));
    }
    let mut typed = Vec::new();
    for data in typed_data() {
        let key = generate(ChainType::Ethereum).unwrap();
        let signature = sign_typed_data(&key.private_key, &data).unwrap();
        typed.push(json!({
            "address": key.address.as_str(),
            "typed_data": data,
            "signature": format!("0x{}", hex::encode(signature)),
        }));
    }
    let cases: Value = json!({"ethereum": ethereum, "typed_data": typed, "solana": solana});
    assert_eq!(api_tests::signatures::verify(&cases).await, 12);
}
