//! Restoring a deleted user within its retention: over the API, and by the admin CLI (which
//! alone restores users a stack from before deleted).

use crate::clock;
use crate::model::user::DeletedUser;
use crate::model::{AppId, ChainType, Identifier, User, UserId};
use crate::ports::{KeysAtRestore, RestoreConflict, StoreError, UserStore, WalletStore};

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
    /// Deleted by a stack from before, which marked its sealed keys to expire: only the admin
    /// CLI (`restore-user`), which may reach the keys, can keep them.
    #[error(
        "this user was deleted before the upgrade that keeps sealed keys untouched; restore \
         it with the admin CLI (restore-user), which moves its keys"
    )]
    NeedsAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Restores a deleted user from its tombstone, within the retention period: the user and its
/// guards come back (as a new version), the tombstone goes, and its sealed keys stay. `Taken`
/// names the identifiers another user took meanwhile; nothing changes once the retention has
/// ended or if a ready wallet's sealed key is gone. Keys a stack from before kept beside the
/// user (and marked to expire with the tombstone) move to their own partition first, unmarked:
/// so a restored user's keys cannot expire. The admin CLI's: it reads and moves sealed keys.
pub async fn restore_user<S: UserStore + WalletStore>(
    store: &S,
    app: &AppId,
    id: UserId,
) -> Result<User, RestoreError> {
    let deleted = live_tombstone(store, app, id).await?;
    store
        .move_legacy_wallet_keys(app, id, clock::now_ms() / 1000)
        .await?;
    let sealed: Vec<ChainType> = deleted
        .user
        .wallets
        .iter()
        .filter(|w| w.address.is_some())
        .map(|w| w.chain_type)
        .collect();
    write_back(store, app, deleted, KeysAtRestore::Present(&sealed)).await
}

/// Restores a deleted user as [`restore_user`] does, without reaching its sealed keys (the
/// API's functions may not): only a user whose delete left its keys untouched, which go only
/// after the tombstone this removes. Others are `NeedsAdmin`.
pub async fn restore_deleted_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<User, RestoreError> {
    let id = UserId::parse(id).ok_or(RestoreError::NotDeleted)?;
    let deleted = live_tombstone(store, app, id).await?;
    if !deleted.keys_left {
        return Err(RestoreError::NeedsAdmin);
    }
    write_back(store, app, deleted, KeysAtRestore::LeftByTheDelete).await
}

/// The user's tombstone, if its retention has not ended.
async fn live_tombstone<S: UserStore>(
    store: &S,
    app: &AppId,
    id: UserId,
) -> Result<DeletedUser, RestoreError> {
    let deleted = store
        .get_deleted_user(app, id)
        .await?
        .ok_or(RestoreError::NotDeleted)?;
    if deleted.purge_at <= clock::now_ms() / 1000 {
        return Err(RestoreError::RetentionEnded {
            purge_at: deleted.purge_at,
        });
    }
    Ok(deleted)
}

/// Writes the user back as a new version, all or nothing (see [`UserStore::restore_user`]).
async fn write_back<S: UserStore>(
    store: &S,
    app: &AppId,
    deleted: DeletedUser,
    keys: KeysAtRestore<'_>,
) -> Result<User, RestoreError> {
    let purge_at = deleted.purge_at;
    let mut user = deleted.user;
    user.version += 1;
    user.updated_at = clock::now_after(&user.updated_at);
    let fields = user.identifier_fields();
    let identifiers: Vec<Identifier> = fields.iter().map(|(_, id)| id.clone()).collect();
    let now_secs = clock::now_ms() / 1000;
    match store
        .restore_user(app, &user, &identifiers, keys, now_secs)
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
