//! Moving what stacks from before kept within every function's reach (sealed wallet keys
//! beside their user, client secrets inside their key's record) to partitions of their own:
//! see [`keys`]' notes. The admin CLI's `migrate-secrets`. Each item moves in one transaction
//! and every reader looks in both places, so it is safe while the API serves, and a second run
//! (or one after a crash) moves only what is left.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use super::DynamoStore;
use super::keys::{self, PK, SK};
use super::sdk::{classify, from_item};
use crate::model::{AppId, UserId};
use crate::ports::{StoreError, WalletStore};

/// What a migration moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Migrated {
    /// Sealed wallet keys moved to their user's key partition.
    pub wallet_keys: usize,
    /// Client secrets moved out of their key's record.
    pub client_secrets: usize,
}

/// Whose key an old-layout key item is.
#[derive(Deserialize)]
struct Owner {
    app_id: AppId,
    user_id: UserId,
}

impl DynamoStore {
    /// Moves every old-layout wallet key and client secret (see the module's notes); keys
    /// past their retention at `now_secs` are deleted instead. One scan of the table.
    pub async fn migrate_secrets(&self, now_secs: u64) -> Result<Migrated, StoreError> {
        let mut migrated = Migrated::default();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "(begins_with(#pk, :user) AND begins_with(#sk, :wallet_key)) \
                     OR (#sk = :api_key AND attribute_exists(client_secret))",
                )
                .projection_expression("#pk, #sk, app_id, user_id, key_id")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":user", AttributeValue::S("APP#".into()))
                .expression_attribute_values(
                    ":wallet_key",
                    AttributeValue::S(keys::SK_WALLET_KEY_PREFIX.into()),
                )
                .expression_attribute_values(":api_key", AttributeValue::S(keys::SK_API_KEY.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let sk = item.get(SK).and_then(|sk| sk.as_s().ok());
                if sk.map(String::as_str) == Some(keys::SK_API_KEY) {
                    let key_id = item
                        .get("key_id")
                        .and_then(|id| id.as_s().ok())
                        .ok_or_else(|| StoreError::Corrupt("an API key without its id".into()))?;
                    migrated.client_secrets += usize::from(self.move_client_secret(key_id).await?);
                } else {
                    let owner: Owner = from_item(item.clone())?;
                    migrated.wallet_keys += self
                        .move_legacy_wallet_keys(&owner.app_id, owner.user_id, now_secs)
                        .await?;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(migrated);
            }
        }
    }
}
