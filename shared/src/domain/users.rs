//! The user operations: create, get, look up, find-or-create. Storage-agnostic: they run on
//! any [`UserStore`], and their failures say what happened in domain terms.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::clock;
use crate::domain::paging;
use crate::model::new_user::MAX_EXTERNAL_ID_CHARS;
use crate::model::validation::{FieldError, check_text};
use crate::model::{AppId, EmailAddress, Identifier, NewUser, User, UserId, Wallet, WalletAddress};
use crate::ports::commit;
use crate::ports::{StoreError, UserStore, WriteError};

/// How often an operation retries after a transaction conflict before answering 503. Each
/// retry gets a definite answer unless yet another writer collides with it.
pub(crate) const MAX_ATTEMPTS: u32 = 6;

/// What went wrong in a user operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    #[error("user not found")]
    NotFound,
    /// Request fields whose identifiers other users hold.
    #[error("identifiers already held by other users")]
    Taken(Vec<String>),
    /// Request fields matching different existing users (find-or-create).
    #[error("identifiers match different users")]
    Ambiguous(Vec<(String, UserId)>),
    /// The request's values are invalid (for a change, as merged into the user).
    #[error("invalid values")]
    Invalid(Vec<FieldError>),
    /// `If-Match` named a version that is no longer current.
    #[error("the user changed since the given version")]
    PreconditionFailed,
    /// The linked account to unlink is not linked to the user.
    #[error("not linked")]
    NotLinked,
    /// Writers kept colliding; nothing was written.
    #[error("too much contention")]
    Contention,
    /// A batch row's identifiers repeat an earlier row's (each error names the field and the row).
    #[error("identifiers repeat an earlier row of the batch")]
    Repeats(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The unique identifier a lookup names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup(pub Identifier);

/// The query parameters a lookup may name, one at a time.
pub const LOOKUP_PARAMS: [&str; 3] = ["email", "external_id", "address"];
/// The query parameters of a listing.
pub const LIST_PARAMS: [&str; 2] = ["limit", "cursor"];
/// The default and largest page sizes.
pub const PAGE_LIMITS: (usize, usize) = (20, 100);

/// What `GET /v1/users` asks for: one user by a unique identifier, or a page of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersQuery {
    Lookup(Lookup),
    List {
        limit: usize,
        cursor: Option<String>,
    },
}

impl UsersQuery {
    /// Parses the query: exactly one of `email`, `external_id` or `address` (a lookup; an
    /// address may be of either chain, in any hex case for ethereum), or else `limit` (1-100,
    /// default 20) and `cursor` (a listing). Unknown or mixed parameters are refused.
    pub fn from_query(params: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let known = |name: &str| LOOKUP_PARAMS.contains(&name) || LIST_PARAMS.contains(&name);
        let unknown: Vec<FieldError> = params
            .iter()
            .filter(|(name, _)| !known(name))
            .map(|(name, _)| FieldError::new(name, "unknown query parameter"))
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let lookups: Vec<&(String, String)> = params
            .iter()
            .filter(|(name, _)| LOOKUP_PARAMS.contains(&name.as_str()))
            .collect();
        match lookups.as_slice() {
            [] => Self::list(params),
            [(name, value)] if params.len() == 1 => lookup_identifier(name, value)
                .map(|identifier| Self::Lookup(Lookup(identifier)))
                .map_err(|error| vec![error]),
            _ => Err(vec![FieldError::new(
                "",
                "give one of email, external_id or address to look a user up, or limit and \
                 cursor to list users",
            )]),
        }
    }

    fn list(params: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let (default, max) = PAGE_LIMITS;
        let mut limit = default;
        let mut cursor = None;
        for (name, value) in params {
            if name == "limit" {
                limit = paging::parse_limit(value, max).map_err(|error| vec![error])?;
            } else {
                cursor = Some(value.clone());
            }
        }
        Ok(Self::List { limit, cursor })
    }
}

/// A page of users, newest first, and the cursor of the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<String>,
}

/// A page of the app's users. A cursor another app issued, or an altered one, is refused.
/// Paging only moves towards older users, so users created while a client pages never shift
/// the pages: no user that existed when paging began is skipped or repeated.
pub async fn list_users<S: UserStore>(
    store: &S,
    app: &AppId,
    limit: usize,
    cursor: Option<&str>,
) -> Result<UserPage, UsersError> {
    let before = match cursor {
        Some(cursor) => Some(paging::decode(app, cursor).ok_or_else(|| {
            UsersError::Invalid(vec![FieldError::new(
                "cursor",
                "is not a cursor this API issued to your app",
            )])
        })?),
        None => None,
    };
    let (users, more) = store.list_users(app, before, limit).await?;
    let next_cursor = match users.last() {
        Some(last) if more => Some(paging::encode(app, last.id)),
        _ => None,
    };
    Ok(UserPage { users, next_cursor })
}

fn lookup_identifier(name: &str, value: &str) -> Result<Identifier, FieldError> {
    Ok(match name {
        "email" => Identifier::Email(EmailAddress::parse(name, value)?.key().to_owned()),
        "external_id" => {
            check_text(name, value, 1, MAX_EXTERNAL_ID_CHARS)?;
            Identifier::ExternalId(value.to_owned())
        }
        _ => {
            let address = WalletAddress::parse_any(value)
                .ok_or_else(|| FieldError::new(name, "must be an ethereum or solana address"))?;
            Identifier::Address(address.key())
        }
    })
}

/// Creates a user from a valid request: 409-style `Taken` naming each identifier that another
/// user holds. Either the user and all its guards are written, or nothing is.
pub async fn create_user<S: UserStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<User, UsersError> {
    let user = new_user_record(request);
    let fields = request.identifiers();
    let identifiers: Vec<Identifier> = fields.iter().map(|(_, id)| id.clone()).collect();
    for attempt in 0..MAX_ATTEMPTS {
        match store.insert_user(app, &user, &identifiers).await {
            Ok(()) => return Ok(user),
            Err(WriteError::Taken(taken)) => {
                let fields = taken
                    .into_iter()
                    .filter_map(|(index, _)| fields.get(index).map(|(field, _)| field.clone()))
                    .collect();
                return Err(UsersError::Taken(fields));
            }
            Err(WriteError::Contention | WriteError::Stale) => back_off(attempt).await,
            Err(WriteError::Store(error)) => return Err(error.into()),
        }
    }
    Err(UsersError::Contention)
}

/// The user with `id`; ids of other apps' users are not found.
pub async fn get_user<S: UserStore>(store: &S, app: &AppId, id: &str) -> Result<User, UsersError> {
    let id = UserId::parse(id).ok_or(UsersError::NotFound)?;
    store.get_user(app, id).await?.ok_or(UsersError::NotFound)
}

/// The user holding the identifier a lookup names.
pub async fn find_user<S: UserStore>(
    store: &S,
    app: &AppId,
    lookup: &Lookup,
) -> Result<User, UsersError> {
    let owner = store.find_owner(app, &lookup.0).await?;
    let owner = owner.ok_or(UsersError::NotFound)?;
    store
        .get_user(app, owner)
        .await?
        .ok_or(UsersError::NotFound)
}

/// Returns the one existing user the request's identifiers match (`false`), or creates one
/// (`true`). Identifiers matching two users are `Ambiguous`. An existing user is returned
/// as it is: find-or-create never modifies a user.
///
/// Racing calls converge: the loser of the create transaction re-reads the guards and returns
/// the winner, so every caller gets the same user and exactly one sees `true`.
pub async fn find_or_create_user<S: UserStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<(User, bool), UsersError> {
    let fields = request.identifiers();
    let identifiers: Vec<Identifier> = fields.iter().map(|(_, id)| id.clone()).collect();
    let user = new_user_record(request);
    for attempt in 0..MAX_ATTEMPTS {
        let owners = futures::future::try_join_all(
            identifiers
                .iter()
                .map(|identifier| store.find_owner(app, identifier)),
        )
        .await?;
        let matches: Vec<(String, UserId)> = fields
            .iter()
            .zip(&owners)
            .filter_map(|((field, _), owner)| owner.map(|owner| (field.clone(), owner)))
            .collect();
        let mut distinct: Vec<UserId> = matches.iter().map(|(_, id)| *id).collect();
        distinct.sort();
        distinct.dedup();
        match distinct.as_slice() {
            [] => match store.insert_user(app, &user, &identifiers).await {
                Ok(()) => return Ok((user, true)),
                // Someone else claimed an identifier since we read: read again to find them.
                Err(WriteError::Taken(_)) => {}
                Err(WriteError::Contention | WriteError::Stale) => back_off(attempt).await,
                Err(WriteError::Store(error)) => return Err(error.into()),
            },
            [owner] => {
                if let Some(existing) = store.get_user(app, *owner).await? {
                    return Ok((existing, false));
                }
                // The owner was deleted between the two reads: look again.
            }
            _ => return Err(UsersError::Ambiguous(matches)),
        }
    }
    Err(UsersError::Contention)
}

/// Deletes the user with `id`: the user and every guard it holds go in one transaction, so its
/// identifiers can be reused at once. Its sealed wallet keys (they may control funds) are kept,
/// marked deleted, with a tombstone of the user, until `retention` has passed; then DynamoDB's
/// TTL purges them. Within that time the admin CLI can restore the user.
pub async fn delete_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    retention: Duration,
) -> Result<(), UsersError> {
    let id = UserId::parse(id).ok_or(UsersError::NotFound)?;
    for attempt in 0..MAX_ATTEMPTS {
        let user = store.get_user(app, id).await?.ok_or(UsersError::NotFound)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let purge_at = (now + retention).as_secs();
        match store
            .delete_user(app, &user, &clock::now_rfc3339(), purge_at)
            .await
        {
            Ok(()) => return Ok(()),
            // The user changed since we read it: delete what it is now.
            Err(WriteError::Stale | WriteError::Contention) => back_off(attempt).await,
            Err(WriteError::Taken(_)) => {
                return Err(StoreError::Corrupt(format!(
                    "user {id} holds a guard it does not own"
                ))
                .into());
            }
            Err(WriteError::Store(error)) => return Err(error.into()),
        }
    }
    Err(UsersError::Contention)
}

/// The most users one batch may create.
pub const MAX_BATCH: usize = 100;
/// Creates of a batch in flight at once.
const BATCH_CONCURRENCY: usize = 10;

/// Parses a batch body `{"users": [ … ]}`: the batch itself must be well formed (else the
/// whole request is a 400); each item is parsed on its own, its errors named from the item.
pub fn parse_batch(body: &Value) -> Result<Vec<Result<NewUser, Vec<FieldError>>>, Vec<FieldError>> {
    let invalid = |message: String| vec![FieldError::new("users", message)];
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "the body must be an object: {\"users\": [...]}",
        )]);
    };
    if let Some(key) = object.keys().find(|key| *key != "users") {
        return Err(vec![FieldError::new(key, "unknown field; expected users")]);
    }
    let users = object
        .get("users")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("is required: an array of users to create".into()))?;
    if users.is_empty() || users.len() > MAX_BATCH {
        return Err(invalid(format!(
            "must hold 1 to {MAX_BATCH} users, got {}",
            users.len()
        )));
    }
    Ok(users.iter().map(NewUser::parse).collect())
}

/// Creates each valid user of a batch, atomically on its own: one failure never blocks the
/// others. An identifier that repeats an earlier item's is a conflict naming that item. Rows
/// in `committed` were created by an earlier run of the same request: their users are
/// returned as they were, not created again. Each row's create runs as that row
/// ([`commit::row`]), so under an idempotency key it commits a receipt of itself.
pub async fn create_users<S: UserStore>(
    store: &S,
    app: &AppId,
    items: &[Result<NewUser, Vec<FieldError>>],
    committed: &HashMap<usize, User>,
) -> Vec<Result<User, UsersError>> {
    let mut seen: Vec<(Identifier, usize)> = Vec::new();
    let mut plan: Vec<Result<&NewUser, UsersError>> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let planned = match item {
            Err(errors) => Err(UsersError::Invalid(errors.clone())),
            Ok(user) => {
                let repeats: Vec<FieldError> = user
                    .identifiers()
                    .into_iter()
                    .filter_map(|(field, identifier)| {
                        let (_, first) = seen.iter().find(|(seen, _)| *seen == identifier)?;
                        Some(FieldError::new(
                            field,
                            format!("repeats users[{first}] of this batch"),
                        ))
                    })
                    .collect();
                for (_, identifier) in user.identifiers() {
                    seen.push((identifier, index));
                }
                if repeats.is_empty() {
                    Ok(user)
                } else {
                    Err(UsersError::Repeats(repeats))
                }
            }
        };
        plan.push(planned);
    }
    let creates: Vec<_> = plan
        .into_iter()
        .enumerate()
        .map(|(index, planned)| async move {
            match (planned, committed.get(&index)) {
                (Ok(_), Some(user)) => Ok(user.clone()),
                (Ok(user), None) => commit::row(index, create_user(store, app, user)).await,
                (Err(error), _) => Err(error),
            }
        })
        .collect();
    futures::stream::iter(creates)
        .buffered(BATCH_CONCURRENCY)
        .collect()
        .await
}

fn new_user_record(request: &NewUser) -> User {
    let now = clock::now_rfc3339();
    User {
        id: UserId::generate(),
        external_id: request.external_id.clone(),
        email: request
            .email
            .as_ref()
            .map(|email| email.as_str().to_owned()),
        username: request.username.clone(),
        linked_accounts: request.linked_accounts.clone(),
        custom_metadata: request.custom_metadata.clone(),
        wallets: request
            .wallets
            .iter()
            .copied()
            .map(Wallet::pending)
            .collect(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    }
}

/// Jittered exponential back-off: 10, 20, 40… ms plus up to as much again at random, so that
/// colliding writers spread out instead of colliding again in lockstep.
pub(crate) async fn back_off(attempt: u32) {
    let base = 10u64 << attempt.min(6);
    let jitter = getrandom::u64().unwrap_or(0) % base;
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
