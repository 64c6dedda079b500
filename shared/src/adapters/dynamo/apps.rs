//! Apps and their API keys.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::sdk::{applied, build_error, classify, conditional_put, from_item, to_item};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::api_key::AppRecord;
use crate::model::rate_limit::{Counter, RateLimit};
use crate::model::{ApiKeyRecord, AppId, SealedKey};
use crate::ports::{AppAdmin, AppStore, StoreError};

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

/// A key's sealed client secret, apart from the key record (see [`keys`]' notes).
#[derive(Serialize, Deserialize)]
struct ClientSecretItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    key_id: String,
    #[serde(flatten)]
    sealed: SealedKey,
}

impl AppAdmin for DynamoStore {
    async fn create_app(&self, app: &AppRecord) -> Result<(), StoreError> {
        let item = to_item(&AppItem {
            pk: keys::app_pk(&app.app_id),
            sk: keys::SK_APP.to_owned(),
            entity: "app".to_owned(),
            app: app.clone(),
        })?;
        self.put_new(item).await
    }

    /// The app with `app_id`, if it exists.
    async fn get_app(&self, app_id: &AppId) -> Result<Option<AppRecord>, StoreError> {
        let item = self.get_item(keys::app_pk(app_id), keys::SK_APP).await?;
        item.map(|item| from_item::<AppItem>(item).map(|i| i.app))
            .transpose()
    }

    /// Stores a new key, its client secret (in a partition of its own) and records it on its
    /// app, in one transaction (the app must exist).
    async fn add_api_key(
        &self,
        record: &ApiKeyRecord,
        client_secret: &SealedKey,
    ) -> Result<(), StoreError> {
        let item = to_item(&ApiKeyItem {
            pk: keys::api_key_pk(&record.key_id),
            sk: keys::SK_API_KEY.to_owned(),
            entity: "api_key".to_owned(),
            record: ApiKeyRecord {
                client_secret: None,
                ..record.clone()
            },
        })?;
        let secret = to_item(&ClientSecretItem {
            pk: keys::client_secret_pk(&record.key_id),
            sk: keys::SK_CLIENT_SECRET.to_owned(),
            entity: "client_secret".to_owned(),
            app_id: record.app_id.clone(),
            key_id: record.key_id.clone(),
            sealed: client_secret.clone(),
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
            .transact_items(conditional_put(&self.table, secret)?)
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Every key of an app, oldest first, revoked ones included.
    async fn list_api_keys(&self, app_id: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError> {
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
    async fn revoke_api_key(
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

impl DynamoStore {
    /// Moves a key's client secret out of its record into an item of its own (see
    /// [`super::migrate`]); `false` when the record holds none (any more).
    pub(super) async fn move_client_secret(&self, key_id: &str) -> Result<bool, StoreError> {
        let Some(item) = self
            .get_item(keys::api_key_pk(key_id), keys::SK_API_KEY)
            .await?
        else {
            return Ok(false);
        };
        let record = from_item::<ApiKeyItem>(item)?.record;
        let Some(sealed) = record.client_secret else {
            return Ok(false);
        };
        let secret = to_item(&ClientSecretItem {
            pk: keys::client_secret_pk(key_id),
            sk: keys::SK_CLIENT_SECRET.to_owned(),
            entity: "client_secret".to_owned(),
            app_id: record.app_id,
            key_id: key_id.to_owned(),
            sealed,
        })?;
        let strip = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::api_key_pk(key_id)))
            .key(SK, AttributeValue::S(keys::SK_API_KEY.to_owned()))
            .update_expression("REMOVE client_secret")
            .condition_expression("attribute_exists(client_secret)")
            .build()
            .map_err(build_error)?;
        let items = vec![
            conditional_put(&self.table, secret)?,
            TransactWriteItem::builder().update(strip).build(),
        ];
        match self.send_transaction(items).await? {
            None => Ok(true),
            // Gone from the record: a racing run moved it.
            Some(cancelled) if cancelled.condition_failed(1) => Ok(false),
            Some(cancelled) if cancelled.condition_failed(0) => Err(StoreError::Corrupt(
                format!("key {key_id} has a client secret in its record and one of its own").into(),
            )),
            Some(cancelled) if cancelled.conflicted() => Err(StoreError::Unavailable(
                "transaction conflict moving a client secret".into(),
            )),
            Some(cancelled) => Err(cancelled.unexplained()),
        }
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

    async fn client_secret_of(
        &self,
        record: &ApiKeyRecord,
    ) -> Result<Option<SealedKey>, StoreError> {
        // A key stored before secrets had their own items, not moved yet.
        if let Some(sealed) = &record.client_secret {
            return Ok(Some(sealed.clone()));
        }
        let item = self
            .get_item(
                keys::client_secret_pk(&record.key_id),
                keys::SK_CLIENT_SECRET,
            )
            .await?;
        let Some(item) = item else { return Ok(None) };
        let item: ClientSecretItem = from_item(item)?;
        // Bound to its key and app; a record naming another app gets nothing.
        Ok((item.app_id == record.app_id).then_some(item.sealed))
    }

    async fn first_sighting(
        &self,
        key_id: &str,
        digest: &str,
        expires_at: u64,
        now_secs: u64,
    ) -> Result<bool, StoreError> {
        // An expired sighting counts as unseen: TTL deletion can lag by days.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(keys::sighting_pk(key_id, digest)))
            .item(SK, AttributeValue::S(keys::SK_SIGHTING.to_owned()))
            .item("entity", AttributeValue::S("sighting".to_owned()))
            .item("ttl", AttributeValue::N(expires_at.to_string()))
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", AttributeValue::N(now_secs.to_string()))
            .send()
            .await;
        applied(result)
    }

    fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    async fn count_request(
        &self,
        app: &AppId,
        counter: Counter,
        amount: u32,
        limit: u32,
        expires_at: u64,
    ) -> Result<Option<u32>, StoreError> {
        // `count + amount <= limit`, written so the condition needs no arithmetic.
        let Some(room) = limit.checked_sub(amount) else {
            return Ok(None);
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(
                PK,
                AttributeValue::S(keys::request_counter_pk(app, &counter.key())),
            )
            .key(SK, AttributeValue::S(keys::SK_REQUEST_COUNTER.to_owned()))
            .update_expression("ADD #count :amount SET entity = :entity, #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count <= :room")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", keys::TTL_ATTRIBUTE)
            .expression_attribute_values(":amount", AttributeValue::N(amount.to_string()))
            .expression_attribute_values(":room", AttributeValue::N(room.to_string()))
            .expression_attribute_values(":entity", AttributeValue::S("rate".to_owned()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires_at.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let count = output
                    .attributes()
                    .and_then(|a| a.get("count"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| StoreError::Other("the counter returned no count".into()))?;
                Ok(Some(count))
            }
            Err(error) if error.code() == Some("ConditionalCheckFailedException") => Ok(None),
            Err(error) => Err(classify(error)),
        }
    }
}
