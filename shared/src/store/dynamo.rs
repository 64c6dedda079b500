//! The DynamoDB implementation of the store traits, plus the admin operations the CLI uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use super::commit::{self, Completion, RowReceipt};
use super::idempotency::{Claim, IdempotencyStore, KeyRecord, Rendered};
use super::keys::{self, PK, SK};
use super::{AppStore, StoreError, UserStore, WalletAttempt, WalletStore, WriteError};
use crate::model::ApiKeyRecord;
use crate::model::SealedKey;
use crate::model::{
    AppId, ChainType, Identifier, LinkedAccount, User, UserId, Wallet, WalletAddress,
};

type Item = HashMap<String, AttributeValue>;

/// How long init may spend opening the connection before leaving it to the first call.
const WARM_UP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// The store on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
}

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

/// An app as the admin CLI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    pub app_id: AppId,
    pub name: String,
    pub created_at: String,
}

/// A user as stored: the API's user plus keys, tenancy and a version. `custom_metadata` is
/// kept as JSON text so it round-trips exactly (DynamoDB numbers would not).
#[derive(Serialize, Deserialize)]
struct UserItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    linked_accounts: Vec<LinkedAccount>,
    custom_metadata: String,
    wallets: Vec<Wallet>,
    created_at: String,
    updated_at: String,
    version: u64,
    gsi1pk: String,
    gsi1sk: String,
}

impl UserItem {
    fn new(app: &AppId, user: &User) -> Result<Self, StoreError> {
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
                .map_err(|e| StoreError::Other(e.to_string()))?,
            wallets: user.wallets.clone(),
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
            version: user.version,
            gsi1pk: keys::user_list_pk(app, user.id),
            gsi1sk: user.id.to_string(),
        })
    }

    fn into_user(self) -> Result<User, StoreError> {
        let custom_metadata = serde_json::from_str(&self.custom_metadata).map_err(|e| {
            StoreError::Corrupt(format!("custom_metadata of user {}: {e}", self.id))
        })?;
        Ok(User {
            id: self.id,
            external_id: self.external_id,
            email: self.email,
            username: self.username,
            linked_accounts: self.linked_accounts,
            custom_metadata,
            wallets: self.wallets,
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
        serde_dynamo::from_item(image).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let app = item.app_id.clone();
    Ok((app, item.into_user()?))
}

/// The item that reserves one identifier for one user.
#[derive(Serialize, Deserialize)]
struct GuardItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    kind: String,
    user_id: UserId,
}

#[derive(Serialize, Deserialize)]
struct AppItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    app: AppRecord,
}

#[derive(Serialize, Deserialize)]
struct ApiKeyItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    record: ApiKeyRecord,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Opens the connection to DynamoDB (DNS, TCP, TLS, credentials) with one read of a key
    /// that never exists, so the first request after a cold start does not pay for it: a
    /// published Rust Lambda measurement had its first call at ~900 ms without this and ~21 ms
    /// with it. Runs during init, which Lambda gives full CPU. Best effort and bounded: a
    /// failure (no access, store down) is logged and left to the first real call.
    pub async fn warm_up(&self) {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::WARM_UP_PK.to_owned()))
            .key(SK, AttributeValue::S(keys::WARM_UP_PK.to_owned()))
            .send();
        match tokio::time::timeout(WARM_UP_DEADLINE, read).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %DisplayErrorContext(&error), "warm-up read failed")
            }
            Err(_) => tracing::warn!("warm-up read timed out"),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client, for table administration.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(super) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// Writes a user item and its guard changes in one transaction: the user is new
    /// (`expected_version` is `None`) or still at `expected_version`; each claimed identifier
    /// is free; each released one is the user's.
    async fn write_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: Option<u64>,
        claim: &[Identifier],
        release: &[Identifier],
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
            let guard = to_item(&GuardItem {
                pk: keys::guard_pk(app, identifier),
                sk: keys::SK_GUARD.to_owned(),
                entity: "guard".to_owned(),
                app_id: app.clone(),
                kind: identifier.kind().to_owned(),
                user_id: user.id,
            })?;
            items.push(conditional_put(&self.table, guard)?);
        }
        for identifier in release {
            items.push(self.delete_guard(app, identifier, user.id)?);
        }
        // The token makes the SDK's own retries of this call idempotent: if a first attempt
        // committed but its response was lost, the retry reports success instead of a conflict.
        self.send_user_write(items, user, |reasons| {
            Self::decode_user_write(reasons, user, expected_version, claim.len())
        })
        .await
    }

    /// Why a user write was cancelled: the user item first, then the `claimed` guards, then
    /// the released ones.
    fn decode_user_write(
        reasons: &[CancellationReason],
        user: &User,
        expected_version: Option<u64>,
        claimed: usize,
    ) -> Result<(), WriteError> {
        let mut taken = Vec::new();
        let mut stale = false;
        let mut contention = false;
        let mut foreign_release = false;
        for (index, reason) in reasons.iter().enumerate() {
            match reason.code() {
                Some("ConditionalCheckFailed") if index == 0 => {
                    // A new user's id is fresh, so only our own earlier commit can exist.
                    stale = expected_version.is_some();
                }
                Some("ConditionalCheckFailed") if index <= claimed => {
                    let owner = reason
                        .item()
                        .and_then(|item| item.get("user_id"))
                        .and_then(|value| value.as_s().ok())
                        .and_then(|id| UserId::parse(id));
                    // A guard already ours: an earlier attempt of this write committed.
                    if owner != Some(user.id) {
                        taken.push((index - 1, owner));
                    }
                }
                Some("ConditionalCheckFailed") => foreign_release = true,
                Some("TransactionConflict") => contention = true,
                _ => {}
            }
        }
        if stale {
            Err(WriteError::Stale)
        } else if !taken.is_empty() {
            Err(WriteError::Taken(taken))
        } else if contention {
            Err(WriteError::Contention)
        } else if foreign_release {
            Err(StoreError::Corrupt(format!(
                "user {} released a guard it does not hold",
                user.id
            ))
            .into())
        } else if reasons
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"))
        {
            // Every failed condition met our own items: an earlier attempt committed.
            Ok(())
        } else {
            Err(unexplained(reasons).into())
        }
    }

    /// Sends a write of `user` (or its deletion) with what it commits for the idempotency key
    /// it runs under, if any (the last item), and decodes a cancellation with `decode`, given
    /// the reasons of the write's own items.
    async fn send_user_write(
        &self,
        mut items: Vec<TransactWriteItem>,
        user: &User,
        decode: impl FnOnce(&[CancellationReason]) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let completion = commit::pending(user);
        if let Some(completion) = &completion {
            items.push(self.completion_item(completion)?);
        }
        let result = match self.send_transaction(items).await? {
            None => Ok(()),
            Some(mut reasons) => {
                let own = completion.as_ref().and_then(|_| reasons.pop());
                if own.as_ref().and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
                {
                    // The key's claim is no longer this request's: its lock ran out.
                    return Err(StoreError::Unavailable(
                        "the idempotency key's claim was taken over".into(),
                    )
                    .into());
                }
                decode(&reasons)
            }
        };
        if let (Ok(()), Some(completion)) = (&result, &completion) {
            commit::committed(completion);
        }
        result
    }

    /// Runs a transaction whose first item is conditioned on the user's version: a failed
    /// condition there is `Stale`, elsewhere a `Taken` at that index (less one).
    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<(), WriteError> {
        match self.send_transaction(items).await? {
            None => Ok(()),
            Some(reasons) => Self::decode_versioned(&reasons, what),
        }
    }

    /// Why a transaction whose first item is conditioned on the user's version was cancelled.
    fn decode_versioned(reasons: &[CancellationReason], what: &str) -> Result<(), WriteError> {
        let codes: Vec<Option<&str>> = reasons.iter().map(|r| r.code()).collect();
        if codes.first() == Some(&Some("ConditionalCheckFailed")) {
            return Err(WriteError::Stale);
        }
        let taken: Vec<(usize, Option<UserId>)> = codes
            .iter()
            .enumerate()
            .filter(|(_, code)| **code == Some("ConditionalCheckFailed"))
            .map(|(index, _)| (index.saturating_sub(1), None))
            .collect();
        if !taken.is_empty() {
            tracing::warn!(what, "a condition failed on {} item(s)", taken.len());
            return Err(WriteError::Taken(taken));
        }
        if codes.contains(&Some("TransactionConflict")) {
            return Err(WriteError::Contention);
        }
        Err(unexplained(reasons).into())
    }

    /// Sends a transaction (with a token, so the SDK's own retries of it are idempotent: a
    /// first attempt that committed but lost its response is reported as committed). `None`
    /// if it committed; each item's cancellation reason if it was cancelled.
    pub(super) async fn send_transaction(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<CancellationReason>>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    Ok(Some(cancelled.cancellation_reasons().to_vec()))
                }
                _ => Err(classify(error)),
            },
        }
    }

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
            .map_err(|e| StoreError::Corrupt(format!("tombstone of {id}: {e}")))?;
        user.version += 1;
        user.updated_at = now.to_owned();
        let identifiers = user.identifier_fields();
        let mut items = vec![conditional_put(
            &self.table,
            to_item(&UserItem::new(app, &user)?)?,
        )?];
        for (_, identifier) in &identifiers {
            let guard = to_item(&GuardItem {
                pk: keys::guard_pk(app, identifier),
                sk: keys::SK_GUARD.to_owned(),
                entity: "guard".to_owned(),
                app_id: app.clone(),
                kind: identifier.kind().to_owned(),
                user_id: id,
            })?;
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

    /// Creates an app.
    pub async fn create_app(&self, app: &AppRecord) -> Result<(), StoreError> {
        let item = to_item(&AppItem {
            pk: keys::app_pk(&app.app_id),
            sk: keys::SK_APP.to_owned(),
            entity: "app".to_owned(),
            app: app.clone(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The app with `app_id`, if it exists.
    pub async fn get_app(&self, app_id: &AppId) -> Result<Option<AppRecord>, StoreError> {
        let item = self.get_item(keys::app_pk(app_id), keys::SK_APP).await?;
        item.map(|item| from_item::<AppItem>(item).map(|i| i.app))
            .transpose()
    }

    /// Stores a new key and records it on its app, in one transaction (the app must exist).
    pub async fn add_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let item = to_item(&ApiKeyItem {
            pk: keys::api_key_pk(&record.key_id),
            sk: keys::SK_API_KEY.to_owned(),
            entity: "api_key".to_owned(),
            record: record.clone(),
        })?;
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::app_pk(&record.app_id)))
            .key(SK, AttributeValue::S(keys::SK_APP.to_owned()))
            .update_expression("ADD key_ids :key")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":key", AttributeValue::Ss(vec![record.key_id.clone()]))
            .build()
            .map_err(build_error)?;
        self.client
            .transact_write_items()
            .transact_items(conditional_put(&self.table, item)?)
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Every key of an app, oldest first, revoked ones included.
    pub async fn list_api_keys(&self, app_id: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let Some(app) = self.get_item(keys::app_pk(app_id), keys::SK_APP).await? else {
            return Ok(Vec::new());
        };
        let key_ids = match app.get("key_ids") {
            Some(AttributeValue::Ss(ids)) => ids.clone(),
            _ => Vec::new(),
        };
        let mut records = Vec::with_capacity(key_ids.len());
        for key_id in key_ids {
            if let Some(record) = self.get_api_key(&key_id).await? {
                records.push(record);
            }
        }
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(records)
    }

    /// Revokes a key of `app_id`. `false` if the app has no such live key.
    pub async fn revoke_api_key(
        &self,
        app_id: &AppId,
        key_id: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::api_key_pk(key_id)))
            .key(SK, AttributeValue::S(keys::SK_API_KEY.to_owned()))
            .update_expression("SET revoked_at = :now")
            .condition_expression("app_id = :app AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":now", AttributeValue::S(now.to_owned()))
            .expression_attribute_values(":app", AttributeValue::S(app_id.to_string()))
            .send()
            .await;
        applied(result)
    }
}

impl UserStore for DynamoStore {
    async fn insert_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
    ) -> Result<(), WriteError> {
        self.write_user(app, user, None, identifiers, &[]).await
    }

    async fn replace_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: u64,
        claim: &[Identifier],
        release: &[Identifier],
    ) -> Result<(), WriteError> {
        self.write_user(app, user, Some(expected_version), claim, release)
            .await
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
            serde_json::to_string(user).map_err(|e| StoreError::Other(e.to_string()))?;
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
        })?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete_user).build(),
            plain_put(&self.table, tombstone)?,
        ];
        for identifier in user.identifiers() {
            items.push(self.delete_guard(app, &identifier, user.id)?);
        }
        // Sealed keys may control funds: kept, marked deleted, until the retention ends.
        for wallet in user.wallets.iter().filter(|w| w.address.is_some()) {
            let update = Update::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::user_pk(app, user.id)))
                .key(
                    SK,
                    AttributeValue::S(keys::wallet_key_sk(wallet.chain_type)),
                )
                .update_expression("SET deleted_at = :deleted_at, #ttl = :ttl")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
                .expression_attribute_values(
                    ":deleted_at",
                    AttributeValue::S(deleted_at.to_owned()),
                )
                .expression_attribute_values(":ttl", AttributeValue::N(purge_at.to_string()))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        self.send_user_write(items, user, |reasons| {
            Self::decode_versioned(reasons, "a deleted user's items")
        })
        .await
    }

    async fn list_users(
        &self,
        app: &AppId,
        before: Option<UserId>,
        limit: usize,
    ) -> Result<(Vec<User>, bool), StoreError> {
        // Each shard's newest `limit + 1` below the cursor; merged, the newest `limit + 1` of
        // the app are among them, and the extra one says whether another page follows.
        let shards = (0..keys::USER_LIST_SHARDS).map(|shard| {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::USERS_BY_APP_INDEX)
                .scan_index_forward(false)
                .limit(limit as i32 + 1)
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::user_list_shard_pk(app, shard)),
                );
            query = match before {
                Some(before) => query
                    .key_condition_expression("gsi1pk = :pk AND gsi1sk < :before")
                    .expression_attribute_values(":before", AttributeValue::S(before.to_string())),
                None => query.key_condition_expression("gsi1pk = :pk"),
            };
            query.send()
        });
        let pages = futures::future::try_join_all(shards)
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
}

impl AppStore for DynamoStore {
    async fn note_api_key_use(
        &self,
        key_id: &str,
        now: &str,
        cutoff: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::api_key_pk(key_id)))
            .key(SK, AttributeValue::S(keys::SK_API_KEY.to_owned()))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :cutoff)")
            .expression_attribute_values(":now", AttributeValue::S(now.to_owned()))
            .expression_attribute_values(":cutoff", AttributeValue::S(cutoff.to_owned()))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn get_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let item = self
            .get_item(keys::api_key_pk(key_id), keys::SK_API_KEY)
            .await?;
        item.map(|item| from_item::<ApiKeyItem>(item).map(|i| i.record))
            .transpose()
    }
}

pub(super) fn conditional_put(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A put of `item` in a transaction, whatever is there.
pub(super) fn plain_put(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Other(format!("serialising an item: {e}")))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Other(error.to_string())
}

/// A cancelled transaction none of whose reasons the caller handles: throttling is worth a
/// retry, anything else is a failure.
pub(super) fn unexplained(reasons: &[CancellationReason]) -> StoreError {
    let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
    let throttled = codes.iter().any(|code| {
        matches!(
            *code,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
        )
    });
    let detail = format!("transaction cancelled: {codes:?}");
    if throttled {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Other(detail)
    }
}

/// The outcome of a conditional write: `true` if written, `false` if its condition failed.
pub(super) fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(error) => Err(classify(error)),
    }
}

/// Sorts an SDK failure into what the caller can do: retry later, or nothing.
pub(super) fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    let detail = DisplayErrorContext(&error).to_string();
    if retryable {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Other(detail)
    }
}

/// What remains of a deleted user until its retention ends: enough to restore it.
#[derive(Serialize, Deserialize)]
struct TombstoneItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    user_id: UserId,
    /// The user as it was, as JSON.
    user: String,
    deleted_at: String,
    ttl: u64,
}

/// A sealed private key as stored, beside its user.
#[derive(Serialize, Deserialize)]
struct WalletKeyItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    user_id: UserId,
    chain_type: ChainType,
    address: String,
    created_at: String,
    #[serde(flatten)]
    sealed: SealedKey,
}

impl WalletStore for DynamoStore {
    async fn complete_wallet(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        address: &WalletAddress,
        created_at: &str,
        sealed: &SealedKey,
    ) -> Result<bool, StoreError> {
        let chain = address.chain();
        let key_item = to_item(&WalletKeyItem {
            pk: keys::user_pk(app, user),
            sk: keys::wallet_key_sk(chain),
            entity: "wallet_key".to_owned(),
            app_id: app.clone(),
            user_id: user,
            chain_type: chain,
            address: address.as_str().to_owned(),
            created_at: created_at.to_owned(),
            sealed: sealed.clone(),
        })?;
        let identifier = Identifier::Address(address.key());
        let guard = to_item(&GuardItem {
            pk: keys::guard_pk(app, &identifier),
            sk: keys::SK_GUARD.to_owned(),
            entity: "guard".to_owned(),
            app_id: app.clone(),
            kind: identifier.kind().to_owned(),
            user_id: user,
        })?;
        // Field by field, so the entry keeps its count of earlier failed attempts.
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user)))
            .key(SK, AttributeValue::S(keys::SK_USER.to_owned()))
            .update_expression(format!(
                "SET wallets[{index}].#status = :ready, wallets[{index}].address = :address, \
                 wallets[{index}].created_at = :created_at, wallets[{index}].last_error = :null, \
                 version = version + :one"
            ))
            .condition_expression(pending_at(index))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":address", AttributeValue::S(address.as_str().to_owned()))
            .expression_attribute_values(":created_at", AttributeValue::S(created_at.to_owned()))
            .expression_attribute_values(":null", AttributeValue::Null(true))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":chain", AttributeValue::S(chain.to_string()))
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .build()
            .map_err(build_error)?;
        let items = vec![
            conditional_put(&self.table, key_item)?,
            conditional_put(&self.table, guard)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        let Some(reasons) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        let codes: Vec<Option<&str>> = reasons.iter().map(|reason| reason.code()).collect();
        match codes.as_slice() {
            // The wallet is no longer pending, or its key exists: another delivery settled it.
            [_, _, Some("ConditionalCheckFailed")] | [Some("ConditionalCheckFailed"), ..] => {
                Ok(false)
            }
            [_, Some("ConditionalCheckFailed"), _] => Err(StoreError::Other(
                "the generated address is already claimed".into(),
            )),
            _ if codes.contains(&Some("TransactionConflict")) => Err(StoreError::Unavailable(
                "transaction conflict on a wallet".into(),
            )),
            _ => Err(unexplained(&reasons)),
        }
    }

    async fn record_wallet_failure(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        chain: ChainType,
        error_code: &str,
        max_attempts: u32,
    ) -> Result<WalletAttempt, StoreError> {
        let key = |request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder| {
            request
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::user_pk(app, user)))
                .key(SK, AttributeValue::S(keys::SK_USER.to_owned()))
                .condition_expression(pending_at(index))
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":chain", AttributeValue::S(chain.to_string()))
                .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
        };
        let counted = key(self.client.update_item())
            .update_expression(format!(
                "SET wallets[{index}].attempts = wallets[{index}].attempts + :one, \
                 wallets[{index}].last_error = :code, version = version + :one"
            ))
            .expression_attribute_values(":code", AttributeValue::S(error_code.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        let output = match counted {
            Ok(output) => output,
            Err(error) if error.code() == Some("ConditionalCheckFailedException") => {
                return Ok(WalletAttempt::Settled);
            }
            Err(error) => return Err(classify(error)),
        };
        let attempts = output
            .attributes
            .as_ref()
            .and_then(|item| item.get("wallets"))
            .and_then(|wallets| wallets.as_l().ok())
            .and_then(|wallets| wallets.get(index))
            .and_then(|wallet| wallet.as_m().ok())
            .and_then(|wallet| wallet.get("attempts"))
            .and_then(|attempts| attempts.as_n().ok())
            .and_then(|attempts| attempts.parse::<u32>().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("wallet attempts of user {user}")))?;
        if attempts < max_attempts {
            return Ok(WalletAttempt::Counted {
                attempts,
                failed: false,
            });
        }
        let failed = key(self.client.update_item())
            .update_expression(format!(
                "SET wallets[{index}].#status = :failed, version = version + :one"
            ))
            .expression_attribute_values(":failed", AttributeValue::S("failed".into()))
            .send()
            .await;
        Ok(if applied(failed)? {
            WalletAttempt::Counted {
                attempts,
                failed: true,
            }
        } else {
            WalletAttempt::Settled
        })
    }

    async fn get_sealed_key(
        &self,
        app: &AppId,
        user: UserId,
        chain: ChainType,
    ) -> Result<Option<SealedKey>, StoreError> {
        let item = self
            .get_item(keys::user_pk(app, user), &keys::wallet_key_sk(chain))
            .await?;
        item.map(|item| from_item::<WalletKeyItem>(item).map(|i| i.sealed))
            .transpose()
    }
}

/// The condition that the wallet at `index` is still the pending one of `:chain`.
fn pending_at(index: usize) -> String {
    format!("wallets[{index}].chain_type = :chain AND wallets[{index}].#status = :pending")
}

#[derive(Serialize, Deserialize)]
struct KeyRecordItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: u64,
    #[serde(flatten)]
    record: KeyRecord,
}

impl IdempotencyStore for DynamoStore {
    async fn claim_key(
        &self,
        app: &AppId,
        key: &str,
        record: &KeyRecord,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        let item = to_item(&KeyRecordItem {
            pk: keys::idempotency_pk(app, key),
            sk: keys::SK_IDEMPOTENCY.to_owned(),
            entity: "idempotency_key".to_owned(),
            ttl: record.expires_at,
            record: record.clone(),
        })?;
        // Free, expired (checked here: TTL deletion can lag by days), or an abandoned claim of
        // the same request whose lock has run out.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now_secs \
                 OR (#state = :in_progress AND locked_until_ms < :now_ms AND fingerprint = :fingerprint)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now_secs", AttributeValue::N((now_ms / 1000).to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .expression_attribute_values(":fingerprint", AttributeValue::S(record.fingerprint.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Claim::Claimed),
            Err(error) => error,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
            error.as_service_error()
            && let Some(held) = failed.item()
        {
            let held: KeyRecordItem = from_item(held.clone())?;
            return Ok(Claim::Held(held.record));
        }
        Err(classify(error))
    }

    async fn complete_key(
        &self,
        app: &AppId,
        key: &str,
        token: &str,
        response: &Rendered,
    ) -> Result<(), StoreError> {
        let mut completion = KeyCompletion::new(token, response);
        completion.values.insert(
            ":in_progress".into(),
            AttributeValue::S("in_progress".into()),
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
            .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
            .update_expression(completion.expression)
            // A write that committed the key's outcome already keeps it.
            .condition_expression("#token = :token AND #state = :in_progress")
            .set_expression_attribute_names(Some(completion.names))
            .set_expression_attribute_values(Some(completion.values))
            .send()
            .await;
        if applied(result)? {
            Ok(())
        } else {
            Err(StoreError::Other(
                "the idempotency claim was taken over".into(),
            ))
        }
    }

    async fn release_key(&self, app: &AppId, key: &str, token: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
            .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
            // A write that committed the key's outcome keeps it, whatever its caller heard.
            .condition_expression("#token = :token AND #state = :in_progress")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn row_receipts(&self, app: &AppId, key: &str) -> Result<Vec<RowReceipt>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :row)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::idempotency_pk(app, key)))
            .expression_attribute_values(":row", AttributeValue::S(keys::SK_ROW_PREFIX.into()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(classify)?;
        items
            .into_iter()
            .map(|item| {
                let row: RowReceiptItem = from_item(item)?;
                Ok(RowReceipt {
                    app: app.clone(),
                    key: key.to_owned(),
                    index: row.index,
                    fingerprint: row.fingerprint,
                    expires_at: row.ttl,
                    user: row.user,
                })
            })
            .collect()
    }
}

/// A batch row's receipt, in its key's partition.
#[derive(Serialize, Deserialize)]
struct RowReceiptItem {
    pk: String,
    sk: String,
    entity: String,
    index: usize,
    fingerprint: String,
    user: String,
    ttl: u64,
}

/// How a key's record is completed with `response`: its update expression, names and values
/// (`:token` among them, for the caller's condition).
struct KeyCompletion {
    expression: &'static str,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl KeyCompletion {
    fn new(token: &str, response: &Rendered) -> Self {
        let names = [
            ("#state", "state"),
            ("#status", "status"),
            ("#token", "token"),
        ]
        .into_iter()
        .map(|(name, attribute)| (name.to_owned(), attribute.to_owned()))
        .collect();
        let mut values: HashMap<String, AttributeValue> = [
            (":completed", AttributeValue::S("completed".into())),
            (":status", AttributeValue::N(response.status.to_string())),
            (":body", AttributeValue::S(response.body.clone())),
            (":token", AttributeValue::S(token.to_owned())),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let expression = match &response.etag {
            Some(etag) => {
                values.insert(":etag".into(), AttributeValue::S(etag.clone()));
                "SET #state = :completed, #status = :status, body = :body, etag = :etag"
            }
            None => "SET #state = :completed, #status = :status, body = :body",
        };
        Self {
            expression,
            names,
            values,
        }
    }
}

impl DynamoStore {
    /// The item a write commits beside itself for `completion`: the key's record completed
    /// (on condition the claim is still ours), or a batch row's receipt.
    pub(super) fn completion_item(
        &self,
        completion: &Completion,
    ) -> Result<TransactWriteItem, StoreError> {
        match completion {
            Completion::Key {
                app,
                key,
                token,
                rendered,
            } => {
                let completion = KeyCompletion::new(token, rendered);
                let update = Update::builder()
                    .table_name(&self.table)
                    .key(PK, AttributeValue::S(keys::idempotency_pk(app, key)))
                    .key(SK, AttributeValue::S(keys::SK_IDEMPOTENCY.to_owned()))
                    .update_expression(completion.expression)
                    .condition_expression("#token = :token")
                    .set_expression_attribute_names(Some(completion.names))
                    .set_expression_attribute_values(Some(completion.values))
                    .build()
                    .map_err(build_error)?;
                Ok(TransactWriteItem::builder().update(update).build())
            }
            Completion::Row(receipt) => {
                let item = to_item(&RowReceiptItem {
                    pk: keys::idempotency_pk(&receipt.app, &receipt.key),
                    sk: format!("{}{:03}", keys::SK_ROW_PREFIX, receipt.index),
                    entity: "idempotency_row".to_owned(),
                    index: receipt.index,
                    fingerprint: receipt.fingerprint.clone(),
                    user: receipt.user.clone(),
                    ttl: receipt.expires_at,
                })?;
                plain_put(&self.table, item)
            }
        }
    }
}
