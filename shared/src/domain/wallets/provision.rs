//! The wallet creator's work on one batch of stream records.
//!
//! For each wallet that entered `pending`: generate a key pair, seal the private key under the
//! user's data key (one per user per batch, issued under an encryption context naming the app
//! and the user), and commit key, address guard and `ready` entry in one conditional
//! transaction. A duplicate or late delivery finds the wallet no longer pending and writes
//! nothing, so however often a record comes, one wallet per user and chain exists and its
//! address never changes. A failed attempt is counted on the entry; at the bound the wallet
//! becomes `failed` (re-queued through the API), never `pending` forever. The events of
//! these changes (`user.wallet_created`, `user.wallet_failed`) come from the stream records
//! the writes make: see [`crate::domain::events`]. When a deleted user's tombstone goes, its
//! sealed keys go with it (unless the user was restored).

use futures::StreamExt;
use tokio::sync::OnceCell;

use super::seal::{DataKey, KeyContext, KeySealer, associated_data};
use super::stream::{WalletWork, wallet_work};
use crate::clock;
use crate::model::change::ChangeRecord;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::network::{self, Network};
use crate::model::{AppId, ChainType, UserId, WalletError};
use crate::ports::access::AccessStore;
use crate::ports::{ReadyWallet, StoreError, WalletAttempt, WalletStore};

/// Failed attempts before a wallet is marked `failed`. The event source mapping's own retry
/// bound is set higher, so the function, not the mapping, decides when a wallet has failed.
pub const MAX_WALLET_ATTEMPTS: u32 = 3;
/// Records of a batch processed at once: different users' wallets are independent.
const CONCURRENCY: usize = 16;

/// Processes a batch. Returns the records to report in `batchItemFailures` (by sequence
/// number): those with work left that a retry can do, and poison records.
pub async fn process_batch<S, K>(store: &S, sealer: &K, records: &[ChangeRecord]) -> Vec<String>
where
    S: WalletStore + AccessStore,
    K: KeySealer,
{
    // Each app's networks, read once per batch.
    let networks = Networks::default();
    // The futures are built before they are streamed: a closure inside the stream combinator
    // would make the batch future's `Send` bound unprovable for the Lambda runtime.
    let pending: Vec<_> = records
        .iter()
        .map(|record| process_record(store, sealer, &networks, record))
        .collect();
    let outcomes: Vec<bool> = futures::stream::iter(pending)
        .buffered(CONCURRENCY)
        .collect()
        .await;
    records
        .iter()
        .zip(outcomes)
        .filter(|(_, done)| !done)
        .map(|(record, _)| record.sequence.clone())
        .collect()
}

/// `true` when the record needs no retry.
async fn process_record<S, K>(
    store: &S,
    sealer: &K,
    networks: &Networks,
    record: &ChangeRecord,
) -> bool
where
    S: WalletStore + AccessStore,
    K: KeySealer,
{
    if let Some((app, user)) = &record.tombstone_removed {
        return purge_keys(store, app, *user).await;
    }
    let work = match wallet_work(record) {
        Ok(Some(work)) => work,
        Ok(None) => return true,
        Err(poison) => {
            tracing::error!(record_id = %poison.record_id, reason = %poison.reason, "poison record");
            return false;
        }
    };
    let WalletWork {
        app,
        user_id,
        to_create,
    } = work;
    let networks = match networks.of(store, &app).await {
        Ok(networks) => networks,
        Err(error) => {
            tracing::error!(%error, "reading the app's networks failed; will retry");
            return false;
        }
    };
    // One data key per user, asked for only when a wallet needs sealing: its encryption
    // context names the user, so it can seal no one else's keys (KMS: one `GenerateDataKey`
    // per user whose wallets are created, whatever their chains).
    let data_key = OnceCell::new();
    let mut done = true;
    for (index, chain) in to_create {
        let wallet = Pending {
            app: &app,
            user: user_id,
            index,
            chain,
        };
        done &= create_wallet(store, sealer, &data_key, &networks, wallet).await;
    }
    done
}

/// A deleted user's tombstone went (its retention ended, or it was restored): its sealed keys
/// go too unless the user is back or deleted again. They were kept until now, untouched by
/// the deletion, so that no function answering HTTP requests need reach them.
async fn purge_keys<S: WalletStore>(store: &S, app: &AppId, user: UserId) -> bool {
    match store.purge_wallet_keys(app, user).await {
        Ok(purged) => {
            tracing::info!(%user, purged, "a tombstone went: wallet keys purged unless the user is back");
            true
        }
        Err(error) => {
            tracing::error!(%user, %error, "purging wallet keys failed; will retry");
            false
        }
    }
}

/// The networks of each app a batch touches, read once.
#[derive(Default)]
struct Networks(Mutex<HashMap<AppId, Vec<Network>>>);

impl Networks {
    async fn of<S: AccessStore>(&self, store: &S, app: &AppId) -> Result<Vec<Network>, StoreError> {
        if let Some(known) = self.0.lock().ok().and_then(|known| known.get(app).cloned()) {
            return Ok(known);
        }
        let settings = store.read_admission(app, &[]).await?.settings;
        let networks = network::effective(&settings.networks);
        if let Ok(mut known) = self.0.lock() {
            known.insert(app.clone(), networks.clone());
        }
        Ok(networks)
    }
}

/// A wallet to create: the user's entry at `index`, on `chain`.
struct Pending<'a> {
    app: &'a AppId,
    user: UserId,
    index: usize,
    chain: ChainType,
}

/// Creates one wallet. `true` when settled (ready, failed for good, or settled elsewhere).
async fn create_wallet<S: WalletStore, K: KeySealer>(
    store: &S,
    sealer: &K,
    data_key: &OnceCell<DataKey>,
    networks: &[Network],
    wallet: Pending<'_>,
) -> bool {
    let Pending {
        app,
        user,
        index,
        chain,
    } = wallet;
    let sealed = async {
        let key = super::generate(chain).map_err(|_| WalletError::KeyGenerationFailed)?;
        let context = KeyContext::wallet(app, user);
        let data_key = data_key
            .get_or_try_init(|| sealer.data_key(&context))
            .await
            .map_err(|error| {
                tracing::error!(%error, "no data key");
                WalletError::KeySealingFailed
            })?;
        let sealed = data_key
            .seal(&key.private_key, &associated_data(app, user, chain))
            .map_err(|_| WalletError::KeySealingFailed)?;
        Ok::<_, WalletError>((key.address, sealed))
    }
    .await;
    match sealed {
        Ok((address, sealed)) => {
            let now = clock::now_rfc3339();
            let shown = network::for_wallet(networks, chain, address.as_str());
            match store
                .complete_wallet(
                    app,
                    user,
                    index,
                    &ReadyWallet {
                        address: &address,
                        created_at: &now,
                        sealed: &sealed,
                        networks: &shown,
                    },
                )
                .await
            {
                Ok(true) => {
                    tracing::info!(%user, %chain, address = address.as_str(), "wallet ready");
                    true
                }
                Ok(false) => true,
                Err(error) => {
                    tracing::error!(%user, %chain, %error, "storing the wallet failed; will retry");
                    false
                }
            }
        }
        Err(code) => {
            let counted = store
                .record_wallet_failure(app, user, index, chain, code.code(), MAX_WALLET_ATTEMPTS)
                .await;
            match counted {
                Ok(WalletAttempt::Counted { attempts, failed }) => {
                    tracing::warn!(%user, %chain, code = code.code(), attempts, failed, "wallet attempt failed");
                    failed
                }
                Ok(WalletAttempt::Settled) => true,
                Err(error) => {
                    tracing::error!(%user, %chain, %error, "recording a failed attempt failed");
                    false
                }
            }
        }
    }
}
