//! Every store port in memory: a second implementation, not a mock. Each operation takes the
//! one lock, checks all of its conditions, then applies all of its writes, so it is atomic as
//! DynamoDB's conditional writes and transactions are, and it honours the same conditions (a
//! guard per identifier, versions, the idempotency claim's token, the delivery lease). The
//! behaviour suite runs the user operations against this and against DynamoDB Local alike.
//!
//! What it does not model: capacity, throttling, transaction conflicts between writers (the
//! lock serialises them), TTL expiry, and the stream (nothing here produces change records).
//! For tests, local tools and examples; no function ships with it.

mod access;
mod apps;
mod idempotency;
mod users;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::access::{AccessKey, AllowEntry, Invitation};
use crate::model::api_key::AppRecord;
use crate::model::event::UserEvent;
use crate::model::rate_limit::RateLimit;
use crate::model::user::DeletedUser;
use crate::model::webhook::{Attempt, Endpoint};
use crate::model::{ApiKeyRecord, AppId, ChainType, Identifier, SealedKey, User, UserId};
use crate::ports::StoreError;
use crate::ports::commit::RowReceipt;
use crate::ports::idempotency::KeyRecord;

/// The in-memory store. Clones share their tables, as clones of a DynamoDB client share its
/// table.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
    rate_limit: RateLimit,
}

impl Default for MemoryStore {
    /// An empty store with no practical rate limit (unit tests make requests in bursts).
    fn default() -> Self {
        Self {
            tables: Arc::default(),
            rate_limit: RateLimit {
                per_second: u32::MAX,
            },
        }
    }
}

/// The (endpoint, event) pair's delivery record.
#[derive(Debug, Clone, Default)]
struct Delivery {
    lease: Option<(String, u64)>,
    delivered_at: Option<String>,
}

/// What the store holds; the items DynamoDB keeps, by the same keys.
#[derive(Debug, Default)]
struct Tables {
    users: HashMap<(AppId, UserId), User>,
    guards: HashMap<(AppId, Identifier), UserId>,
    tombstones: HashMap<(AppId, UserId), DeletedUser>,
    wallet_keys: HashMap<(AppId, UserId, ChainType), SealedKey>,
    /// Sealed client secrets, by key id (apart from the key records, as in DynamoDB).
    client_secrets: HashMap<String, SealedKey>,
    apps: HashMap<AppId, (AppRecord, Vec<String>)>,
    user_policies: HashMap<(AppId, UserId), crate::model::policy::SigningPolicy>,
    api_keys: HashMap<String, ApiKeyRecord>,
    /// Signed requests seen, by key id and signature digest: until when each is remembered.
    sightings: HashMap<(String, String), u64>,
    /// Requests (and other spending) counted, by app and counter.
    request_counts: HashMap<(AppId, String), u32>,
    /// Calls of the counter per app, refused ones included (what a DynamoDB bill counts).
    counter_calls: HashMap<AppId, u32>,
    idempotency: HashMap<(AppId, String), KeyRecord>,
    receipts: BTreeMap<(AppId, String, usize), RowReceipt>,
    endpoints: BTreeMap<(AppId, String), Endpoint>,
    endpoint_counts: HashMap<AppId, u32>,
    events: HashMap<String, UserEvent>,
    deliveries: HashMap<(String, String), Delivery>,
    attempts: HashMap<String, Vec<Attempt>>,
    allowlist: BTreeMap<(AppId, String), AllowEntry>,
    invitations: BTreeMap<(AppId, String), Invitation>,
    /// The open invitation of each identifier.
    open_invitations: HashMap<(AppId, AccessKey), String>,
    /// Accepted invitations not counted on their inviter yet.
    to_count: std::collections::BTreeSet<(AppId, String)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// This store, limiting each app to `limit`.
    pub fn with_rate_limit(self, limit: RateLimit) -> Self {
        Self {
            rate_limit: limit,
            ..self
        }
    }

    /// How many times `app`'s requests reached the counter, refusals included.
    pub fn requests_counted(&self, app: &AppId) -> u32 {
        let tables = self.tables();
        tables.counter_calls.get(app).copied().unwrap_or(0)
    }

    /// The tables, locked for one operation. A panic while they were held (a bug) leaves them
    /// as they were before that operation's writes, which are applied only after its checks.
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every user, with its app.
    pub fn users(&self) -> Vec<(AppId, User)> {
        let tables = self.tables();
        tables
            .users
            .iter()
            .map(|((app, _), user)| (app.clone(), user.clone()))
            .collect()
    }

    /// Every identifier guard: its app, its identifier, and the user holding it.
    pub fn guards(&self) -> Vec<(AppId, Identifier, UserId)> {
        let tables = self.tables();
        tables
            .guards
            .iter()
            .map(|((app, identifier), user)| (app.clone(), identifier.clone(), *user))
            .collect()
    }

    /// Every item of the store (API keys without their last use), described in one line each
    /// and sorted: a snapshot for tests that check a refused request changed nothing.
    pub fn snapshot(&self) -> Vec<String> {
        let tables = self.tables();
        let mut lines: Vec<String> = Vec::new();
        lines.extend(tables.users.values().map(|u| format!("user {u:?}")));
        lines.extend(
            tables
                .guards
                .iter()
                .map(|(k, v)| format!("guard {k:?} {v}")),
        );
        lines.extend(tables.tombstones.iter().map(|(k, t)| {
            format!(
                "tombstone {k:?} {} {} {:?}",
                t.deleted_at, t.purge_at, t.user
            )
        }));
        lines.extend(
            tables
                .wallet_keys
                .iter()
                .map(|(k, e)| format!("key {k:?} {e:?}")),
        );
        lines.extend(
            tables
                .idempotency
                .iter()
                .map(|(k, r)| format!("idem {k:?} {r:?}")),
        );
        lines.extend(tables.receipts.values().map(|r| format!("row {r:?}")));
        lines.extend(tables.endpoints.values().map(|e| format!("endpoint {e:?}")));
        lines.extend(tables.allowlist.values().map(|e| format!("allow {e:?}")));
        lines.extend(
            tables
                .invitations
                .values()
                .map(|i| format!("invitation {i:?}")),
        );
        lines.extend(
            tables
                .open_invitations
                .iter()
                .map(|(k, id)| format!("open invitation {k:?} {id}")),
        );
        lines.extend(tables.to_count.iter().map(|k| format!("to count {k:?}")));
        lines.extend(
            tables
                .apps
                .values()
                .map(|(app, keys)| format!("app {app:?} {keys:?}")),
        );
        // A key's last use is left out: any authenticated request may refresh it.
        lines.extend(tables.api_keys.values().map(|record| {
            let mut record = record.clone();
            record.last_used_at = None;
            format!("api key {record:?}")
        }));
        lines.extend(
            tables
                .client_secrets
                .iter()
                .map(|(key_id, sealed)| format!("client secret {key_id} {sealed:?}")),
        );
        lines.sort();
        lines
    }
}

/// An item that does not hold what this store wrote.
fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into().into())
}
