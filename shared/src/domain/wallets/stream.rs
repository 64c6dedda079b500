//! What a record of the table's stream means for the wallet creator. A record matters when a
//! wallet *enters* `pending` (a new user, an added or re-queued wallet): a wallet is to be
//! created. Records that leave a wallet where it was (an attempt counted, a profile edit) ask
//! for nothing, so bookkeeping writes never trigger work twice.

use crate::model::change::{ChangeKind, ChangeRecord, PoisonRecord, UserChange};
use crate::model::{AppId, ChainType, UserId, WalletStatus};

/// The wallet work one stream record asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletWork {
    pub app: AppId,
    pub user_id: UserId,
    /// Wallets that entered `pending`, with their index in the user's list.
    pub to_create: Vec<(usize, ChainType)>,
}

/// Reads one record. `None` for records that concern no user (keys, guards, apps), removals,
/// and user changes that move no wallet into a new state.
pub fn wallet_work(record: &ChangeRecord) -> Result<Option<WalletWork>, PoisonRecord> {
    let Some(UserChange { kind, old, new, .. }) = record.change.clone()? else {
        return Ok(None);
    };
    if kind == ChangeKind::Remove {
        return Ok(None);
    }
    let Some((app, new)) = new else {
        return Err(record.poison(format!("a {kind:?} record without its new image")));
    };
    let old = old.map(|(_, user)| user);
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
        app,
        user_id: new.id,
        to_create,
    }))
}
