//! A committed change of a user, as the table's stream reports it: the table is the outbox,
//! and the stream consumers (the event publisher, the wallet creator) read these.

use super::key_export::KeyExportRecord;
use super::signature::SignatureRecord;
use super::webhook::Endpoint;
use super::{AppId, User, UserId};

/// What a change did to the user item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created (a new user, an import, a restore).
    Insert,
    Modify,
    Remove,
}

/// A user item's images in one change: before it (none for an insert) and after it (none for a
/// removal), each with its app.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChange {
    pub kind: ChangeKind,
    pub old: Option<(AppId, User)>,
    pub new: Option<(AppId, User)>,
    /// When the change was committed (RFC 3339, to the second).
    pub committed_at: String,
}

/// A record that cannot be understood: retrying it will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed stream record {record_id}: {reason}")]
pub struct PoisonRecord {
    pub record_id: String,
    pub reason: String,
}

/// One record of a batch as the domain sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    /// The record's id, for logs.
    pub id: String,
    /// What the batch response names to have the record retried.
    pub sequence: String,
    /// The item the record concerns: records of one item are handled in order.
    pub item: String,
    /// The user change it carries; `None` for a record of another kind of item (keys, guards,
    /// apps, events, deliveries).
    pub change: Result<Option<UserChange>, PoisonRecord>,
    /// A signature record written (its app and the record): the one other item whose
    /// insertion is an event.
    pub signature: Option<(AppId, SignatureRecord)>,
    /// A key export recorded (break-glass): an insertion that is an event too.
    pub key_export: Option<(AppId, KeyExportRecord)>,
    /// A webhook endpoint registered (its app and the endpoint, whose secrets the event never
    /// carries): an insertion that is an event too.
    pub endpoint: Option<(AppId, Endpoint)>,
    /// A deleted user's tombstone removed (its app and id): by DynamoDB's TTL when the
    /// retention ended, or by a restore. Either way its sealed keys may now go, if the user is
    /// not back: see [`crate::ports::WalletStore::purge_wallet_keys`].
    pub tombstone_removed: Option<(AppId, UserId)>,
}

impl ChangeRecord {
    /// A poison record naming this record.
    pub fn poison(&self, reason: impl Into<String>) -> PoisonRecord {
        PoisonRecord {
            record_id: self.id.clone(),
            reason: reason.into(),
        }
    }
}
