//! Restoring a deleted user from its tombstone (the admin CLI).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::DynamoStore;
use super::sdk::{build_error, conditional_put, from_item, to_item};
use super::users::{GuardItem, TombstoneItem, UserItem};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::{AppId, User, UserId};
use crate::ports::{StoreError, WriteError};

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

impl DynamoStore {
    /// Restores a deleted user from its tombstone, within the retention period: the user item
    /// and its guards come back, its sealed keys lose their deletion mark, the tombstone goes.
    /// Fails with `Taken` (naming identifiers) if another user took one meanwhile, and changes
    /// nothing once the retention has ended or if a ready wallet's sealed key is gone.
    pub async fn restore_user(
        &self,
        app: &AppId,
        id: UserId,
        now: &str,
    ) -> Result<User, RestoreError> {
        let item = self
            .get_item(keys::user_pk(app, id), keys::SK_DELETED)
            .await?
            .ok_or(RestoreError::NotDeleted)?;
        let tombstone: TombstoneItem = from_item(item)?;
        let now_secs = crate::clock::now_ms() / 1000;
        if tombstone.ttl <= now_secs {
            return Err(RestoreError::RetentionEnded {
                purge_at: tombstone.ttl,
            });
        }
        let mut user: User = serde_json::from_str(&tombstone.user)
            .map_err(|e| StoreError::Corrupt(format!("tombstone of {id}: {e}").into()))?;
        user.version += 1;
        user.updated_at = now.to_owned();
        let identifiers = user.identifier_fields();
        let mut items = vec![conditional_put(
            &self.table,
            to_item(&UserItem::new(app, &user)?)?,
        )?];
        for (_, identifier) in &identifiers {
            let guard = GuardItem::item(app, identifier, id)?;
            items.push(conditional_put(&self.table, guard)?);
        }
        // The tombstone and every sealed key must still be there, inside their retention, at
        // the moment of the write: checked by the transaction, not only by the read above.
        let live = "attribute_exists(pk) AND #ttl > :now";
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, id)))
            .key(SK, AttributeValue::S(keys::SK_DELETED.to_owned()))
            .condition_expression(live)
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now_secs.to_string()))
            .build()
            .map_err(build_error)?;
        items.push(TransactWriteItem::builder().delete(delete).build());
        let sealed: Vec<_> = user
            .wallets
            .iter()
            .filter(|w| w.address.is_some())
            .collect();
        for wallet in &sealed {
            let update = Update::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::user_pk(app, id)))
                .key(
                    SK,
                    AttributeValue::S(keys::wallet_key_sk(wallet.chain_type)),
                )
                .update_expression("REMOVE deleted_at, #ttl")
                .condition_expression(live)
                .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
                .expression_attribute_values(":now", AttributeValue::N(now_secs.to_string()))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        let taken = match self.transact(items, "a restore").await {
            Ok(()) => return Ok(user),
            // Index 0 is a fresh put of the user: it cannot exist while the tombstone does.
            Err(WriteError::Stale) => return Err(RestoreError::NotDeleted),
            Err(WriteError::Taken(taken)) => taken,
            Err(WriteError::Contention) => {
                return Err(StoreError::Unavailable("contention".into()).into());
            }
            Err(WriteError::Store(error)) => return Err(error.into()),
        };
        // `taken` indexes the items after the user: guards, then the tombstone, then the keys.
        let failed: Vec<usize> = taken.into_iter().map(|(index, _)| index).collect();
        let tombstone_index = identifiers.len();
        if failed.contains(&tombstone_index) {
            return Err(RestoreError::RetentionEnded {
                purge_at: tombstone.ttl,
            });
        }
        let gone: Vec<String> = failed
            .iter()
            .filter_map(|index| index.checked_sub(tombstone_index + 1))
            .filter_map(|index| sealed.get(index))
            .map(|wallet| wallet.chain_type.to_string())
            .collect();
        if !gone.is_empty() {
            return Err(RestoreError::KeysGone(gone));
        }
        Err(RestoreError::Taken(
            failed
                .into_iter()
                .filter_map(|index| identifiers.get(index).map(|(field, _)| field.clone()))
                .collect(),
        ))
    }
}
