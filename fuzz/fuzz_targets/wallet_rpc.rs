//! The signing path's readers: whatever a client sends to `POST …/wallets/{chain}/rpc`, and
//! whatever bytes claim to be a Solana transaction or EIP-712 typed data.
//!
//! Input: bytes taken as a JSON body for each chain, and as a serialized Solana transaction.
//!
//! Asserts: never panics; a refusal names at least one field; a parsed request is within the
//! bounds (messages at most 32 KiB, gas and fees under their caps, a chain id always present);
//! a Solana transaction that parses is signed only in a signer's slot and stays parseable
//! after signing; typed data either hashes or is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::domain::wallets::{sign, solana};
use shared::model::ChainType;
use shared::model::rpc::{self, RpcRequest};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<Value>(bytes) {
        for chain in ChainType::ALL {
            match rpc::parse_rpc(chain, &body) {
                Ok(request) => {
                    assert_eq!(request.method().chain(), chain);
                    match &request {
                        RpcRequest::PersonalSign { message }
                        | RpcRequest::SolanaSignMessage { message } => {
                            assert!(message.len() <= rpc::MAX_MESSAGE_BYTES);
                        }
                        RpcRequest::SignTypedData { typed_data } => {
                            let _ = sign::typed_data_hash(typed_data);
                        }
                        RpcRequest::SignTransaction { transaction }
                        | RpcRequest::SendTransaction { transaction } => {
                            assert!(transaction.gas_limit.unwrap_or(0) <= rpc::MAX_GAS_LIMIT);
                            for fee in [
                                transaction.gas_price,
                                transaction.max_fee_per_gas,
                                transaction.max_priority_fee_per_gas,
                            ] {
                                assert!(fee.unwrap_or(0) <= rpc::MAX_FEE_PER_GAS);
                            }
                        }
                        RpcRequest::SolanaSignTransaction { transaction }
                        | RpcRequest::SolanaSignAndSendTransaction { transaction, .. } => {
                            assert!(transaction.len() <= rpc::MAX_SOLANA_TRANSACTION_BYTES);
                        }
                    }
                }
                Err(errors) => assert!(!errors.is_empty(), "a refusal that names nothing"),
            }
        }
    }
    let _ = solana::is_transaction_message(bytes);
    if let Ok(tx) = solana::parse(bytes) {
        let _ = solana::effects(&tx, &[7u8; 32]);
        // A fixed seed: a transaction naming its public key as a signer gets signed.
        if let Ok(signed) = solana::sign(&[7u8; 32], tx) {
            assert!(solana::parse(&signed.raw).is_ok(), "a signed transaction that no longer parses");
        }
    }
});
