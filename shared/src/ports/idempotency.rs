//! What an `Idempotency-Key` needs kept: the key's record, the response it remembers, the
//! receipts of a batch's rows, and the store that keeps them.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::model::AppId;

/// A success as it is sent: status, body (empty for 204) and ETag. An `Idempotency-Key`
/// remembers exactly this, so that a replay is the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub status: u16,
    pub body: String,
    pub etag: Option<String>,
}

/// Where a key's request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    InProgress,
    Completed,
}

/// A remembered key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// What the request was: a hash of method, path and body.
    pub fingerprint: String,
    pub state: KeyState,
    /// Identifies the claim, so only its holder completes or releases it.
    pub token: String,
    /// Unix milliseconds until which an in-progress claim holds.
    pub locked_until_ms: u64,
    /// Unix seconds after which the key is forgotten (also the item's TTL).
    pub expires_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours to run the request under.
    Claimed,
    /// A live record holds the key.
    Held(KeyRecord),
}

/// Storage for idempotency keys.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` with `record` unless a live record holds it: the key is free, expired at
    /// `now_secs`, or an in-progress claim of the same fingerprint whose lock ended by `now_ms`.
    fn claim_key(
        &self,
        app: &AppId,
        key: &str,
        record: &KeyRecord,
        now_ms: u64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Stores the response of the claim `token`, unless a write completed it already.
    fn complete_key(
        &self,
        app: &AppId,
        key: &str,
        token: &str,
        response: &Rendered,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets the claim `token`, so the key can be used again, unless a write completed it.
    fn release_key(
        &self,
        app: &AppId,
        key: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The batch rows committed under `key` (any request's: the caller checks the fingerprint
    /// and expiry).
    fn row_receipts(
        &self,
        app: &AppId,
        key: &str,
    ) -> impl Future<Output = Result<Vec<RowReceipt>, StoreError>> + Send;
}

/// A row of a batch created under a key, kept until the key expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReceipt {
    pub app: AppId,
    pub key: String,
    pub index: usize,
    /// The request the row belongs to: a receipt counts only for the same request.
    pub fingerprint: String,
    /// Unix seconds: the receipt counts only while the key it was made under lives.
    pub expires_at: u64,
    /// The created user, as JSON.
    pub user: String,
}
