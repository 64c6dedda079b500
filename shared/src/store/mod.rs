//! Storage: the narrow traits the domain needs, and their DynamoDB implementation.
//!
//! The domain sees users, identifiers and keys; item layouts, conditions and SDK errors stay
//! in [`dynamo`]. Uniqueness is never checked by reading first: [`UserStore::insert_user`]
//! writes the user and one guard per identifier in a single conditional transaction.

use std::future::Future;

use crate::auth::ApiKeyRecord;
use crate::model::{AppId, Identifier, User, UserId};

pub mod dynamo;
pub mod keys;
pub mod schema;

pub use dynamo::DynamoStore;

/// A storage failure, classified by what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable: the same request may succeed later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item in the table does not have the shape we write.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission).
    #[error("store failure: {0}")]
    Other(String),
}

/// Why a user could not be inserted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// Identifiers already held by other users: indexes into the identifiers given, with the
    /// holder when the store reported it.
    #[error("{} identifier(s) already taken", .0.len())]
    Taken(Vec<(usize, Option<UserId>)>),
    /// Another transaction touched the same items at the same moment; nothing was written and
    /// a retry will get a definite answer.
    #[error("transaction conflict")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users and their identifier guards.
pub trait UserStore: Send + Sync {
    /// Writes `user` and claims every identifier for it, all or nothing.
    fn insert_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
    ) -> impl Future<Output = Result<(), InsertError>> + Send;

    /// The user with `id` in `app`, read consistently.
    fn get_user(
        &self,
        app: &AppId,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The user holding `identifier` in `app`, read consistently.
    fn find_owner(
        &self,
        app: &AppId,
        identifier: &Identifier,
    ) -> impl Future<Output = Result<Option<UserId>, StoreError>> + Send;
}

/// Apps and their API keys.
pub trait AppStore: Send + Sync {
    /// The key record with `key_id`, read consistently so a revocation takes effect at once.
    fn get_api_key(
        &self,
        key_id: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;
}
