//! What the signing path needs besides users and sealed keys: per-wallet nonce leases, daily
//! value totals, the record of signatures, and the chains' JSON-RPC nodes.

use std::future::Future;

use serde_json::Value;

use super::StoreError;
use crate::model::api_key::AppSettings;
pub use crate::model::key_export::KeyExportRecord;
pub use crate::model::signature::SignatureRecord;
use crate::model::{AppId, ChainType, SealedKey, User, UserId};

/// What signing with a wallet needs to read: the user, the wallet's sealed key, the app's
/// settings (networks, policy).
#[derive(Debug, Clone, Default)]
pub struct SignerRead {
    pub user: Option<User>,
    pub sealed: Option<SealedKey>,
    pub settings: AppSettings,
    /// The user's override of the app's signing policy.
    pub user_policy: Option<crate::model::policy::SigningPolicy>,
}

/// The audit trail of keys that left the stack (break-glass export, the admin CLI only).
pub trait KeyExportStore: Send + Sync {
    /// Records that `record`'s key is about to be exported, beside its user; it must be new.
    fn record_key_export(
        &self,
        app: &AppId,
        record: &KeyExportRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Nonce leases, daily totals and signature records.
pub trait SigningStore: Send + Sync {
    /// The user, its sealed key on `chain`, its policy override and its app's settings, read
    /// consistently in one
    /// round trip (the signing path's reads; the sealed key stays sealed until every check
    /// passed).
    fn read_signer(
        &self,
        app: &AppId,
        user: UserId,
        chain: ChainType,
    ) -> impl Future<Output = Result<SignerRead, StoreError>> + Send;

    /// Leases the next nonce of a wallet on `chain_id`: the node's pending count, or higher
    /// when earlier leases are not yet visible to the node. Two racing callers never get the
    /// same nonce (a conditional write decides). When the node's count has stayed below the
    /// leases for `stale_secs` without moving, a leased nonce never reached it (a gap): the
    /// node's count is leased again, to fill it.
    fn lease_nonce(
        &self,
        app: &AppId,
        user: UserId,
        chain_id: u64,
        node_nonce: u64,
        now_secs: u64,
        stale_secs: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Gives a leased nonce back after a send that did not reach the node, if no later lease
    /// was taken since.
    fn release_nonce(
        &self,
        app: &AppId,
        user: UserId,
        chain_id: u64,
        nonce: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds `amount` to the wallet's total on `network` for `day` (`YYYY-MM-DD`, UTC) unless
    /// the total would pass `limit`: `false` then, and nothing is added. One conditional write.
    fn reserve_daily(
        &self,
        app: &AppId,
        user: UserId,
        network: &str,
        day: &str,
        amount: u128,
        limit: u128,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes back a reservation whose transaction was not sent.
    fn refund_daily(
        &self,
        app: &AppId,
        user: UserId,
        network: &str,
        day: &str,
        amount: u128,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a signature (before it is returned or sent).
    fn record_signature(
        &self,
        app: &AppId,
        record: &SignatureRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why a node's answer did not come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The node answered with a JSON-RPC error (a transaction it will not take, …).
    #[error("{0}")]
    Rejected(String),
    /// The node could not be reached, timed out, or answered with something not JSON-RPC.
    #[error("{0}")]
    Unreachable(String),
    /// The URL leads somewhere the destination policy forbids.
    #[error("the network's rpc_url is not an allowed destination")]
    Refused,
}

/// A chain's JSON-RPC node, reached at the URL the app's network configures.
pub trait ChainNode: Send + Sync {
    /// Calls `method` with `params` and returns its `result`.
    fn call(
        &self,
        url: &str,
        method: &str,
        params: Value,
    ) -> impl Future<Output = Result<Value, NodeError>> + Send;
}
