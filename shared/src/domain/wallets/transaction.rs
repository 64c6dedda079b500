//! Ethereum transactions: the envelope, its signing hash and its wire encoding come from
//! `alloy-consensus` (EIP-155 for legacy, EIP-1559 type 2); we only sign the hash with the
//! wallet's key ([`super::sign::sign_hash`]).

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, Signature, TxKind, U256};

use super::keys::KeyError;
use super::sign::sign_hash;
use crate::model::rpc::{EthTransaction, TransactionKind};

/// A signed transaction: what a node takes (`eth_sendRawTransaction`) and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The EIP-2718 encoding (a legacy transaction's RLP, or `0x02 ‖ rlp` for type 2).
    pub raw: Vec<u8>,
    pub hash: [u8; 32],
}

/// Why a transaction cannot be signed yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// Fields a signature needs that neither the request nor a node filled in.
    #[error("missing {0:?}")]
    Incomplete(Vec<&'static str>),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The fields a complete transaction lacks.
pub fn missing_fields(tx: &EthTransaction) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if tx.nonce.is_none() {
        missing.push("nonce");
    }
    if tx.gas_limit.is_none() {
        missing.push("gas_limit");
    }
    match tx.kind {
        TransactionKind::Legacy if tx.gas_price.is_none() => missing.push("gas_price"),
        TransactionKind::Eip1559 => {
            if tx.max_fee_per_gas.is_none() {
                missing.push("max_fee_per_gas");
            }
            if tx.max_priority_fee_per_gas.is_none() {
                missing.push("max_priority_fee_per_gas");
            }
        }
        TransactionKind::Legacy => {}
    }
    missing
}

/// The most a transaction can take from the wallet: its value and all its gas at the highest
/// price it offers (what it lacks counts as nothing).
pub fn max_cost(tx: &EthTransaction) -> U256 {
    let price = tx.max_fee_per_gas.or(tx.gas_price).unwrap_or_default();
    let gas = U256::from(tx.gas_limit.unwrap_or_default()) * U256::from(price);
    tx.value.saturating_add(gas)
}

/// Signs a complete transaction with an ethereum private key.
pub fn sign_transaction(
    private_key: &[u8],
    tx: &EthTransaction,
) -> Result<SignedTransaction, TransactionError> {
    let missing = missing_fields(tx);
    if !missing.is_empty() {
        return Err(TransactionError::Incomplete(missing));
    }
    let to = tx.to.map_or(TxKind::Create, TxKind::Call);
    let input = Bytes::copy_from_slice(&tx.data);
    let (nonce, gas_limit) = (
        tx.nonce.unwrap_or_default(),
        tx.gas_limit.unwrap_or_default(),
    );
    let envelope: TxEnvelope = match tx.kind {
        TransactionKind::Legacy => {
            let unsigned = TxLegacy {
                chain_id: Some(tx.chain_id),
                nonce,
                gas_price: tx.gas_price.unwrap_or_default(),
                gas_limit,
                to,
                value: tx.value,
                input,
            };
            let signature = signature(private_key, &unsigned.signature_hash().0)?;
            unsigned.into_signed(signature).into()
        }
        TransactionKind::Eip1559 => {
            let unsigned = TxEip1559 {
                chain_id: tx.chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: tx.max_fee_per_gas.unwrap_or_default(),
                max_priority_fee_per_gas: tx.max_priority_fee_per_gas.unwrap_or_default(),
                to,
                value: tx.value,
                access_list: Default::default(),
                input,
            };
            let signature = signature(private_key, &unsigned.signature_hash().0)?;
            unsigned.into_signed(signature).into()
        }
    };
    Ok(SignedTransaction {
        raw: envelope.encoded_2718(),
        hash: envelope.tx_hash().0,
    })
}

/// Our recoverable signature as alloy's: `r`, `s` and the parity of `y`.
fn signature(private_key: &[u8], hash: &[u8; 32]) -> Result<Signature, KeyError> {
    let bytes = sign_hash(private_key, hash)?;
    let r = U256::from_be_slice(&bytes[..32]);
    let s = U256::from_be_slice(&bytes[32..64]);
    Ok(Signature::new(r, s, (bytes[64] - 27) & 1 == 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::Transaction;
    use alloy_eips::eip2718::Decodable2718;
    use alloy_primitives::Address;

    fn key() -> Vec<u8> {
        hex::decode("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318").unwrap()
    }

    fn transaction(kind: TransactionKind) -> EthTransaction {
        EthTransaction {
            kind,
            chain_id: 31337,
            to: Some(Address::repeat_byte(0xde)),
            value: U256::from(10u64.pow(18)),
            data: vec![1, 2, 3],
            nonce: Some(4),
            gas_limit: Some(21_000),
            gas_price: (kind == TransactionKind::Legacy).then_some(2_000_000_000),
            max_fee_per_gas: (kind == TransactionKind::Eip1559).then_some(3_000_000_000),
            max_priority_fee_per_gas: (kind == TransactionKind::Eip1559).then_some(1),
        }
    }

    #[test]
    fn signed_transactions_decode_and_recover_the_wallet() {
        for kind in [TransactionKind::Legacy, TransactionKind::Eip1559] {
            let signed = sign_transaction(&key(), &transaction(kind)).unwrap();
            let decoded = TxEnvelope::decode_2718(&mut signed.raw.as_slice()).unwrap();
            let signature = decoded.signature();
            let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(
                decoded.signature_hash().as_slice(),
                &k256::ecdsa::Signature::from_slice(&signature.as_bytes()[..64]).unwrap(),
                k256::ecdsa::RecoveryId::from_byte(u8::from(signature.v())).unwrap(),
            )
            .unwrap();
            let expected = *k256::ecdsa::SigningKey::from_slice(&key())
                .unwrap()
                .verifying_key();
            assert_eq!(recovered, expected, "{kind:?}");
            assert_eq!(decoded.tx_hash().0, signed.hash);
            assert_eq!(decoded.chain_id(), Some(31337));
        }
    }

    #[test]
    fn the_most_a_transaction_costs_counts_its_gas_at_its_highest_price() {
        let tx = transaction(TransactionKind::Eip1559);
        assert_eq!(
            max_cost(&tx),
            U256::from(10u64.pow(18)) + U256::from(21_000u64 * 3_000_000_000)
        );
        let legacy = transaction(TransactionKind::Legacy);
        assert_eq!(
            max_cost(&legacy),
            U256::from(10u64.pow(18)) + U256::from(21_000u64 * 2_000_000_000)
        );
    }

    #[test]
    fn an_incomplete_transaction_names_what_it_lacks() {
        let mut tx = transaction(TransactionKind::Eip1559);
        tx.nonce = None;
        tx.max_fee_per_gas = None;
        assert_eq!(
            sign_transaction(&key(), &tx),
            Err(TransactionError::Incomplete(vec![
                "nonce",
                "max_fee_per_gas"
            ]))
        );
    }
}
