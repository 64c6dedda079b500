//! Wallets: the sealed key, the address guard and the wallet entry, written together; the
//! sealed keys of users gone for good, purged; and keys from before they had their own
//! partitions, moved there (see [`keys`]'s notes).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::sdk::{applied, build_error, classify, conditional_put, from_item, to_item};
use super::users::GuardItem;
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::SealedKey;
use crate::model::{AppId, ChainType, Identifier, UserId};
use crate::ports::{ReadyWallet, StoreError, WalletAttempt, WalletStore};

/// A sealed private key as stored, in its user's key partition.
#[derive(Serialize, Deserialize)]
pub(super) struct WalletKeyItem {
    pk: String,
    sk: String,
    entity: String,
    app_id: AppId,
    user_id: UserId,
    chain_type: ChainType,
    address: String,
    created_at: String,
    #[serde(flatten)]
    pub(super) sealed: SealedKey,
}

impl WalletStore for DynamoStore {
    async fn complete_wallet(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        ready: &ReadyWallet<'_>,
    ) -> Result<bool, StoreError> {
        let ReadyWallet {
            address,
            created_at,
            sealed,
            networks,
        } = *ready;
        let chain = address.chain();
        let networks = serde_dynamo::to_attribute_value(networks)
            .map_err(|e| StoreError::Other(e.to_string().into()))?;
        let key_item = to_item(&WalletKeyItem {
            pk: keys::wallet_keys_pk(app, user),
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
        let guard = GuardItem::item(app, &identifier, user)?;
        // Field by field, so the entry keeps its count of earlier failed attempts.
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user)))
            .key(SK, AttributeValue::S(keys::SK_USER.to_owned()))
            .update_expression(format!(
                "SET wallets[{index}].#status = :ready, wallets[{index}].address = :address, \
                 wallets[{index}].created_at = :created_at, wallets[{index}].last_error = :null, \
                 wallets[{index}].networks = :networks, version = version + :one"
            ))
            .condition_expression(pending_at(index))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ready", AttributeValue::S("ready".into()))
            .expression_attribute_values(":address", AttributeValue::S(address.as_str().to_owned()))
            .expression_attribute_values(":created_at", AttributeValue::S(created_at.to_owned()))
            .expression_attribute_values(":null", AttributeValue::Null(true))
            .expression_attribute_values(":networks", networks)
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
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        let codes = cancelled.codes();
        match codes.as_slice() {
            // The wallet is no longer pending, or its key exists: another delivery settled it.
            [_, _, Some("ConditionalCheckFailed")] | [Some("ConditionalCheckFailed"), ..] => {
                Ok(false)
            }
            [_, Some("ConditionalCheckFailed"), _] => Err(StoreError::Other(
                "the generated address is already claimed".into(),
            )),
            _ if cancelled.conflicted() => Err(StoreError::Unavailable(
                "transaction conflict on a wallet".into(),
            )),
            _ => Err(cancelled.unexplained()),
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
            .ok_or_else(|| StoreError::Corrupt(format!("wallet attempts of user {user}").into()))?;
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
        let sk = keys::wallet_key_sk(chain);
        let item = match self.get_item(keys::wallet_keys_pk(app, user), &sk).await? {
            Some(item) => Some(item),
            // A key sealed before keys had their own partition, not moved yet.
            None => self.get_item(keys::user_pk(app, user), &sk).await?,
        };
        item.map(|item| from_item::<WalletKeyItem>(item).map(|i| i.sealed))
            .transpose()
    }

    async fn purge_wallet_keys(&self, app: &AppId, user: UserId) -> Result<bool, StoreError> {
        let user_pk = keys::user_pk(app, user);
        let absent = |sk: &str| {
            ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(user_pk.clone()))
                .key(SK, AttributeValue::S(sk.to_owned()))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|check| TransactWriteItem::builder().condition_check(check).build())
                .map_err(build_error)
        };
        let mut items = vec![absent(keys::SK_USER)?, absent(keys::SK_DELETED)?];
        for chain in ChainType::ALL {
            // Where keys live now, and beside the user, where they lived before.
            for pk in [keys::wallet_keys_pk(app, user), user_pk.clone()] {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key(PK, AttributeValue::S(pk))
                    .key(SK, AttributeValue::S(keys::wallet_key_sk(chain)))
                    .build()
                    .map_err(build_error)?;
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
        }
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        // The user is back (restored), or deleted again and restorable: its keys stay.
        if cancelled.condition_failed(0) || cancelled.condition_failed(1) {
            return Ok(false);
        }
        if cancelled.conflicted() {
            return Err(StoreError::Unavailable(
                "transaction conflict purging wallet keys".into(),
            ));
        }
        Err(cancelled.unexplained())
    }

    async fn move_legacy_wallet_keys(
        &self,
        app: &AppId,
        user: UserId,
        now_secs: u64,
    ) -> Result<usize, StoreError> {
        let mut moved = 0;
        for chain in ChainType::ALL {
            let sk = keys::wallet_key_sk(chain);
            let Some(mut item) = self.get_item(keys::user_pk(app, user), &sk).await? else {
                continue;
            };
            let legacy = Delete::builder()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(keys::user_pk(app, user)))
                .key(SK, AttributeValue::S(sk.clone()))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(build_error)?;
            let legacy = TransactWriteItem::builder().delete(legacy).build();
            // A deletion used to mark the key to expire with the user's tombstone. One past
            // its retention is only waiting for DynamoDB's TTL: it goes now. Otherwise the
            // mark is dropped: keys in their own partition are purged when the tombstone
            // itself goes (`purge_wallet_keys`), never on a clock of their own.
            let expires = item
                .get(keys::TTL_ATTRIBUTE)
                .and_then(|ttl| ttl.as_n().ok())
                .and_then(|ttl| ttl.parse::<u64>().ok());
            if expires.is_some_and(|at| at <= now_secs) {
                match self.send_transaction(vec![legacy]).await? {
                    // Deleted, or already gone (a racing run, or DynamoDB's TTL).
                    None => {}
                    Some(cancelled) if cancelled.condition_failed(0) => {}
                    Some(cancelled) => return Err(cancelled.unexplained()),
                }
                continue;
            }
            item.remove(keys::TTL_ATTRIBUTE);
            item.remove("deleted_at");
            item.insert(
                PK.to_owned(),
                AttributeValue::S(keys::wallet_keys_pk(app, user)),
            );
            let items = vec![conditional_put(&self.table, item)?, legacy];
            match self.send_transaction(items).await? {
                None => moved += 1,
                // Gone from beside the user: a racing run moved it.
                Some(cancelled) if cancelled.condition_failed(1) => {}
                // Both places hold a key for this chain: nothing that writes keys does that.
                // Left as it is, for an operator to look at.
                Some(cancelled) if cancelled.condition_failed(0) => {
                    return Err(StoreError::Corrupt(
                        format!("user {user} has two {chain} keys, the old and the new layout")
                            .into(),
                    ));
                }
                Some(cancelled) if cancelled.conflicted() => {
                    return Err(StoreError::Unavailable(
                        "transaction conflict moving a wallet key".into(),
                    ));
                }
                Some(cancelled) => return Err(cancelled.unexplained()),
            }
        }
        Ok(moved)
    }
}

/// The condition that the wallet at `index` is still the pending one of `:chain`.
fn pending_at(index: usize) -> String {
    format!("wallets[{index}].chain_type = :chain AND wallets[{index}].#status = :pending")
}
