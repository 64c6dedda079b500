//! Break-glass export: a wallet's private key out of the stack, for the operator who must move
//! a user's funds without it (an outage, a migration away). The admin CLI's alone: no HTTP
//! route reaches it, and in AWS it runs only under a role allowed to open wallet keys. Each
//! key's audit record is written before the key is opened, so no key leaves without one; the
//! stream makes of each a signed `user.wallet_key_exported` event for the app.

use zeroize::Zeroizing;

use super::keys::{KeyError, address_of};
use super::seal::{self, KeySealer, SealError};
use crate::clock;
use crate::domain::users::{self, UserFilter, UsersError};
use crate::model::ids::random_id;
use crate::model::{AppId, ChainType, User, UserId, WalletStatus};
use crate::ports::sealer::KeyContext;
use crate::ports::signing::{KeyExportRecord, KeyExportStore};
use crate::ports::{StoreError, UserStore, WalletStore};

/// Why an export stopped. Keys emitted before the failure were recorded and written.
#[derive(Debug, thiserror::Error)]
pub enum BreakGlassError {
    #[error("no user {0} in this app")]
    NoSuchUser(String),
    #[error("the reason must say why, in 3 to 500 characters")]
    NoReason,
    #[error("the key service refused to open a wallet key (is this the break-glass role?): {0}")]
    Refused(#[source] SealError),
    #[error("the ready {chain} wallet of user {user} has no sealed key")]
    KeyMissing { user: UserId, chain: ChainType },
    #[error("the {chain} key of user {user} does not derive its address {address}")]
    WrongKey {
        user: UserId,
        chain: ChainType,
        address: String,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("writing the export failed: {0}")]
    Write(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UsersError> for BreakGlassError {
    fn from(error: UsersError) -> Self {
        match error {
            UsersError::Store(error) => Self::Store(error),
            other => Self::Store(StoreError::Other(other.to_string().into())),
        }
    }
}

/// Who asks, why, and to whom the keys are encrypted (recorded with each key).
#[derive(Debug, Clone)]
pub struct Request {
    /// One user, or every user of the app.
    pub user: Option<UserId>,
    pub reason: String,
    pub recipient: String,
    pub operator: String,
}

/// One exported key, as wallets import it: ethereum's private key as 0x hex; solana's as the
/// base58 64-byte keypair (seed and public key) that `solana-keygen` and Phantom read.
/// No `Debug`: a key must not reach a log by accident.
#[derive(serde::Serialize)]
pub struct ExportedKey {
    pub app_id: AppId,
    pub user_id: UserId,
    pub chain_type: ChainType,
    pub address: String,
    #[serde(serialize_with = "reveal")]
    pub private_key: Zeroizing<String>,
}

/// Writes the key itself: into the encrypted export only.
fn reveal<S: serde::Serializer>(key: &Zeroizing<String>, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(key)
}

/// Exports the private keys of the request's ready wallets to `emit`, each after its audit
/// record: how many. The first key is opened before anything is recorded, so a refused key
/// service (the wrong role) records and emits nothing. Every key is checked against its
/// wallet's address before it is emitted.
pub async fn export_keys<S, K>(
    store: &S,
    sealer: &K,
    app: &AppId,
    request: &Request,
    mut emit: impl FnMut(&ExportedKey) -> std::io::Result<()>,
) -> Result<usize, BreakGlassError>
where
    S: UserStore + WalletStore + KeyExportStore,
    K: KeySealer,
{
    let reason_chars = request.reason.trim().chars().count();
    if !(3..=500).contains(&reason_chars) {
        return Err(BreakGlassError::NoReason);
    }
    let wallets = ready_wallets(store, app, request.user).await?;
    let Some(first) = wallets.first() else {
        return Ok(0);
    };
    // Refused here, nothing is recorded: the operator lacks the role.
    open_key(store, sealer, app, first).await?;
    for wallet in &wallets {
        let record = KeyExportRecord {
            id: random_id("kx").map_err(|_| KeyError::Random)?,
            user_id: wallet.user,
            chain_type: wallet.chain,
            address: wallet.address.clone(),
            recipient: request.recipient.clone(),
            reason: request.reason.trim().to_owned(),
            operator: request.operator.clone(),
            created_at: clock::now_rfc3339(),
        };
        store.record_key_export(app, &record).await?;
        let key = open_key(store, sealer, app, wallet).await?;
        emit(&ExportedKey {
            app_id: app.clone(),
            user_id: wallet.user,
            chain_type: wallet.chain,
            address: wallet.address.clone(),
            private_key: portable(wallet.chain, &key),
        })?;
    }
    Ok(wallets.len())
}

/// A ready wallet to export.
struct Ready {
    user: UserId,
    chain: ChainType,
    address: String,
}

/// The ready wallets of one user, or of every user of the app (a page at a time).
async fn ready_wallets<S: UserStore>(
    store: &S,
    app: &AppId,
    user: Option<UserId>,
) -> Result<Vec<Ready>, BreakGlassError> {
    let of = |user: &User| -> Vec<Ready> {
        user.wallets
            .iter()
            .filter(|wallet| wallet.status == WalletStatus::Ready)
            .filter_map(|wallet| {
                Some(Ready {
                    user: user.id,
                    chain: wallet.chain_type,
                    address: wallet.address.clone()?,
                })
            })
            .collect()
    };
    if let Some(id) = user {
        let user = store
            .get_user(app, id)
            .await?
            .ok_or_else(|| BreakGlassError::NoSuchUser(id.to_string()))?;
        return Ok(of(&user));
    }
    let mut wallets = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page =
            users::list_users(store, app, 100, cursor.as_deref(), &UserFilter::default()).await?;
        wallets.extend(page.users.iter().flat_map(of));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(wallets),
        }
    }
}

/// The wallet's private key, opened and checked against its address.
async fn open_key<S: WalletStore, K: KeySealer>(
    store: &S,
    sealer: &K,
    app: &AppId,
    wallet: &Ready,
) -> Result<Zeroizing<Vec<u8>>, BreakGlassError> {
    let sealed = store
        .get_sealed_key(app, wallet.user, wallet.chain)
        .await?
        .ok_or(BreakGlassError::KeyMissing {
            user: wallet.user,
            chain: wallet.chain,
        })?;
    let key = seal::open(
        sealer,
        &sealed,
        &seal::associated_data(app, wallet.user, wallet.chain),
        &KeyContext::wallet(app, wallet.user),
    )
    .await
    .map_err(BreakGlassError::Refused)?;
    if address_of(wallet.chain, &key)?.as_str() != wallet.address {
        return Err(BreakGlassError::WrongKey {
            user: wallet.user,
            chain: wallet.chain,
            address: wallet.address.clone(),
        });
    }
    Ok(key)
}

/// The key as the chain's wallets import it.
fn portable(chain: ChainType, key: &[u8]) -> Zeroizing<String> {
    match chain {
        ChainType::Ethereum => Zeroizing::new(format!("0x{}", hex::encode(key))),
        ChainType::Solana => {
            let mut pair = Zeroizing::new(Vec::with_capacity(64));
            pair.extend_from_slice(key);
            if let Ok(seed) = <&[u8; 32]>::try_from(key) {
                let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
                pair.extend_from_slice(public.as_bytes());
            }
            Zeroizing::new(bs58::encode(pair.as_slice()).into_string())
        }
    }
}
