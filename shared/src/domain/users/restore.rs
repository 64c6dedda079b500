//! Restoring a deleted user within its retention (the admin CLI).

use crate::clock;
use crate::model::{AppId, ChainType, Identifier, User, UserId};
use crate::ports::{RestoreConflict, StoreError, UserStore, WalletStore};

/// Why a deleted user could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("no deleted user with that id in its retention period")]
    NotDeleted,
    #[error("identifiers taken by other users since the delete: {0:?}")]
    Taken(Vec<String>),
    /// The tombstone is still there, but its retention has ended (DynamoDB's TTL deletes lag).
    #[error("the retention of this deleted user ended at {purge_at} (Unix seconds)")]
    RetentionEnded { purge_at: u64 },
    /// A ready wallet's sealed key is gone: restoring would show a wallet nothing can sign for.
    #[error("the sealed keys of wallets {0:?} are gone")]
    KeysGone(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Restores a deleted user from its tombstone, within the retention period: the user and its
/// guards come back (as a new version), the tombstone goes, and its sealed keys stay. `Taken`
/// names the identifiers another user took meanwhile; nothing changes once the retention has
/// ended or if a ready wallet's sealed key is gone. Keys a stack from before kept beside the
/// user (and marked to expire with the tombstone) move to their own partition first, unmarked:
/// so a restored user's keys cannot expire.
pub async fn restore_user<S: UserStore + WalletStore>(
    store: &S,
    app: &AppId,
    id: UserId,
) -> Result<User, RestoreError> {
    let deleted = store
        .get_deleted_user(app, id)
        .await?
        .ok_or(RestoreError::NotDeleted)?;
    let purge_at = deleted.purge_at;
    let now_secs = clock::now_ms() / 1000;
    if purge_at <= now_secs {
        return Err(RestoreError::RetentionEnded { purge_at });
    }
    store.move_legacy_wallet_keys(app, id, now_secs).await?;
    let mut user = deleted.user;
    user.version += 1;
    user.updated_at = clock::now_after(&user.updated_at);
    let fields = user.identifier_fields();
    let identifiers: Vec<Identifier> = fields.iter().map(|(_, id)| id.clone()).collect();
    let sealed: Vec<ChainType> = user
        .wallets
        .iter()
        .filter(|w| w.address.is_some())
        .map(|w| w.chain_type)
        .collect();
    match store
        .restore_user(app, &user, &identifiers, &sealed, now_secs)
        .await
    {
        Ok(()) => Ok(user),
        Err(RestoreConflict::Exists) => Err(RestoreError::NotDeleted),
        Err(RestoreConflict::RetentionEnded) => Err(RestoreError::RetentionEnded { purge_at }),
        Err(RestoreConflict::KeysGone(chains)) => Err(RestoreError::KeysGone(
            chains.iter().map(ToString::to_string).collect(),
        )),
        Err(RestoreConflict::Taken(taken)) => Err(RestoreError::Taken(
            taken
                .into_iter()
                .filter_map(|index| fields.get(index).map(|(field, _)| field.clone()))
                .collect(),
        )),
        Err(RestoreConflict::Store(error)) => Err(error.into()),
    }
}
