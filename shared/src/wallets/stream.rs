//! What a record of the table's stream means for the wallet creator. A record matters when a
//! wallet *enters* `pending` (a new user, an added or re-queued wallet): a wallet is to be
//! created. Records that leave a wallet where it was (an attempt counted, a profile edit) ask
//! for nothing, so bookkeeping writes never trigger work twice.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde::Deserialize;

use crate::model::{AppId, ChainType, UserId, Wallet, WalletStatus};
use crate::store::keys::SK_USER;
use crate::stream::PoisonRecord;

/// The wallet work one stream record asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletWork {
    pub app: AppId,
    pub user_id: UserId,
    /// Wallets that entered `pending`, with their index in the user's list.
    pub to_create: Vec<(usize, ChainType)>,
}

/// The part of a user image the wallet creator reads.
#[derive(Deserialize)]
struct UserImage {
    sk: String,
    app_id: AppId,
    id: UserId,
    wallets: Vec<Wallet>,
}

/// Reads one record. `None` for records that concern no user (keys, guards, apps), removals,
/// and user changes that move no wallet into a new state.
pub fn wallet_work(record: &EventRecord) -> Result<Option<WalletWork>, PoisonRecord> {
    let poison = |reason: String| PoisonRecord {
        event_id: record.event_id.clone(),
        reason,
    };
    if record.event_name == "REMOVE" {
        return Ok(None);
    }
    let new_image = &record.change.new_image;
    let is_user = new_image
        .get("sk")
        .and_then(|sk| match sk {
            serde_dynamo::AttributeValue::S(sk) => Some(sk == SK_USER),
            _ => None,
        })
        .ok_or_else(|| poison("the new image has no string sort key".into()))?;
    if !is_user {
        return Ok(None);
    }
    let new: UserImage = serde_dynamo::from_item(new_image.clone())
        .map_err(|e| poison(format!("new image: {e}")))?;
    let old: Option<UserImage> = if record.change.old_image.is_empty() {
        None
    } else {
        Some(
            serde_dynamo::from_item(record.change.old_image.clone())
                .map_err(|e| poison(format!("old image: {e}")))?,
        )
    };
    debug_assert_eq!(new.sk, SK_USER);
    let status_before = |chain: ChainType| {
        old.as_ref()
            .and_then(|old| old.wallets.iter().find(|w| w.chain_type == chain))
            .map(|w| w.status)
    };
    let to_create: Vec<(usize, ChainType)> = new
        .wallets
        .iter()
        .enumerate()
        .filter(|(_, wallet)| {
            wallet.status == WalletStatus::Pending
                && status_before(wallet.chain_type) != Some(WalletStatus::Pending)
        })
        .map(|(index, wallet)| (index, wallet.chain_type))
        .collect();
    if to_create.is_empty() {
        return Ok(None);
    }
    Ok(Some(WalletWork {
        app: new.app_id,
        user_id: new.id,
        to_create,
    }))
}
