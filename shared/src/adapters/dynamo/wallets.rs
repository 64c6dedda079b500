//! Wallets: the sealed key, the address guard and the wallet entry, written together.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::sdk::{applied, build_error, classify, conditional_put, from_item, to_item};
use super::users::GuardItem;
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::SealedKey;
use crate::model::{AppId, ChainType, Identifier, UserId};
use crate::ports::{ReadyWallet, StoreError, WalletAttempt, WalletStore};

/// A sealed private key as stored, beside its user.
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
