//! The ports: the narrow traits the domain needs from storage and the services around it, and
//! their error types. Implementations live in [`crate::adapters`] (DynamoDB, KMS, SQS,
//! EventBridge, and an in-memory one of each store).
//!
//! The domain sees users, identifiers and keys; item layouts, conditions and SDK errors stay
//! in the adapters. Uniqueness is never checked by reading first: [`UserStore::insert_user`]
//! writes the user and one guard per identifier in a single conditional transaction.

use std::future::Future;

pub use fault::Fault;

use crate::model::api_key::AppRecord;
use crate::model::event::{Event, UserEvent};
use crate::model::network::WalletNetwork;
use crate::model::user::DeletedUser;
use crate::model::webhook::{Attempt, DeliveryClaim, Endpoint, LeaseRequest};
use crate::model::{
    ApiKeyRecord, AppId, ChainType, Handle, Identifier, SealedKey, User, UserId, UserStatus,
    WalletAddress,
};

pub mod access;
pub mod commit;
pub mod export;
pub mod fault;
pub mod idempotency;
pub mod publisher;
pub mod queue;
pub mod sealer;
pub mod sender;
pub mod signing;

/// A storage failure, classified by what the caller can do about it. Each keeps its
/// [`Fault`]: our description, and the adapter's error that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// Throttled, timed out or unreachable: the same request may succeed later.
    Unavailable(Fault),
    /// An item in the table does not have the shape we write.
    Corrupt(Fault),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission).
    Other(Fault),
}

impl StoreError {
    /// The fault, whatever the class.
    pub fn fault(&self) -> &Fault {
        match self {
            Self::Unavailable(fault) | Self::Corrupt(fault) | Self::Other(fault) => fault,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let class = match self {
            Self::Unavailable(_) => "store unavailable",
            Self::Corrupt(_) => "corrupt item",
            Self::Other(_) => "store failure",
        };
        write!(f, "{class}: {}", self.fault())
    }
}

/// The fault's cause is the source: the chain reads "store unavailable: what: cause...".
impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.fault()
            .cause()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// Why a user could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Identifiers already held by other users: indexes into the identifiers given, with the
    /// holder when the store reported it.
    #[error("{} identifier(s) already taken", .0.len())]
    Taken(Vec<(usize, Option<UserId>)>),
    /// Another transaction touched the same items at the same moment; nothing was written and
    /// a retry will get a definite answer.
    #[error("transaction conflict")]
    Contention,
    /// The user changed (or went) since it was read: read again.
    #[error("the user changed since it was read")]
    Stale,
    /// What the write's [`access::Admission`] was read from changed: an invitation is no longer
    /// open, or an allowlist entry is gone. Read the admission again.
    #[error("the admission changed since it was read")]
    AdmissionChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a restore's transaction checks of the user's sealed wallet keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysAtRestore<'a> {
    /// The keys of these chains are each still there: the admin CLI, which may reach them.
    Present(&'a [ChainType]),
    /// The tombstone is one a delete wrote leaving the keys untouched, with no expiry of their
    /// own ([`DeletedUser::keys_left`]): the API, which may not reach them. Such keys go only
    /// once the tombstone is gone ([`WalletStore::purge_wallet_keys`]), so a restore that
    /// removes the tombstone finds them there.
    LeftByTheDelete,
}

/// Why a deleted user could not be written back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreConflict {
    /// The tombstone is gone, or past its retention at the moment of the write (or, for
    /// [`KeysAtRestore::LeftByTheDelete`], not one that left the keys).
    #[error("the tombstone is gone or past its retention")]
    RetentionEnded,
    /// The sealed keys of these chains are gone.
    #[error("sealed keys gone: {0:?}")]
    KeysGone(Vec<ChainType>),
    /// Identifiers other users hold: indexes into the identifiers given.
    #[error("{} identifier(s) taken", .0.len())]
    Taken(Vec<usize>),
    /// The user exists: it was restored already.
    #[error("the user exists")]
    Exists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users and their identifier guards.
pub trait UserStore: Send + Sync {
    /// Writes `user` and claims every identifier for it, with its admission, all or nothing.
    fn insert_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        admission: &access::Admission,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;

    /// Replaces the user with `user` if it is still at `expected_version`, claiming the
    /// identifiers it gains and releasing those it loses, with its admission (an invitation a
    /// link claims), all or nothing; its handles index follows from `handles_before` (the
    /// replaced version's [`User::handles`]) to the new user's.
    #[allow(clippy::too_many_arguments)]
    fn replace_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: u64,
        claim: &[Identifier],
        release: &[Identifier],
        admission: &access::Admission,
        handles_before: &[Handle],
    ) -> impl Future<Output = Result<(), WriteError>> + Send;

    /// The user with `id` in `app`, read consistently.
    fn get_user(
        &self,
        app: &AppId,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Deletes the user (still at its version) and every guard it holds, keeping a tombstone
    /// to expire at `purge_at` (Unix seconds). Its sealed wallet keys are not touched here
    /// (the deleting function cannot reach them): they go when the tombstone does, see
    /// [`WalletStore::purge_wallet_keys`].
    fn delete_user(
        &self,
        app: &AppId,
        user: &User,
        deleted_at: &str,
        purge_at: u64,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;

    /// A page of the app's users (of `status`, if given), newest first: at most `limit`, all
    /// created before `before` if given, and whether more follow.
    fn list_users(
        &self,
        app: &AppId,
        before: Option<UserId>,
        limit: usize,
        status: Option<UserStatus>,
    ) -> impl Future<Output = Result<(Vec<User>, bool), StoreError>> + Send;

    /// Up to `limit` users of `app` that carry `handle` (usernames are not unique), newest
    /// first, all created before `before` if given. An entry can outlive the handle on its
    /// user by a moment (see `reindex_handles`): callers read the user and compare.
    fn find_by_handle(
        &self,
        app: &AppId,
        handle: &Handle,
        before: Option<UserId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<UserId>, StoreError>> + Send;

    /// The user holding `identifier` in `app`, read consistently.
    fn find_owner(
        &self,
        app: &AppId,
        identifier: &Identifier,
    ) -> impl Future<Output = Result<Option<UserId>, StoreError>> + Send;

    /// What a deletion of the user kept (until its retention ends), read consistently.
    fn get_deleted_user(
        &self,
        app: &AppId,
        id: UserId,
    ) -> impl Future<Output = Result<Option<DeletedUser>, StoreError>> + Send;

    /// Writes a deleted user back, all or nothing: the user (still absent) and a guard per
    /// identifier (each free), the tombstone removed on condition that it is still there and
    /// inside its retention at `now_secs`, and its sealed keys as `keys` says.
    fn restore_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        keys: KeysAtRestore<'_>,
        now_secs: u64,
    ) -> impl Future<Output = Result<(), RestoreConflict>> + Send;
}

/// Apps and their API keys.
pub trait AppStore: Send + Sync {
    /// The key record with `key_id`, read consistently so a revocation takes effect at once.
    fn get_api_key(
        &self,
        key_id: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;

    /// The sealed client secret of `record`'s key, if it has one: stored apart from the key
    /// record (which every function reads to authenticate), where only the functions that
    /// sign with it may read it. Keys stored before that hold it in the record itself.
    fn client_secret_of(
        &self,
        record: &ApiKeyRecord,
    ) -> impl Future<Output = Result<Option<SealedKey>, StoreError>> + Send;

    /// Records that the key was used at `now`, unless a use after `cutoff` is already recorded
    /// (a racing request got there first).
    fn note_api_key_use(
        &self,
        key_id: &str,
        now: &str,
        cutoff: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the first sighting of a signed request (`digest` of its signature) under
    /// `key_id`, remembered until `expires_at` (Unix seconds): `true` the first time, `false`
    /// for a replay. One conditional write, so two racing copies cannot both be first.
    fn first_sighting(
        &self,
        key_id: &str,
        digest: &str,
        expires_at: u64,
        now_secs: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The requests each app may make per second, as this deployment configures it.
    fn rate_limit(&self) -> crate::model::rate_limit::RateLimit;

    /// Counts `amount` on `app`'s `counter` for `window` unless that would pass `limit`: the
    /// count including them, or `None` (nothing counted) when it would. One conditional
    /// increment, so racing requests cannot together pass the limit. The counter may be
    /// forgotten after `expires_at` (Unix seconds).
    fn count_request(
        &self,
        app: &AppId,
        counter: crate::model::rate_limit::Counter,
        amount: u32,
        limit: u32,
        expires_at: u64,
    ) -> impl Future<Output = Result<Option<u32>, StoreError>> + Send;
}

/// Creating apps and managing their keys: the admin CLI's operations.
pub trait AppAdmin: Send + Sync {
    /// Creates an app (its id must be new).
    fn create_app(&self, app: &AppRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The app with `app_id`, if it exists.
    fn get_app(
        &self,
        app_id: &AppId,
    ) -> impl Future<Output = Result<Option<AppRecord>, StoreError>> + Send;

    /// Stores a new key, its sealed client secret (apart from it) and records it on its app,
    /// all or nothing (the app must exist).
    fn add_api_key(
        &self,
        record: &ApiKeyRecord,
        client_secret: &SealedKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every key of an app, oldest first, revoked ones included.
    fn list_api_keys(
        &self,
        app_id: &AppId,
    ) -> impl Future<Output = Result<Vec<ApiKeyRecord>, StoreError>> + Send;

    /// Revokes a key of `app_id` at `now`. `false` if the app has no such live key.
    fn revoke_api_key(
        &self,
        app_id: &AppId,
        key_id: &str,
        now: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What counting a failed wallet attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletAttempt {
    /// Counted; `failed` once the attempts reached the bound and the wallet was marked so.
    Counted { attempts: u32, failed: bool },
    /// The wallet is no longer pending (another delivery settled it): nothing to count.
    Settled,
}

/// A created wallet, as a store completes it.
#[derive(Debug, Clone, Copy)]
pub struct ReadyWallet<'a> {
    pub address: &'a WalletAddress,
    pub created_at: &'a str,
    pub sealed: &'a SealedKey,
    /// The networks it shows (see [`crate::model::network::for_wallet`]).
    pub networks: &'a [WalletNetwork],
}

/// Embedded wallets: their state on the user item, and their sealed keys.
pub trait WalletStore: Send + Sync {
    /// Makes the pending wallet at `index` ready, all or nothing: stores the sealed key,
    /// claims the address, and updates the wallet entry. `false` if the wallet was no longer
    /// pending (a duplicate or late delivery): nothing is written then.
    fn complete_wallet(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        ready: &ReadyWallet<'_>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts a failed attempt on the pending wallet at `index`, recording `error_code`; marks
    /// the wallet `failed` once `max_attempts` is reached.
    fn record_wallet_failure(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        chain: ChainType,
        error_code: &str,
        max_attempts: u32,
    ) -> impl Future<Output = Result<WalletAttempt, StoreError>> + Send;

    /// The sealed key of a user's wallet on `chain`: never shown by the API.
    fn get_sealed_key(
        &self,
        app: &AppId,
        user: UserId,
        chain: ChainType,
    ) -> impl Future<Output = Result<Option<SealedKey>, StoreError>> + Send;

    /// Deletes every sealed key of a user gone for good: neither the user nor its tombstone
    /// exists, checked in the same transaction (a user restored, or deleted again and so
    /// restorable, keeps its keys). `false` when the keys were kept.
    fn purge_wallet_keys(
        &self,
        app: &AppId,
        user: UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Moves a user's sealed keys from where stacks before kept them (beside the user) to
    /// their own partition, dropping a deletion's expiry mark (one past `now_secs` deletes the
    /// key instead). How many keys moved; nothing to move is `0`.
    fn move_legacy_wallet_keys(
        &self,
        app: &AppId,
        user: UserId,
        now_secs: u64,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Why an endpoint could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointLimitError {
    /// The app has as many endpoints as it may.
    #[error("the app has {0} endpoints, the most it may have")]
    LimitReached(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Webhook endpoints, the events sent to them, and the record of deliveries.
pub trait WebhookStore: Send + Sync {
    /// Adds an endpoint unless the app already has `max` of them (counted on the app item in
    /// the same transaction, so racing registrations cannot exceed it).
    fn insert_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        max: u32,
    ) -> impl Future<Output = Result<(), EndpointLimitError>> + Send;

    /// The app's endpoints, oldest first.
    fn list_endpoints(
        &self,
        app: &AppId,
    ) -> impl Future<Output = Result<Vec<Endpoint>, StoreError>> + Send;

    /// One endpoint of the app.
    fn get_endpoint(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<Option<Endpoint>, StoreError>> + Send;

    /// Replaces the endpoint if it is still at `expected_version`; `false` if it changed or
    /// went.
    fn replace_endpoint(
        &self,
        app: &AppId,
        endpoint: &Endpoint,
        expected_version: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the endpoint; `false` if the app had none with that id.
    fn delete_endpoint(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Keeps an event for redelivery (until its retention ends). Storing it again is a no-op.
    fn put_event(&self, event: &UserEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An event of the app.
    fn get_event(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<Option<UserEvent>, StoreError>> + Send;

    /// Claims the (endpoint, event) pair for one send, with one conditional write: granted when
    /// no live lease is held and (unless `lease.redelivery`) the event was not delivered yet; a
    /// lease past its end is taken over.
    fn claim_delivery(
        &self,
        endpoint_id: &str,
        event_id: &str,
        lease: &LeaseRequest,
    ) -> impl Future<Output = Result<DeliveryClaim, StoreError>> + Send;

    /// Records an attempt and releases the lease `lease_token` holds, in one transaction; an
    /// attempt that delivered also marks the event delivered to the endpoint.
    fn record_attempt(
        &self,
        endpoint_id: &str,
        attempt: &Attempt,
        lease_token: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The endpoint's most recent attempts, newest first.
    fn list_attempts(
        &self,
        endpoint_id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Attempt>, StoreError>> + Send;

    /// A user's kept events, newest first (by `created_at`, then id): at most `limit` of
    /// those before the position `before` (see [`crate::model::event::timeline_position`]),
    /// and whether there are more.
    fn list_user_events(
        &self,
        app: &AppId,
        user: crate::model::UserId,
        before: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<(Vec<Event>, bool), StoreError>> + Send;
}
