//! Reading users: by id, by a unique identifier, and a page at a time.

use super::{Lookup, UsersError};
use crate::domain::paging;
use crate::model::{AppId, Handle, User, UserId, UserStatus};
use crate::ports::UserStore;

/// A page of users, newest first, and the cursor of the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<String>,
}

/// The user with `id`; ids of other apps' users are not found.
pub async fn get_user<S: UserStore>(store: &S, app: &AppId, id: &str) -> Result<User, UsersError> {
    let id = UserId::parse(id).ok_or(UsersError::NotFound)?;
    store.get_user(app, id).await?.ok_or(UsersError::NotFound)
}

/// The user holding the identifier a lookup names; for an email, `Taken` naming `email` if
/// that user's address is another mailbox that only shares its uniqueness key.
pub async fn find_user<S: UserStore>(
    store: &S,
    app: &AppId,
    lookup: &Lookup,
) -> Result<User, UsersError> {
    let owner = store.find_owner(app, lookup.identifier()).await?;
    let owner = owner.ok_or(UsersError::NotFound)?;
    let user = store
        .get_user(app, owner)
        .await?
        .ok_or(UsersError::NotFound)?;
    if let Some(presented) = &lookup.presented_email {
        super::require_same_mailbox(&user, presented, "email")?;
    }
    Ok(user)
}

/// The one user whose linked accounts carry `handle` (a username at a login provider).
/// Usernames are not unique: if two users carry it (one renamed since it linked), the lookup
/// is `Ambiguous`, naming both, rather than a guess.
pub async fn find_by_handle<S: UserStore>(
    store: &S,
    app: &AppId,
    handle: &Handle,
) -> Result<User, UsersError> {
    let ids = store.find_by_handle(app, handle, None, 2).await?;
    let mut users = carrying(store, app, handle, &ids).await?;
    match users.len() {
        0 => Err(UsersError::NotFound),
        1 => Ok(users.remove(0)),
        _ => Err(UsersError::Ambiguous(
            users
                .iter()
                .map(|user| ("username".to_owned(), user.id))
                .collect(),
        )),
    }
}

/// The users of `ids` that carry `handle`, in the order of `ids`: an index entry can outlive
/// the handle on its user by a moment (see `UserStore::find_by_handle`).
async fn carrying<S: UserStore>(
    store: &S,
    app: &AppId,
    handle: &Handle,
    ids: &[UserId],
) -> Result<Vec<User>, UsersError> {
    let reads = ids.iter().map(|id| store.get_user(app, *id));
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .filter(|user| user.handles().contains(handle))
        .collect())
}

/// What a listing keeps: users of a status, with a username, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub status: Option<UserStatus>,
    /// Compared case-folded ([`Handle::own`]).
    pub username: Option<String>,
}

/// A page of the app's users that pass `filter`. A cursor another app issued, or an altered
/// one, is refused. Paging only moves towards older users, so users created while a client
/// pages never shift the pages: no user that existed when paging began is skipped or repeated.
pub async fn list_users<S: UserStore>(
    store: &S,
    app: &AppId,
    limit: usize,
    cursor: Option<&str>,
    filter: &UserFilter,
) -> Result<UserPage, UsersError> {
    let before = match cursor {
        Some(cursor) => Some(
            paging::decode(app, cursor)
                .ok_or_else(|| UsersError::Invalid(vec![paging::bad_cursor()]))?,
        ),
        None => None,
    };
    let (users, next) = match &filter.username {
        Some(username) => {
            with_username(
                store,
                app,
                &Handle::own(username),
                before,
                limit,
                filter.status,
            )
            .await?
        }
        None => {
            let (users, more) = store.list_users(app, before, limit, filter.status).await?;
            let next = users.last().map(|last| last.id).filter(|_| more);
            (users, next)
        }
    };
    Ok(UserPage {
        users,
        next_cursor: next.map(|id| paging::encode(app, id)),
    })
}

/// A page of the users carrying `handle` (of `status`, if given), newest first, and the id to
/// continue below. Read through the username index and then each user: an entry whose user
/// no longer carries the handle, or is not of `status`, is skipped, so a page can hold fewer
/// than `limit` users and still be followed by another.
async fn with_username<S: UserStore>(
    store: &S,
    app: &AppId,
    handle: &Handle,
    before: Option<UserId>,
    limit: usize,
    status: Option<UserStatus>,
) -> Result<(Vec<User>, Option<UserId>), UsersError> {
    let mut ids = store.find_by_handle(app, handle, before, limit + 1).await?;
    let more = ids.len() > limit;
    ids.truncate(limit);
    let mut users = carrying(store, app, handle, &ids).await?;
    users.retain(|user| status.is_none_or(|status| user.status == status));
    Ok((users, ids.last().copied().filter(|_| more)))
}
