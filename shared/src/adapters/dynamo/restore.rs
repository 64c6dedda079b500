//! Deleted users: reading a tombstone, and writing the user back from it.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};

use super::DynamoStore;
use super::sdk::{build_error, conditional_put, from_item, to_item};
use super::users::{GuardItem, TombstoneItem, UserItem};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::user::DeletedUser;
use crate::model::{AppId, ChainType, Identifier, User, UserId};
use crate::ports::{Fault, KeysAtRestore, RestoreConflict, StoreError, WriteError};

impl DynamoStore {
    pub(super) async fn read_tombstone(
        &self,
        app: &AppId,
        id: UserId,
    ) -> Result<Option<DeletedUser>, StoreError> {
        let Some(item) = self
            .get_item(keys::user_pk(app, id), keys::SK_DELETED)
            .await?
        else {
            return Ok(None);
        };
        let tombstone: TombstoneItem = from_item(item)?;
        let user: User = serde_json::from_str(&tombstone.user).map_err(|e| {
            StoreError::Corrupt(Fault::caused_by(format!("the tombstone of {id}"), e))
        })?;
        Ok(Some(DeletedUser {
            user,
            deleted_at: tombstone.deleted_at,
            purge_at: tombstone.ttl,
            keys_left: tombstone.keys_left,
        }))
    }

    pub(super) async fn write_back(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        keys: KeysAtRestore<'_>,
        now_secs: u64,
    ) -> Result<(), RestoreConflict> {
        let mut items = vec![conditional_put(
            &self.table,
            to_item(&UserItem::new(app, user)?)?,
        )?];
        for identifier in identifiers {
            let guard = GuardItem::item(app, identifier, user.id)?;
            items.push(conditional_put(&self.table, guard)?);
        }
        // The tombstone must still be there, inside its retention, at the moment of the write:
        // checked by the transaction, not only by the caller's read. The keys go only after the
        // tombstone: the CLI, which may reach them, checks each is there all the same; the API
        // checks the tombstone is one that left them so (it may not reach them).
        let (sealed, left) = match keys {
            KeysAtRestore::Present(sealed) => (sealed, ""),
            KeysAtRestore::LeftByTheDelete => (&[][..], " AND keys_left = :true"),
        };
        let mut delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user.id)))
            .key(SK, AttributeValue::S(keys::SK_DELETED.to_owned()))
            .condition_expression(format!("attribute_exists(pk) AND #ttl > :now{left}"))
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now_secs.to_string()));
        if !left.is_empty() {
            delete = delete.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        let delete = delete.build().map_err(build_error)?;
        items.push(TransactWriteItem::builder().delete(delete).build());
        for chain in sealed {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::wallet_keys_pk(app, user.id)))
                .key(SK, AttributeValue::S(keys::wallet_key_sk(*chain)))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        // Unconditional, after every conditioned item: `taken`'s indices stay as read below.
        items.extend(self.handle_changes(app, user.id, &[], &user.handles())?);
        // With the request's idempotency key completed in the same transaction, if it has one.
        let written = self
            .send_user_write(items, user, |cancelled| {
                Self::decode_versioned(cancelled, "a restore")
            })
            .await;
        let taken = match written {
            Ok(()) => return Ok(()),
            // Index 0 is a fresh put of the user: it exists only if a restore came first.
            Err(WriteError::Stale) => return Err(RestoreConflict::Exists),
            Err(WriteError::Taken(taken)) => taken,
            // A restore commits no admission: only a conflict gets here.
            Err(WriteError::Contention | WriteError::AdmissionChanged) => {
                return Err(
                    StoreError::Unavailable("a restore met a concurrent write".into()).into(),
                );
            }
            Err(WriteError::Store(error)) => return Err(error.into()),
        };
        // `taken` indexes the items after the user: guards, then the tombstone, then the keys.
        let failed: Vec<usize> = taken.into_iter().map(|(index, _)| index).collect();
        let tombstone = identifiers.len();
        if failed.contains(&tombstone) {
            return Err(RestoreConflict::RetentionEnded);
        }
        let gone: Vec<ChainType> = failed
            .iter()
            .filter_map(|index| index.checked_sub(tombstone + 1))
            .filter_map(|index| sealed.get(index).copied())
            .collect();
        if !gone.is_empty() {
            return Err(RestoreConflict::KeysGone(gone));
        }
        Err(RestoreConflict::Taken(
            failed
                .into_iter()
                .filter(|index| *index < tombstone)
                .collect(),
        ))
    }
}
