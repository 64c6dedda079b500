//! Deleting a user, keeping what a restore needs until its retention ends.

use std::time::Duration;

use super::{MAX_ATTEMPTS, UsersError};
use crate::clock;
use crate::domain::retry::{Next, retrying};
use crate::model::{AppId, UserId};
use crate::ports::{StoreError, UserStore, WriteError};

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
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        let user = store.get_user(app, id).await?.ok_or(UsersError::NotFound)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let purge_at = (now + retention).as_secs();
        match store
            .delete_user(app, &user, &clock::now_rfc3339(), purge_at)
            .await
        {
            Ok(()) => Ok(Next::Done(())),
            // The user changed since we read it: delete what it is now.
            // (A deletion commits no admission: the last does not happen.)
            Err(WriteError::Stale | WriteError::Contention | WriteError::AdmissionChanged) => {
                Ok(Next::BackOff)
            }
            Err(WriteError::Taken(_)) => Err(StoreError::Corrupt(
                format!("user {id} holds a guard it does not own").into(),
            )
            .into()),
            Err(WriteError::Store(error)) => Err(error.into()),
        }
    })
    .await
}
