//! The record of a wallet's private key leaving the stack by break-glass export: the audit
//! trail, and the `user.wallet_key_exported` event the stream makes of it.

use serde::{Deserialize, Serialize};

use super::{ChainType, UserId};

/// One key exported: whose, to whom, why and by whom. Written before the key is opened, so no
/// key leaves without its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyExportRecord {
    /// `kx_` and 32 hex digits.
    pub id: String,
    pub user_id: UserId,
    pub chain_type: ChainType,
    pub address: String,
    /// The age recipient (public key) the export was encrypted to.
    pub recipient: String,
    /// Why, as the operator said (a ticket, an incident).
    pub reason: String,
    /// Who: the AWS principal that ran it (its ARN), or the local operator.
    pub operator: String,
    pub created_at: String,
}
