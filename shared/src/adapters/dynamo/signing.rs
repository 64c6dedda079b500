//! The signing path's items, beside their user: nonce leases (`NONCE#<chain id>`), daily
//! totals (`SPENT#<network>#<day>`, expiring after two days) and signature records
//! (`SIG#<time>#<id>`, which the stream turns into `wallet.signed` events).

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::access::{AppSettingsItem, UserPolicyItem, key_of};
use super::keys::{self, PK, SK};
use super::sdk::{applied, classify, from_item, to_item};
use super::users::UserItem;
use super::wallets::WalletKeyItem;
use crate::model::{AppId, ChainType, UserId, WalletStatus};
use crate::ports::WalletStore;
use crate::ports::signing::{
    KeyExportRecord, KeyExportStore, SignatureRecord, SignerRead, SigningStore,
};
use crate::ports::{Fault, StoreError};

/// The most times a lease is retried against racing leases of the same wallet before the
/// request gives up (each retry means another request got a nonce).
const LEASE_ATTEMPTS: usize = 16;
/// How long a day's total is kept.
const DAILY_TTL_SECS: u64 = 2 * 86_400;

/// A signature record as stored.
#[derive(Serialize, Deserialize)]
pub(super) struct SignatureItem {
    pk: String,
    sk: String,
    entity: String,
    pub(super) app_id: AppId,
    #[serde(flatten)]
    pub(super) record: SignatureRecord,
}

/// The sort key of a signature record.
pub(super) const SK_SIGNATURE_PREFIX: &str = "SIG#";

/// A key export record as stored, beside its user.
#[derive(Serialize, Deserialize)]
pub(super) struct KeyExportItem {
    pk: String,
    sk: String,
    entity: String,
    pub(super) app_id: AppId,
    #[serde(flatten)]
    pub(super) record: KeyExportRecord,
}

/// The sort key of a key export record.
pub(super) const SK_KEY_EXPORT_PREFIX: &str = "EXPORT#";

impl KeyExportStore for DynamoStore {
    async fn record_key_export(
        &self,
        app: &AppId,
        record: &KeyExportRecord,
    ) -> Result<(), StoreError> {
        let item = to_item(&KeyExportItem {
            pk: keys::user_pk(app, record.user_id),
            sk: format!("{SK_KEY_EXPORT_PREFIX}{}#{}", record.created_at, record.id),
            entity: "key_export".into(),
            app_id: app.clone(),
            record: record.clone(),
        })?;
        self.put_new(item).await
    }
}

impl DynamoStore {
    /// An update of the item `sk` beside the user.
    fn update_beside(
        &self,
        app: &AppId,
        user: UserId,
        sk: String,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user)))
            .key(SK, AttributeValue::S(sk))
    }
}

impl SigningStore for DynamoStore {
    async fn read_signer(
        &self,
        app: &AppId,
        user: UserId,
        chain: ChainType,
    ) -> Result<SignerRead, StoreError> {
        let user_pk = keys::user_pk(app, user);
        let wanted = vec![
            key_of(user_pk.clone(), keys::SK_USER),
            key_of(keys::wallet_keys_pk(app, user), &keys::wallet_key_sk(chain)),
            key_of(user_pk, keys::SK_USER_POLICY),
            key_of(keys::app_pk(app), keys::SK_APP),
        ];
        let mut read = SignerRead::default();
        for item in self.batch_get(wanted).await? {
            match item.get("entity") {
                Some(AttributeValue::S(entity)) if entity == "user" => {
                    read.user = Some(from_item::<UserItem>(item)?.into_user()?);
                }
                Some(AttributeValue::S(entity)) if entity == "wallet_key" => {
                    read.sealed = Some(from_item::<WalletKeyItem>(item)?.sealed);
                }
                Some(AttributeValue::S(entity)) if entity == "app" => {
                    read.settings = from_item::<AppSettingsItem>(item)?.settings;
                }
                Some(AttributeValue::S(entity)) if entity == "user_policy" => {
                    read.user_policy = Some(from_item::<UserPolicyItem>(item)?.policy);
                }
                _ => {
                    return Err(StoreError::Corrupt(
                        "a signer's read found an item of another kind".into(),
                    ));
                }
            }
        }
        // A batch reads each item on its own, not as of one moment: the wallet creator's
        // transaction (key, guard and `ready` together) can commit between the key's read and
        // the user's. A ready wallet whose key was not seen has it now: read it again (which
        // also finds a key a stack from before kept beside the user, not moved yet).
        let ready = read.user.as_ref().is_some_and(|user| {
            user.wallets
                .iter()
                .any(|wallet| wallet.chain_type == chain && wallet.status == WalletStatus::Ready)
        });
        if ready && read.sealed.is_none() {
            read.sealed = self.get_sealed_key(app, user, chain).await?;
        }
        Ok(read)
    }

    async fn lease_nonce(
        &self,
        app: &AppId,
        user: UserId,
        chain_id: u64,
        node_nonce: u64,
        now_secs: u64,
        stale_secs: u64,
    ) -> Result<u64, StoreError> {
        let pk = keys::user_pk(app, user);
        let sk = format!("NONCE#{chain_id}");
        for _ in 0..LEASE_ATTEMPTS {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(pk.clone()))
                .key(SK, AttributeValue::S(sk.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(classify)?
                .item;
            let number = |name: &str| {
                item.as_ref()
                    .and_then(|item| item.get(name))
                    .and_then(|value| value.as_n().ok())
                    .and_then(|text| text.parse::<u64>().ok())
            };
            let stored = number("next");
            // When the node's count last moved: a count that stays below our leases for
            // `stale_secs` means a leased nonce never reached it (a gap), and later
            // transactions wait behind it; the node's count is then leased again, to fill it.
            let advanced = number("node") != Some(node_nonce);
            let node_at = if advanced {
                now_secs
            } else {
                number("node_at").unwrap_or(now_secs)
            };
            let stalled = now_secs.saturating_sub(node_at) > stale_secs;
            let nonce = match stored {
                Some(next) if next > node_nonce && !stalled => next,
                _ => node_nonce,
            };
            let node_at = if stalled { now_secs } else { node_at };
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(PK, AttributeValue::S(pk.clone()))
                .item(SK, AttributeValue::S(sk.clone()))
                .item("entity", AttributeValue::S("nonce_lease".into()))
                .item(
                    "next",
                    AttributeValue::N(nonce.saturating_add(1).to_string()),
                )
                .item("node", AttributeValue::N(node_nonce.to_string()))
                .item("node_at", AttributeValue::N(node_at.to_string()));
            put = match stored {
                Some(next) => put
                    .condition_expression("#next = :seen")
                    .expression_attribute_names("#next", "next")
                    .expression_attribute_values(":seen", AttributeValue::N(next.to_string())),
                None => put.condition_expression("attribute_not_exists(pk)"),
            };
            if applied(put.send().await)? {
                return Ok(nonce);
            }
        }
        Err(StoreError::Unavailable(Fault::new(
            "nonce leases of one wallet kept colliding",
        )))
    }

    async fn release_nonce(
        &self,
        app: &AppId,
        user: UserId,
        chain_id: u64,
        nonce: u64,
    ) -> Result<(), StoreError> {
        let result = self
            .update_beside(app, user, format!("NONCE#{chain_id}"))
            .update_expression("SET #next = :nonce")
            .condition_expression("#next = :after")
            .expression_attribute_names("#next", "next")
            .expression_attribute_values(":nonce", AttributeValue::N(nonce.to_string()))
            .expression_attribute_values(
                ":after",
                AttributeValue::N(nonce.saturating_add(1).to_string()),
            )
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn reserve_daily(
        &self,
        app: &AppId,
        user: UserId,
        network: &str,
        day: &str,
        amount: u128,
        limit: u128,
    ) -> Result<bool, StoreError> {
        let Some(room) = limit.checked_sub(amount) else {
            return Ok(false);
        };
        let expires = crate::clock::now_ms() / 1000 + DAILY_TTL_SECS;
        let result = self
            .update_beside(app, user, format!("SPENT#{network}#{day}"))
            .update_expression("ADD spent :amount SET #ttl = :ttl, entity = :entity")
            .condition_expression("attribute_not_exists(spent) OR spent <= :room")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":amount", AttributeValue::N(amount.to_string()))
            .expression_attribute_values(":room", AttributeValue::N(room.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires.to_string()))
            .expression_attribute_values(":entity", AttributeValue::S("daily_total".into()))
            .send()
            .await;
        applied(result)
    }

    async fn refund_daily(
        &self,
        app: &AppId,
        user: UserId,
        network: &str,
        day: &str,
        amount: u128,
    ) -> Result<(), StoreError> {
        let result = self
            .update_beside(app, user, format!("SPENT#{network}#{day}"))
            .update_expression("ADD spent :minus")
            .condition_expression("attribute_exists(spent)")
            .expression_attribute_values(":minus", AttributeValue::N(format!("-{amount}")))
            .send()
            .await;
        applied(result).map(|_| ())
    }

    async fn record_signature(
        &self,
        app: &AppId,
        record: &SignatureRecord,
    ) -> Result<(), StoreError> {
        let item = to_item(&SignatureItem {
            pk: keys::user_pk(app, record.user_id),
            sk: format!("{SK_SIGNATURE_PREFIX}{}#{}", record.created_at, record.id),
            entity: "signature".into(),
            app_id: app.clone(),
            record: record.clone(),
        })?;
        self.put_new(item).await
    }
}
