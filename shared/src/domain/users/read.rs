//! Reading users: by id, by a unique identifier, and a page at a time.

use super::{Lookup, UsersError};
use crate::domain::paging;
use crate::model::validation::FieldError;
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
    match store.find_by_handle(app, handle, 2).await?.as_slice() {
        [] => Err(UsersError::NotFound),
        [one] => store.get_user(app, *one).await?.ok_or(UsersError::NotFound),
        many => Err(UsersError::Ambiguous(
            many.iter().map(|id| ("username".to_owned(), *id)).collect(),
        )),
    }
}

/// A page of the app's users (of `status`, if given). A cursor another app issued, or an altered one, is refused.
/// Paging only moves towards older users, so users created while a client pages never shift
/// the pages: no user that existed when paging began is skipped or repeated.
pub async fn list_users<S: UserStore>(
    store: &S,
    app: &AppId,
    limit: usize,
    cursor: Option<&str>,
    status: Option<UserStatus>,
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
    let (users, more) = store.list_users(app, before, limit, status).await?;
    let next_cursor = match users.last() {
        Some(last) if more => Some(paging::encode(app, last.id)),
        _ => None,
    };
    Ok(UserPage { users, next_cursor })
}
