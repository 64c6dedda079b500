//! The table's key layout. One table holds every entity; each gets its own partition so that
//! no app, however busy, concentrates writes on one key.
//!
//! | entity     | pk                                      | sk       |
//! |------------|-----------------------------------------|----------|
//! | user       | `APP#<app>#USER#<user id>`              | `USER`   |
//! | guard      | `APP#<app>#ID#<kind>#<value>`           | `GUARD`  |
//! | app        | `APP#<app>`                             | `APP`    |
//! | API key    | `APIKEY#<key id>`                       | `APIKEY` |
//! | client secret | `CLIENTSECRET#<key id>`             | `SECRET` |
//! | wallet key | `WALLETKEY#<app>#<user id>`             | `WALLETKEY#<chain>` |
//! | signing policy override | the user's                  | `POLICY` |
//! | nonce lease | the user's                             | `NONCE#<chain id>` |
//! | daily value total | the user's                       | `SPENT#<network>#<day>` |
//! | signature record | the user's                        | `SIG#<time>#<signature id>` |
//! | key export record | the user's                       | `EXPORT#<time>#<export id>` |
//! | idempotency key | `APP#<app>#IDEM#<key>`           | `IDEM`   |
//! | batch row receipt | the key's                      | `ROW#<index>` |
//! | deleted user | the user's (kept until its TTL)     | `DELETED` |
//! | webhook endpoint | `APP#<app>` (the app's)             | `WEBHOOK#<endpoint id>` |
//! | event      | `EVENT#<event id>`                      | `EVENT`  |
//! | a user's event, in its timeline | `APP#<app>#USEREVENTS#<user id>` | `<created_at>#<event id>` |
//! | delivery lease and mark | `WEBHOOK#<endpoint id>`    | `DELIVERED#<event id>` |
//! | delivery attempt | `WEBHOOK#<endpoint id>`           | `ATTEMPT#<time>#<event id>` |
//! | allowlist entry | `APP#<app>#ALLOWLIST`              | `<entry id>` |
//! | invitation | `APP#<app>#INVITATIONS`                 | `<invitation id>` |
//! | open invitation of an identifier | `APP#<app>#INVITE#<kind>#<value>` | `INVITE` |
//! | export of the users | `APP#<app>#EXPORTJOB#<export id>` | `EXPORTJOB` |
//!
//! Sealed wallet keys and sealed client secrets live in partitions of their own, apart from
//! their user and their API key, under prefixes nothing else uses ([`WALLET_KEYS_PREFIX`],
//! [`CLIENT_SECRET_PREFIX`]): IAM can then keep them out of reach of every function that
//! does not need them (`dynamodb:LeadingKeys` conditions match partition keys only). Stacks
//! from before kept wallet keys beside the user (`APP#<app>#USER#<id>`, same sort key) and
//! client secrets inside the API key item; the readers still look there, and the CLI's
//! `migrate-secrets` moves them.
//!
//! An app's endpoints share its partition (a handful of small items, read together). Events
//! get a partition each: they are written at the rate users change. An endpoint's attempts
//! share its partition, read newest first; every event and attempt item expires by TTL.
//!
//! The `users-by-app` index lists an app's users newest first: `gsi1pk` is the app plus one of
//! [`USER_LIST_SHARDS`] shards (chosen by the user id), `gsi1sk` the user id (a UUIDv7, so it
//! sorts by creation). Sharding spreads an app's creates over several index partitions instead
//! of one hot key; a page queries every shard and merges. A disabled user moves to one more
//! partition of the index, `APP#<app>#USERS#DISABLED` (disabling is rare; one key suffices):
//! listing by status then queries only the partitions of that status, and a page of disabled
//! users costs one query however many active users the app has.
//!
//! A guard's value comes last, so a `#` inside it cannot be confused with a separator.

use crate::model::access::AccessKey;
use crate::model::{AppId, ChainType, Identifier, UserId, UserStatus};

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// The sort key of user items.
pub const SK_USER: &str = "USER";
/// The sort key of identifier guards.
pub const SK_GUARD: &str = "GUARD";
/// The sort key of app items.
pub const SK_APP: &str = "APP";
/// The sort key of a user's override of its app's signing policy (beside the user).
pub const SK_USER_POLICY: &str = "POLICY";
/// The sort key of API key items.
pub const SK_API_KEY: &str = "APIKEY";

/// What every partition key of sealed wallet keys starts with, and nothing else's does.
pub const WALLET_KEYS_PREFIX: &str = "WALLETKEY#";
/// What every partition key of sealed client secrets starts with, and nothing else's does.
pub const CLIENT_SECRET_PREFIX: &str = "CLIENTSECRET#";

/// The partition of a user's sealed wallet keys (one item per chain).
pub fn wallet_keys_pk(app: &AppId, user: UserId) -> String {
    format!("{WALLET_KEYS_PREFIX}{app}#{user}")
}

/// The sort key of a user's sealed wallet key on `chain` (in [`wallet_keys_pk`], and beside
/// the user in stacks from before: see the module's notes).
pub fn wallet_key_sk(chain: ChainType) -> String {
    format!("{SK_WALLET_KEY_PREFIX}{chain}")
}

/// What the sort key of every sealed wallet key starts with.
pub const SK_WALLET_KEY_PREFIX: &str = "WALLETKEY#";

/// The partition of an API key's sealed client secret.
pub fn client_secret_pk(key_id: &str) -> String {
    format!("{CLIENT_SECRET_PREFIX}{key_id}")
}

/// The sort key of a sealed client secret.
pub const SK_CLIENT_SECRET: &str = "SECRET";

/// The index that lists an app's users, and its key attributes.
pub const USERS_BY_APP_INDEX: &str = "users-by-app";
/// The index's partition key attribute.
pub const GSI1_PK: &str = "gsi1pk";
/// The index's sort key attribute.
pub const GSI1_SK: &str = "gsi1sk";
/// Write shards per app in the listing index. Each index partition takes about 1,000 writes a
/// second, so 8 shards let one app create about 8,000 users a second.
pub const USER_LIST_SHARDS: u8 = 8;

/// The listing index partition of a user.
pub fn user_list_pk(app: &AppId, id: UserId, status: UserStatus) -> String {
    if status == UserStatus::Disabled {
        return disabled_users_pk(app);
    }
    let shard = id
        .as_bytes()
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        % USER_LIST_SHARDS;
    user_list_shard_pk(app, shard)
}

/// The listing index partition of an app's disabled users.
pub fn disabled_users_pk(app: &AppId) -> String {
    format!("APP#{app}#USERS#DISABLED")
}

/// The listing index partition `shard` of an app's active users.
pub fn user_list_shard_pk(app: &AppId, shard: u8) -> String {
    format!("APP#{app}#USERS#{shard}")
}

/// The sort key of a deleted user's tombstone (what a restore needs).
pub const SK_DELETED: &str = "DELETED";

/// The sort key of idempotency key records.
pub const SK_IDEMPOTENCY: &str = "IDEM";
/// The sort key prefix of a batch row's receipt, in its idempotency key's partition.
pub const SK_ROW_PREFIX: &str = "ROW#";
/// The attribute DynamoDB's TTL deletes expired items by (Unix seconds).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The partition key of an app's idempotency key.
pub fn idempotency_pk(app: &AppId, key: &str) -> String {
    format!("APP#{app}#IDEM#{key}")
}

/// The sort key of an export job.
pub const SK_EXPORT_JOB: &str = "EXPORTJOB";

/// The partition key of an export job.
pub fn export_job_pk(app: &AppId, id: &str) -> String {
    format!("APP#{app}#EXPORTJOB#{id}")
}

/// The partition key of a user.
pub fn user_pk(app: &AppId, id: UserId) -> String {
    format!("APP#{app}#USER#{id}")
}

/// The partition key of the guard that reserves `identifier` in `app`.
pub fn guard_pk(app: &AppId, identifier: &Identifier) -> String {
    format!("APP#{app}#ID#{}#{}", identifier.kind(), identifier.value())
}

/// The partition key of a handle's index entries: one item per user carrying it.
pub fn handle_pk(app: &AppId, handle: &crate::model::Handle) -> String {
    format!("APP#{app}#HANDLE#{}#{}", handle.kind, handle.username)
}

/// The sort key of a user's entry under a handle.
pub fn handle_sk(user: UserId) -> String {
    format!("USER#{user}")
}

/// The partition key of an app.
pub fn app_pk(app: &AppId) -> String {
    format!("APP#{app}")
}

/// The partition key of an API key.
pub fn api_key_pk(key_id: &str) -> String {
    format!("APIKEY#{key_id}")
}

/// The partition key of a signed request seen under a key (its signature's digest).
pub fn sighting_pk(key_id: &str, digest: &str) -> String {
    format!("APIKEY#{key_id}#SEEN#{digest}")
}

/// The partition key of one of an app's counters for one window (e.g. `requests#<second>`):
/// one item per window, so each window's writes land on a fresh item, expired by TTL.
pub fn request_counter_pk(app: &AppId, counter: &str) -> String {
    format!("RATE#{app}#{counter}")
}

/// The sort key of a request counter.
pub const SK_REQUEST_COUNTER: &str = "RATE";

/// The sort key of a sighting.
pub const SK_SIGHTING: &str = "SEEN";

/// The sort key of an app's endpoint.
pub fn endpoint_sk(id: &str) -> String {
    format!("WEBHOOK#{id}")
}

/// The partition of an endpoint's delivery records.
pub fn endpoint_pk(id: &str) -> String {
    format!("WEBHOOK#{id}")
}

/// The partition key of an event.
pub fn event_pk(id: &str) -> String {
    format!("EVENT#{id}")
}

/// The partition of a user's timeline: a copy of each of its events, sorted by time.
pub fn user_events_pk(app: &AppId, user: UserId) -> String {
    format!("APP#{app}#USEREVENTS#{user}")
}

/// The partition of an app's allowlist (entries sort by id: a digest of their identifier).
pub fn allowlist_pk(app: &AppId) -> String {
    format!("APP#{app}#ALLOWLIST")
}

/// The partition of an app's invitations (ids are UUIDv7s: they sort by creation).
pub fn invitations_pk(app: &AppId) -> String {
    format!("APP#{app}#INVITATIONS")
}

/// The listing index partition of the invitations one user made.
pub fn inviter_pk(app: &AppId, inviter: UserId) -> String {
    format!("APP#{app}#INVITER#{inviter}")
}

/// The partition of the open invitation of an identifier: at most one, read with the
/// allowlist in one batch when a user comes in.
pub fn open_invitation_pk(app: &AppId, key: &AccessKey) -> String {
    format!("APP#{app}#INVITE#{}#{}", key.kind.as_str(), key.value)
}

/// The sort key of an open invitation's item.
pub const SK_OPEN_INVITATION: &str = "INVITE";

/// The key read at start-up to open the connection: no item ever has it.
pub const WARM_UP_PK: &str = "WARMUP";

/// The sort key of event items.
pub const SK_EVENT: &str = "EVENT";
