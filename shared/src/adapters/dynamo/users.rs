//! Users and their identifier guards: every change one transaction.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::sdk::{build_error, classify, conditional_put, from_item, plain_put, to_item};
use super::{Cancellation, DynamoStore, Item};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::access::Onboarding;
use crate::model::user::DeletedUser;
use crate::model::{AppId, Handle, Identifier, LinkedAccount, User, UserId, UserStatus, Wallet};
use crate::ports::access::Admission;
use crate::ports::commit::{self};
use crate::ports::{KeysAtRestore, RestoreConflict, StoreError, UserStore, WriteError};

/// A user as stored: the API's user plus keys, tenancy and a version. `custom_metadata` is
/// kept as JSON text so it round-trips exactly (DynamoDB numbers would not).
#[derive(Serialize, Deserialize)]
pub(super) struct UserItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) entity: String,
    pub(super) app_id: AppId,
    pub(super) id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) username: Option<String>,
    pub(super) linked_accounts: Vec<LinkedAccount>,
    pub(super) custom_metadata: String,
    pub(super) wallets: Vec<Wallet>,
    #[serde(default)]
    pub(super) status: UserStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) disabled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) onboarding: Option<Onboarding>,
    #[serde(default)]
    pub(super) users_onboarded: u64,
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) version: u64,
    pub(super) gsi1pk: String,
    pub(super) gsi1sk: String,
}

impl UserItem {
    pub(super) fn new(app: &AppId, user: &User) -> Result<Self, StoreError> {
        Ok(Self {
            pk: keys::user_pk(app, user.id),
            sk: keys::SK_USER.to_owned(),
            entity: "user".to_owned(),
            app_id: app.clone(),
            id: user.id,
            external_id: user.external_id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            linked_accounts: user.linked_accounts.clone(),
            custom_metadata: serde_json::to_string(&user.custom_metadata)
                .map_err(|e| StoreError::Other(e.to_string().into()))?,
            wallets: user.wallets.clone(),
            status: user.status,
            disabled_at: user.disabled_at.clone(),
            disabled_reason: user.disabled_reason.clone(),
            onboarding: user.onboarding.clone(),
            users_onboarded: user.users_onboarded,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
            version: user.version,
            gsi1pk: keys::user_list_pk(app, user.id, user.status),
            gsi1sk: user.id.to_string(),
        })
    }

    pub(super) fn into_user(self) -> Result<User, StoreError> {
        let custom_metadata = serde_json::from_str(&self.custom_metadata).map_err(|e| {
            StoreError::Corrupt(format!("custom_metadata of user {}: {e}", self.id).into())
        })?;
        Ok(User {
            id: self.id,
            external_id: self.external_id,
            email: self.email,
            username: self.username,
            linked_accounts: self.linked_accounts,
            custom_metadata,
            wallets: self.wallets,
            status: self.status,
            disabled_at: self.disabled_at,
            disabled_reason: self.disabled_reason,
            onboarding: self.onboarding,
            users_onboarded: self.users_onboarded,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// The app and user a stream image of a user item holds (the images in Lambda's DynamoDB
/// events), as the API shows the user.
pub fn user_from_image(image: serde_dynamo::Item) -> Result<(AppId, User), StoreError> {
    let item: UserItem =
        serde_dynamo::from_item(image).map_err(|e| StoreError::Corrupt(e.to_string().into()))?;
    let app = item.app_id.clone();
    Ok((app, item.into_user()?))
}

/// The item that reserves one identifier for one user.
#[derive(Serialize, Deserialize)]
pub(super) struct GuardItem {
    pub(super) pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    kind: String,
    pub(super) user_id: UserId,
}

impl GuardItem {
    /// The guard of `identifier` in `app`, held by `user`, as an item.
    pub(super) fn item(
        app: &AppId,
        identifier: &Identifier,
        user: UserId,
    ) -> Result<Item, StoreError> {
        to_item(&Self {
            pk: keys::guard_pk(app, identifier),
            sk: keys::SK_GUARD.to_owned(),
            entity: "guard".to_owned(),
            app_id: app.clone(),
            kind: identifier.kind().to_owned(),
            user_id: user,
        })
    }
}

/// How a user write's items are laid out after the user's: claimed guards, released guards,
/// then the admission's items.
struct WriteShape {
    claimed: usize,
    released: usize,
    admission: usize,
}

/// A user's entry in the index of a handle it carries.
#[derive(Serialize, Deserialize)]
struct HandleItem {
    pk: String,
    sk: String,
    entity: String,
    user_id: UserId,
}

/// What remains of a deleted user until its retention ends: enough to restore it.
#[derive(Serialize, Deserialize)]
pub(super) struct TombstoneItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) entity: String,
    pub(super) app_id: AppId,
    pub(super) user_id: UserId,
    /// The user as it was, as JSON.
    pub(super) user: String,
    pub(super) deleted_at: String,
    pub(super) ttl: u64,
    /// Written by deletes that leave the sealed keys untouched; absent from older tombstones.
    #[serde(default)]
    pub(super) keys_left: bool,
}

impl DynamoStore {
    /// Writes a user item and its guard changes in one transaction: the user is new
    /// (`expected_version` is `None`) or still at `expected_version`; each claimed identifier
    /// is free; each released one is the user's.
    #[allow(clippy::too_many_arguments)]
    async fn write_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: Option<u64>,
        claim: &[Identifier],
        release: &[Identifier],
        admission: &Admission,
        handles_before: &[Handle],
    ) -> Result<(), WriteError> {
        let user_item = to_item(&UserItem::new(app, user)?)?;
        let mut items = Vec::with_capacity(1 + claim.len() + release.len());
        items.push(match expected_version {
            None => conditional_put(&self.table, user_item)?,
            Some(version) => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(user_item))
                    .condition_expression("version = :expected")
                    .expression_attribute_values(
                        ":expected",
                        AttributeValue::N(version.to_string()),
                    )
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().put(put).build()
            }
        });
        for identifier in claim {
            let guard = GuardItem::item(app, identifier, user.id)?;
            items.push(conditional_put(&self.table, guard)?);
        }
        for identifier in release {
            items.push(self.delete_guard(app, identifier, user.id)?);
        }
        let admitted = self.admission_items(app, user.id, admission)?;
        let shape = WriteShape {
            claimed: claim.len(),
            released: release.len(),
            admission: admitted.len(),
        };
        items.extend(admitted);
        // The handle index's entries last: unconditional, so no cancellation reason is theirs.
        items.extend(self.handle_changes(app, user.id, handles_before, &user.handles())?);
        // The token makes the SDK's own retries of this call idempotent: if a first attempt
        // committed but its response was lost, the retry reports success instead of a conflict.
        self.send_user_write(items, user, |cancelled| {
            Self::decode_user_write(cancelled, user, expected_version, &shape)
        })
        .await
    }

    /// Why a user write was cancelled: the user item first, then the claimed guards, the
    /// released ones, and the admission's items.
    fn decode_user_write(
        cancelled: &Cancellation,
        user: &User,
        expected_version: Option<u64>,
        shape: &WriteShape,
    ) -> Result<(), WriteError> {
        let failed = cancelled.failed_conditions();
        let claimed = shape.claimed;
        let admission_from = 1 + shape.claimed + shape.released;
        let admission_end = admission_from + shape.admission;
        if failed.contains(&0) && expected_version.is_none() {
            // A new user's id is fresh, so only our own earlier commit can exist: what else
            // failed (its guards, its claim) failed on what that commit wrote.
            return Ok(());
        }
        let mut taken = Vec::new();
        let mut stale = false;
        let mut foreign_release = false;
        let mut admission_changed = false;
        for &index in &failed {
            if index == 0 {
                stale = true;
            } else if index >= admission_from && index < admission_end {
                admission_changed = true;
            } else if index <= claimed {
                let owner = cancelled.holder(index);
                // A guard already ours: an earlier attempt of this write committed.
                if owner != Some(user.id) {
                    taken.push((index - 1, owner));
                }
            } else {
                foreign_release = true;
            }
        }
        if stale {
            Err(WriteError::Stale)
        } else if !taken.is_empty() {
            Err(WriteError::Taken(taken))
        } else if admission_changed {
            Err(WriteError::AdmissionChanged)
        } else if cancelled.conflicted() {
            Err(WriteError::Contention)
        } else if foreign_release {
            Err(StoreError::Corrupt(
                format!("user {} released a guard it does not hold", user.id).into(),
            )
            .into())
        } else if !failed.is_empty() {
            // Every failed condition met our own items: an earlier attempt committed.
            Ok(())
        } else {
            Err(cancelled.unexplained().into())
        }
    }

    /// Sends a write of `user` (or its deletion) with what it commits for the idempotency key
    /// it runs under, if any (the last item), and decodes a cancellation with `decode`, given
    /// the reasons of the write's own items.
    pub(super) async fn send_user_write(
        &self,
        mut items: Vec<TransactWriteItem>,
        user: &User,
        decode: impl FnOnce(&Cancellation) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let completion = commit::pending(user);
        if let Some(completion) = &completion {
            items.push(self.completion_item(completion)?);
        }
        let result = match self.send_transaction(items).await? {
            None => Ok(()),
            Some(mut cancelled) => {
                if completion.is_some() && cancelled.pop_condition_failed() {
                    // The key's claim is no longer this request's: its lock ran out.
                    return Err(StoreError::Unavailable(
                        "the idempotency key's claim was taken over".into(),
                    )
                    .into());
                }
                decode(&cancelled)
            }
        };
        if let (Ok(()), Some(completion)) = (&result, &completion) {
            commit::committed(completion);
        }
        result
    }

    /// Why a transaction whose first item is conditioned on the user's version was cancelled:
    /// a failed condition there is `Stale`, elsewhere a `Taken` at that index (less one).
    pub(super) fn decode_versioned(cancelled: &Cancellation, what: &str) -> Result<(), WriteError> {
        if cancelled.condition_failed(0) {
            return Err(WriteError::Stale);
        }
        let taken: Vec<(usize, Option<UserId>)> = cancelled
            .failed_conditions()
            .into_iter()
            .map(|index| (index.saturating_sub(1), None))
            .collect();
        if !taken.is_empty() {
            tracing::warn!(what, "a condition failed on {} item(s)", taken.len());
            return Err(WriteError::Taken(taken));
        }
        if cancelled.conflicted() {
            return Err(WriteError::Contention);
        }
        Err(cancelled.unexplained().into())
    }

    /// The writes that move `user`'s entries in the handle index from `before` to `after`.
    pub(super) fn handle_changes(
        &self,
        app: &AppId,
        user: UserId,
        before: &[Handle],
        after: &[Handle],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = Vec::new();
        for handle in after.iter().filter(|h| !before.contains(h)) {
            let item = to_item(&HandleItem {
                pk: keys::handle_pk(app, handle),
                sk: keys::handle_sk(user),
                entity: "handle".to_owned(),
                user_id: user,
            })?;
            items.push(plain_put(&self.table, item)?);
        }
        for handle in before.iter().filter(|h| !after.contains(h)) {
            let delete = aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::handle_pk(app, handle)))
                .key(SK, AttributeValue::S(keys::handle_sk(user)))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        Ok(items)
    }

    /// Deletes the guard of `identifier`, on condition that `owner` holds it.
    fn delete_guard(
        &self,
        app: &AppId,
        identifier: &Identifier,
        owner: UserId,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::guard_pk(app, identifier)))
            .key(SK, AttributeValue::S(keys::SK_GUARD.to_owned()))
            .condition_expression("user_id = :owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

impl UserStore for DynamoStore {
    async fn insert_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        admission: &Admission,
    ) -> Result<(), WriteError> {
        self.write_user(app, user, None, identifiers, &[], admission, &[])
            .await
    }

    async fn replace_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: u64,
        claim: &[Identifier],
        release: &[Identifier],
        admission: &Admission,
        handles_before: &[Handle],
    ) -> Result<(), WriteError> {
        let version = Some(expected_version);
        self.write_user(
            app,
            user,
            version,
            claim,
            release,
            admission,
            handles_before,
        )
        .await
    }

    async fn find_by_handle(
        &self,
        app: &AppId,
        handle: &Handle,
        before: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", AttributeValue::S(keys::handle_pk(app, handle)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        // Ids are UUIDv7: in the sort key's order, newest last.
        let query = match before {
            Some(before) => query
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":before", AttributeValue::S(keys::handle_sk(before))),
            None => query.key_condition_expression("pk = :pk"),
        };
        let output = query.send().await.map_err(classify)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<HandleItem>(item).map(|entry| entry.user_id))
            .collect()
    }

    async fn get_user(&self, app: &AppId, id: UserId) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get_item(keys::user_pk(app, id), keys::SK_USER).await? else {
            return Ok(None);
        };
        from_item::<UserItem>(item)?.into_user().map(Some)
    }

    async fn delete_user(
        &self,
        app: &AppId,
        user: &User,
        deleted_at: &str,
        purge_at: u64,
    ) -> Result<(), WriteError> {
        let user_json =
            serde_json::to_string(user).map_err(|e| StoreError::Other(e.to_string().into()))?;
        let delete_user = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user.id)))
            .key(SK, AttributeValue::S(keys::SK_USER.to_owned()))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(user.version.to_string()))
            .build()
            .map_err(build_error)?;
        let tombstone = to_item(&TombstoneItem {
            pk: keys::user_pk(app, user.id),
            sk: keys::SK_DELETED.to_owned(),
            entity: "deleted_user".to_owned(),
            app_id: app.clone(),
            user_id: user.id,
            user: user_json,
            deleted_at: deleted_at.to_owned(),
            ttl: purge_at,
            keys_left: true,
        })?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete_user).build(),
            plain_put(&self.table, tombstone)?,
        ];
        for identifier in user.identifiers() {
            items.push(self.delete_guard(app, &identifier, user.id)?);
        }
        items.extend(self.handle_changes(app, user.id, &user.handles(), &[])?);
        self.send_user_write(items, user, |cancelled| {
            Self::decode_versioned(cancelled, "a deleted user's items")
        })
        .await
    }

    async fn list_users(
        &self,
        app: &AppId,
        before: Option<UserId>,
        limit: usize,
        status: Option<UserStatus>,
    ) -> Result<(Vec<User>, bool), StoreError> {
        // Each partition's newest `limit + 1` below the cursor; merged, the newest `limit + 1`
        // of the app (of that status) are among them, and the extra one says whether another
        // page follows.
        let active = (0..keys::USER_LIST_SHARDS).map(|shard| keys::user_list_shard_pk(app, shard));
        let partitions: Vec<String> = match status {
            Some(UserStatus::Active) => active.collect(),
            Some(UserStatus::Disabled) => vec![keys::disabled_users_pk(app)],
            None => active.chain([keys::disabled_users_pk(app)]).collect(),
        };
        let queries = partitions
            .into_iter()
            .map(|partition| self.listing_page(partition, before, limit + 1).send());
        let pages = futures::future::try_join_all(queries)
            .await
            .map_err(classify)?;
        let mut users = Vec::new();
        for page in pages {
            for item in page.items.unwrap_or_default() {
                users.push(from_item::<UserItem>(item)?.into_user()?);
            }
        }
        users.sort_by_key(|user| std::cmp::Reverse(user.id));
        let more = users.len() > limit;
        users.truncate(limit);
        Ok((users, more))
    }

    async fn find_owner(
        &self,
        app: &AppId,
        identifier: &Identifier,
    ) -> Result<Option<UserId>, StoreError> {
        let item = self
            .get_item(keys::guard_pk(app, identifier), keys::SK_GUARD)
            .await?;
        item.map(|item| from_item::<GuardItem>(item).map(|guard| guard.user_id))
            .transpose()
    }

    async fn get_deleted_user(
        &self,
        app: &AppId,
        id: UserId,
    ) -> Result<Option<DeletedUser>, StoreError> {
        self.read_tombstone(app, id).await
    }

    async fn restore_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        keys: KeysAtRestore<'_>,
        now_secs: u64,
    ) -> Result<(), RestoreConflict> {
        self.write_back(app, user, identifiers, keys, now_secs)
            .await
    }
}

impl DynamoStore {
    /// A query of one partition of the users listing: its newest `limit` users, all older
    /// than `before` if given.
    pub(super) fn listing_page(
        &self,
        partition: String,
        before: Option<UserId>,
        limit: usize,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::USERS_BY_APP_INDEX)
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .expression_attribute_values(":pk", AttributeValue::S(partition));
        match before {
            Some(before) => query
                .key_condition_expression("gsi1pk = :pk AND gsi1sk < :before")
                .expression_attribute_values(":before", AttributeValue::S(before.to_string())),
            None => query.key_condition_expression("gsi1pk = :pk"),
        }
    }
}
