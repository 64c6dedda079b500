//! Disabling and enabling a user: the app's switch for a user it no longer lets in. Both are
//! idempotent; the user keeps everything it holds, and stays found by every lookup.

use super::UsersError;
use super::change::{Precondition, change_user};
use crate::model::validation::check_text;
use crate::model::{AppId, User, UserStatus, user::MAX_DISABLED_REASON};
use crate::ports::UserStore;

/// Disables the user, saying why if `reason` is given. Disabling a disabled user changes only
/// its reason (if a different one is given): `disabled_at` keeps the first time.
pub async fn disable_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    reason: Option<&str>,
) -> Result<User, UsersError> {
    if let Some(reason) = reason {
        check_text("reason", reason, 1, MAX_DISABLED_REASON)
            .map_err(|error| UsersError::Invalid(vec![error]))?;
    }
    change_user(store, app, id, Precondition::None, |current| {
        let mut user = current.clone();
        if user.status == UserStatus::Active {
            // change_user stamps `disabled_at` with the change's time.
            user.status = UserStatus::Disabled;
            user.disabled_reason = None;
        }
        if let Some(reason) = reason {
            user.disabled_reason = Some(reason.to_owned());
        }
        Ok(user)
    })
    .await
    .map(|(user, _)| user)
}

/// Enables the user again: `active`, with no `disabled_at` or reason. Enabling an active user
/// changes nothing.
pub async fn enable_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<User, UsersError> {
    change_user(store, app, id, Precondition::None, |current| {
        Ok(User {
            status: UserStatus::Active,
            disabled_at: None,
            disabled_reason: None,
            ..current.clone()
        })
    })
    .await
    .map(|(user, _)| user)
}
