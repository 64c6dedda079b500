//! The record of a signature a wallet made: the audit trail, and the `user.wallet_signed`
//! event the stream makes of it.

use serde::{Deserialize, Serialize};

use super::{ChainType, UserId};

/// A signature as recorded: what was signed, by which wallet, at whose request. Never the
/// payload itself (a message may be private), only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    /// `sig_` and 32 hex digits.
    pub id: String,
    pub user_id: UserId,
    pub chain_type: ChainType,
    pub address: String,
    pub method: String,
    /// SHA-256 of what was signed (the message, typed data's signing hash, the unsigned
    /// transaction), hex.
    pub payload_hash: String,
    /// The transaction's hash (ethereum, 0x hex) or id (solana, base58), for transactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_hash: Option<String>,
    /// The EVM chain id, or the Solana cluster, of a transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Whether the request asked for it to be broadcast (it was, if the request succeeded).
    pub broadcast: bool,
    /// The API key that asked.
    pub key_id: String,
    pub created_at: String,
}
