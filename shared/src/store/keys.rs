//! The table's key layout. One table holds every entity; each gets its own partition so that
//! no app, however busy, concentrates writes on one key.
//!
//! | entity     | pk                                      | sk       |
//! |------------|-----------------------------------------|----------|
//! | user       | `APP#<app>#USER#<user id>`              | `USER`   |
//! | guard      | `APP#<app>#ID#<kind>#<value>`           | `GUARD`  |
//! | app        | `APP#<app>`                             | `APP`    |
//! | API key    | `APIKEY#<key id>`                       | `APIKEY` |
//! | wallet key | `APP#<app>#USER#<user id>` (the user's) | `WALLETKEY#<chain>` |
//! | idempotency key | `APP#<app>#IDEM#<key>`           | `IDEM`   |
//!
//! A guard's value comes last, so a `#` inside it cannot be confused with a separator.

use crate::model::{AppId, ChainType, Identifier, UserId};

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
/// The sort key of API key items.
pub const SK_API_KEY: &str = "APIKEY";

/// The sort key of a user's sealed wallet key on `chain`: beside the user, never read by the
/// API (which reads only `USER`).
pub fn wallet_key_sk(chain: ChainType) -> String {
    format!("WALLETKEY#{chain}")
}

/// The sort key of idempotency key records.
pub const SK_IDEMPOTENCY: &str = "IDEM";
/// The attribute DynamoDB's TTL deletes expired items by (Unix seconds).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The partition key of an app's idempotency key.
pub fn idempotency_pk(app: &AppId, key: &str) -> String {
    format!("APP#{app}#IDEM#{key}")
}

/// The partition key of a user.
pub fn user_pk(app: &AppId, id: UserId) -> String {
    format!("APP#{app}#USER#{id}")
}

/// The partition key of the guard that reserves `identifier` in `app`.
pub fn guard_pk(app: &AppId, identifier: &Identifier) -> String {
    format!("APP#{app}#ID#{}#{}", identifier.kind(), identifier.value())
}

/// The partition key of an app.
pub fn app_pk(app: &AppId) -> String {
    format!("APP#{app}")
}

/// The partition key of an API key.
pub fn api_key_pk(key_id: &str) -> String {
    format!("APIKEY#{key_id}")
}
