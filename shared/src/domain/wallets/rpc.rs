//! The signing path: one RPC request to a user's wallet, from its checks to its signature.
//!
//! In order, so that a refused request costs no key opening and changes nothing anywhere:
//! the user exists and is active and its wallet is ready; the chain is one of the app's
//! networks; the app's policy allows the request; missing transaction fields are filled from
//! the network's node (a nonce leased so that concurrent sends never share one); the day's
//! total is reserved; then the sealed key is opened (into memory zeroed on drop, for this
//! request only), the payload signed, the signature recorded, and, for sends, the transaction
//! broadcast. A send the node did not take gives its nonce and its reservation back.

use alloy_primitives::U256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::keys::KeyError;
use super::seal::{self, KeySealer, SealError};
use super::sign::{self, TypedDataError};
use super::transaction::{self, TransactionError};
use super::{policy, solana};
use crate::model::ids::random_id;
use crate::model::network::{self, Network};
use crate::model::policy::SigningPolicy;
use crate::model::rpc::{
    EthTransaction, MAX_FEE_PER_GAS, MAX_GAS_LIMIT, Method, RpcRequest, TransactionKind,
};
use crate::model::validation::FieldError;
use crate::model::{AppId, ChainType, SealedKey, UserId, UserStatus, WalletStatus};
use crate::ports::StoreError;
use crate::ports::signing::{ChainNode, NodeError, SignatureRecord, SigningStore};

/// A nonce leased and not seen by the node for this long is taken to have failed.
pub const NONCE_LEASE_STALE_SECS: u64 = 120;

/// Why a request was not signed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the user is disabled")]
    UserDisabled,
    /// The wallet exists but is not ready (pending or failed).
    #[error("the {0} wallet is {1}")]
    WalletNotReady(ChainType, &'static str),
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// The app's policy refuses: the rule and why.
    #[error("refused by {}: {}", .0.field, .0.message)]
    Policy(FieldError),
    /// The node would not take the transaction (insufficient funds, a used nonce, …).
    #[error("the node rejected the transaction: {0}")]
    Rejected(String),
    /// The node could not be reached.
    #[error("the network's node is unavailable")]
    NodeUnavailable(#[source] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the wallet's key could not be opened")]
    Seal(#[source] SealError),
    #[error("the wallet's key is not valid")]
    Key(#[source] KeyError),
}

impl From<NodeError> for RpcError {
    fn from(error: NodeError) -> Self {
        match error {
            NodeError::Rejected(message) => Self::Rejected(message),
            // Nothing was sent: the app's setting is what to change.
            NodeError::Refused => invalid(
                "rpc_url",
                "the network's rpc_url leads to an address the destination guard refuses \
                 (private, loopback or link-local)",
            ),
            other => Self::NodeUnavailable(other),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> RpcError {
    RpcError::Invalid(vec![FieldError::new(field, message)])
}

/// What a signed request answers. Ethereum signatures and transactions are 0x hex; Solana's
/// signatures base58 and transactions base64.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signed {
    pub method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_transaction: Option<String>,
    /// The transaction's hash (ethereum) or id (solana, its first signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The network of a transaction, as CAIP-2 (`eip155:1`, `solana:<genesis hash>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caip2: Option<String>,
    /// The record of this signature.
    pub signature_id: String,
    /// A send whose node did not answer: it may or may not have taken the transaction
    /// (`signed_transaction` and `hash` say which to look for; sending the same bytes again is
    /// safe). Answered `202`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

/// Who asks: the app and the API key.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub app: &'a AppId,
    pub key_id: &'a str,
}

/// What the signing path runs on.
pub struct Wallets<'a, S, K, N> {
    pub store: &'a S,
    pub sealer: &'a K,
    pub node: &'a N,
}

/// The wallet a request signs with, once every check passed.
struct Target {
    user: UserId,
    chain: ChainType,
    address: String,
    sealed: SealedKey,
    policy: SigningPolicy,
    networks: Vec<Network>,
}

impl<S, K, N> Wallets<'_, S, K, N>
where
    S: SigningStore,
    K: KeySealer,
    N: ChainNode,
{
    /// Signs (and, for sends, broadcasts) `request` with the `chain` wallet of user `user_id`.
    pub async fn call(
        &self,
        caller: Caller<'_>,
        user_id: &str,
        chain: ChainType,
        request: RpcRequest,
    ) -> Result<Signed, RpcError> {
        let target = self.target(caller.app, user_id, chain).await?;
        policy::check_method(&target.policy, request.method()).map_err(RpcError::Policy)?;
        match request {
            RpcRequest::PersonalSign { message } => {
                let key = self.open(caller, &target).await?;
                let signature = sign::personal_sign(&key, &message).map_err(RpcError::Key)?;
                self.message_signed(caller, &target, Method::PersonalSign, &message, &signature)
                    .await
            }
            RpcRequest::SignTypedData { typed_data } => {
                let hash = sign::typed_data_hash(&typed_data).map_err(|error| match error {
                    TypedDataError::Malformed(message) => invalid("params.typed_data", message),
                    TypedDataError::Key(error) => RpcError::Key(error),
                })?;
                let key = self.open(caller, &target).await?;
                let signature = sign::sign_hash(&key, &hash).map_err(RpcError::Key)?;
                self.message_signed(caller, &target, Method::SignTypedData, &hash, &signature)
                    .await
            }
            RpcRequest::SignTransaction { transaction } => {
                self.ethereum_transaction(caller, &target, transaction, false)
                    .await
            }
            RpcRequest::SendTransaction { transaction } => {
                self.ethereum_transaction(caller, &target, transaction, true)
                    .await
            }
            RpcRequest::SolanaSignMessage { message } => {
                if solana::is_transaction_message(&message) {
                    return Err(invalid(
                        "params.message",
                        "is a Solana transaction message: sign it with signTransaction, \
                         where the policy applies",
                    ));
                }
                let key = self.open(caller, &target).await?;
                let signature = sign::solana_sign_message(&key, &message).map_err(RpcError::Key)?;
                self.message_signed(
                    caller,
                    &target,
                    Method::SolanaSignMessage,
                    &message,
                    &signature,
                )
                .await
            }
            RpcRequest::SolanaSignTransaction { transaction } => {
                self.solana_transaction(caller, &target, &transaction, None)
                    .await
            }
            RpcRequest::SolanaSignAndSendTransaction {
                transaction,
                cluster,
            } => {
                let network = solana_network(&target.networks, cluster.as_deref())?;
                self.solana_transaction(caller, &target, &transaction, Some(network))
                    .await
            }
        }
    }

    /// The user's ready wallet on `chain` (its key still sealed), the app's policy and
    /// networks, read in one round trip.
    async fn target(
        &self,
        app: &AppId,
        user_id: &str,
        chain: ChainType,
    ) -> Result<Target, RpcError> {
        let id = UserId::parse(user_id).ok_or(RpcError::NotFound("user"))?;
        let read = self.store.read_signer(app, id, chain).await?;
        let user = read.user.ok_or(RpcError::NotFound("user"))?;
        if user.status == UserStatus::Disabled {
            return Err(RpcError::UserDisabled);
        }
        let wallet = user
            .wallets
            .iter()
            .find(|wallet| wallet.chain_type == chain)
            .ok_or(RpcError::NotFound("wallet"))?;
        let address = match (wallet.status, &wallet.address) {
            (WalletStatus::Ready, Some(address)) => address.clone(),
            (WalletStatus::Failed, _) => return Err(RpcError::WalletNotReady(chain, "failed")),
            _ => return Err(RpcError::WalletNotReady(chain, "pending")),
        };
        Ok(Target {
            user: id,
            chain,
            address,
            sealed: read.sealed.ok_or(RpcError::NotFound("wallet key"))?,
            // A user's override replaces the rules it sets (deny lists add up).
            policy: match &read.user_policy {
                Some(over) => read.settings.signing_policy.overridden_by(over),
                None => read.settings.signing_policy,
            },
            networks: network::effective(&read.settings.networks),
        })
    }

    /// Opens the wallet's sealed key, for this request only.
    async fn open(
        &self,
        caller: Caller<'_>,
        target: &Target,
    ) -> Result<Zeroizing<Vec<u8>>, RpcError> {
        let aad = seal::associated_data(caller.app, target.user, target.chain);
        let context = seal::KeyContext::wallet(caller.app, target.user);
        seal::open(self.sealer, &target.sealed, &aad, &context)
            .await
            .map_err(RpcError::Seal)
    }

    /// Records and answers a message signature.
    async fn message_signed(
        &self,
        caller: Caller<'_>,
        target: &Target,
        method: Method,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<Signed, RpcError> {
        let signature = match target.chain {
            ChainType::Ethereum => format!("0x{}", hex::encode(signature)),
            ChainType::Solana => bs58::encode(signature).into_string(),
        };
        let record = self
            .record(caller, target, method, payload, None, None)
            .await?;
        Ok(Signed {
            method: method.as_str(),
            signature: Some(signature),
            signed_transaction: None,
            hash: None,
            caip2: None,
            signature_id: record.id,
            unconfirmed: false,
        })
    }

    async fn record(
        &self,
        caller: Caller<'_>,
        target: &Target,
        method: Method,
        payload: &[u8],
        transaction_hash: Option<String>,
        network: Option<String>,
    ) -> Result<SignatureRecord, RpcError> {
        let id = random_id("sig").map_err(|_| RpcError::Key(KeyError::Random))?;
        let record = SignatureRecord {
            id,
            user_id: target.user,
            chain_type: target.chain,
            address: target.address.clone(),
            method: method.as_str().to_owned(),
            payload_hash: hex::encode(Sha256::digest(payload)),
            transaction_hash,
            network,
            broadcast: method.sends(),
            key_id: caller.key_id.to_owned(),
            created_at: crate::clock::now_rfc3339(),
        };
        self.store.record_signature(caller.app, &record).await?;
        Ok(record)
    }

    async fn ethereum_transaction(
        &self,
        caller: Caller<'_>,
        target: &Target,
        mut tx: EthTransaction,
        send: bool,
    ) -> Result<Signed, RpcError> {
        let method = if send {
            Method::SendTransaction
        } else {
            Method::SignTransaction
        };
        let network = target
            .networks
            .iter()
            .find(|network| {
                network.chain_type == ChainType::Ethereum && network.chain_id == Some(tx.chain_id)
            })
            .ok_or_else(|| {
                let ids: Vec<String> = target
                    .networks
                    .iter()
                    .filter_map(|network| network.chain_id.map(|id| id.to_string()))
                    .collect();
                invalid(
                    "params.transaction.chain_id",
                    format!(
                        "chain {} is not one of the app's networks ({})",
                        tx.chain_id,
                        ids.join(", ")
                    ),
                )
            })?;
        // The request's own rules first, before any node is asked.
        policy::check_transaction(&target.policy, &tx).map_err(RpcError::Policy)?;
        let url = self
            .fill_gas_and_fees(target, network, &mut tx, send)
            .await?;
        // What the transaction can cost the wallet: its value and all its gas at the highest
        // price it offers. Limits hold on that, fees included.
        let cost = transaction::max_cost(&tx);
        policy::check_cost(&target.policy, cost).map_err(RpcError::Policy)?;
        let network_key = format!("eip155:{}", tx.chain_id);
        let amount = u128::try_from(cost).unwrap_or(u128::MAX);
        let reservation = self.reserve(caller, target, &network_key, amount).await?;
        // Only now the nonce: a request refused above takes none.
        let leased = match self.nonce(caller, target, url, &mut tx, send).await {
            Ok(leased) => leased,
            Err(error) => {
                self.refund(caller, target, reservation.as_ref()).await;
                return Err(error);
            }
        };
        let give_back = |error: RpcError| async {
            self.refund(caller, target, reservation.as_ref()).await;
            if let Some(nonce) = leased {
                // Best effort: a nonce not given back is a gap the lease heals (see
                // NONCE_LEASE_STALE_SECS).
                let _ = self
                    .store
                    .release_nonce(caller.app, target.user, tx.chain_id, nonce)
                    .await;
            }
            error
        };
        let signed = match self.sign_ethereum(caller, target, &tx).await {
            Ok(signed) => signed,
            Err(error) => return Err(give_back(error).await),
        };
        let hash = format!("0x{}", hex::encode(signed.hash));
        let raw = format!("0x{}", hex::encode(&signed.raw));
        let record = self
            .record(
                caller,
                target,
                method,
                &signed.raw,
                Some(hash.clone()),
                Some(network_key.clone()),
            )
            .await;
        let record = match record {
            Ok(record) => record,
            Err(error) => return Err(give_back(error).await),
        };
        let mut unconfirmed = false;
        if send {
            let url = url.unwrap_or_default();
            let params = json!([raw]);
            match self.broadcast(url, "eth_sendRawTransaction", params).await {
                Ok(answered) => unconfirmed = !answered,
                Err(error) => return Err(give_back(error).await),
            }
        }
        Ok(Signed {
            method: method.as_str(),
            signature: None,
            signed_transaction: Some(raw),
            hash: Some(hash),
            caip2: Some(network_key),
            signature_id: record.id,
            unconfirmed,
        })
    }

    async fn sign_ethereum(
        &self,
        caller: Caller<'_>,
        target: &Target,
        tx: &EthTransaction,
    ) -> Result<transaction::SignedTransaction, RpcError> {
        let key = self.open(caller, target).await?;
        transaction::sign_transaction(&key, tx).map_err(|error| match error {
            TransactionError::Incomplete(fields) => invalid(
                "params.transaction",
                format!("{} must be given", fields.join(", ")),
            ),
            TransactionError::Key(error) => RpcError::Key(error),
        })
    }

    /// Fills the gas limit and fees a transaction lacks from the network's node, and checks
    /// that a node is there when one is needed (a send, or a nonce to find). Returns its URL.
    async fn fill_gas_and_fees<'n>(
        &self,
        target: &Target,
        network: &'n Network,
        tx: &mut EthTransaction,
        send: bool,
    ) -> Result<Option<&'n str>, RpcError> {
        let missing = transaction::missing_fields(tx);
        if missing.is_empty() && !send {
            return Ok(network.rpc_url.as_deref());
        }
        let Some(url) = network.rpc_url.as_deref() else {
            let why = if send {
                "sending needs the network's rpc_url (PATCH /v1/app/settings)".to_owned()
            } else {
                format!(
                    "{} must be given: the network has no rpc_url to fill them from",
                    missing.join(", ")
                )
            };
            return Err(invalid("params.transaction", why));
        };
        if tx.gas_limit.is_none() {
            let mut call = json!({"from": target.address, "value": format!("{:#x}", tx.value)});
            if let Some(to) = tx.to {
                call["to"] = json!(format!("{to:#x}"));
            }
            if !tx.data.is_empty() {
                call["data"] = json!(format!("0x{}", hex::encode(&tx.data)));
            }
            let estimate = quantity(
                self.node
                    .call(url, "eth_estimateGas", json!([call]))
                    .await?,
            )?;
            // A fifth more than the estimate: state can change before the block; unused gas
            // is not charged.
            let gas = estimate.saturating_add(estimate / 5);
            if gas > u128::from(MAX_GAS_LIMIT) {
                return Err(invalid(
                    "params.transaction.gas_limit",
                    format!("the node estimates {estimate} gas; at most {MAX_GAS_LIMIT}"),
                ));
            }
            tx.gas_limit = Some(gas as u64);
        }
        match tx.kind {
            TransactionKind::Legacy if tx.gas_price.is_none() => {
                tx.gas_price = Some(quantity(
                    self.node.call(url, "eth_gasPrice", json!([])).await?,
                )?);
            }
            TransactionKind::Eip1559
                if tx.max_fee_per_gas.is_none() || tx.max_priority_fee_per_gas.is_none() =>
            {
                let priority = match tx.max_priority_fee_per_gas {
                    Some(priority) => priority,
                    None => quantity(
                        self.node
                            .call(url, "eth_maxPriorityFeePerGas", json!([]))
                            .await?,
                    )?,
                };
                if tx.max_fee_per_gas.is_none() {
                    let block = self
                        .node
                        .call(url, "eth_getBlockByNumber", json!(["latest", false]))
                        .await?;
                    let max_fee = match block.get("baseFeePerGas") {
                        // Twice the base fee: room for six full blocks of increases.
                        Some(base) => quantity(base.clone())?
                            .saturating_mul(2)
                            .saturating_add(priority),
                        // A chain without EIP-1559's base fee: its gas price.
                        None => quantity(self.node.call(url, "eth_gasPrice", json!([])).await?)?
                            .max(priority),
                    };
                    tx.max_fee_per_gas = Some(max_fee);
                }
                tx.max_priority_fee_per_gas = Some(priority);
            }
            _ => {}
        }
        for (field, fee) in [
            ("gas_price", tx.gas_price),
            ("max_fee_per_gas", tx.max_fee_per_gas),
        ] {
            if fee.is_some_and(|fee| fee > MAX_FEE_PER_GAS) {
                return Err(invalid(
                    &format!("params.transaction.{field}"),
                    format!("the node asks more than {MAX_FEE_PER_GAS} wei per gas"),
                ));
            }
        }
        Ok(Some(url))
    }

    /// The nonce of a transaction that has none: a send leases it (so concurrent sends never
    /// share one); a transaction only signed takes the node's pending count and leases
    /// nothing (whoever broadcasts it orders it). Returns the leased nonce.
    async fn nonce(
        &self,
        caller: Caller<'_>,
        target: &Target,
        url: Option<&str>,
        tx: &mut EthTransaction,
        send: bool,
    ) -> Result<Option<u64>, RpcError> {
        let (None, Some(url)) = (tx.nonce, url) else {
            return Ok(None);
        };
        let pending = self
            .node
            .call(
                url,
                "eth_getTransactionCount",
                json!([target.address, "pending"]),
            )
            .await?;
        let node_nonce = u64::try_from(quantity(pending)?)
            .ok()
            .filter(|nonce| *nonce < u64::MAX / 2)
            .ok_or_else(|| {
                RpcError::NodeUnavailable(NodeError::Unreachable(
                    "the node answered a nonce no account reaches".into(),
                ))
            })?;
        if !send {
            tx.nonce = Some(node_nonce);
            return Ok(None);
        }
        let nonce = self
            .store
            .lease_nonce(
                caller.app,
                target.user,
                tx.chain_id,
                node_nonce,
                crate::clock::now_ms() / 1000,
                NONCE_LEASE_STALE_SECS,
            )
            .await?;
        tx.nonce = Some(nonce);
        Ok(Some(nonce))
    }

    /// Broadcasts a signed transaction: `true` once the node took it, `false` when it did not
    /// answer (it may have taken it: the caller keeps the nonce and the day's share taken and
    /// answers with the signed transaction, so a retry replays that instead of signing
    /// another one), an error when it said no or nothing was sent (nothing is pending).
    async fn broadcast(&self, url: &str, method: &str, params: Value) -> Result<bool, RpcError> {
        match self.node.call(url, method, params).await {
            Ok(_) => Ok(true),
            Err(NodeError::Unreachable(_)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Reserves `amount` of today's limit, if the policy sets one.
    async fn reserve(
        &self,
        caller: Caller<'_>,
        target: &Target,
        network: &str,
        amount: u128,
    ) -> Result<Option<Reservation>, RpcError> {
        let Some(limit) = SigningPolicy::limit(&target.policy.max_value_per_day) else {
            return Ok(None);
        };
        let limit = u128::try_from(limit).unwrap_or(u128::MAX);
        if amount == 0 {
            return Ok(None);
        }
        let day = crate::clock::now_rfc3339()[..10].to_owned();
        let reserved = amount <= limit
            && self
                .store
                .reserve_daily(caller.app, target.user, network, &day, amount, limit)
                .await?;
        if reserved {
            Ok(Some(Reservation {
                network: network.to_owned(),
                day,
                amount,
            }))
        } else {
            Err(RpcError::Policy(policy::over_daily_limit(&target.policy)))
        }
    }

    /// Gives a reservation back, to the day it was taken from.
    async fn refund(&self, caller: Caller<'_>, target: &Target, reservation: Option<&Reservation>) {
        if let Some(reservation) = reservation {
            // Best effort: a reservation not given back only makes that day's limit stricter.
            let _ = self
                .store
                .refund_daily(
                    caller.app,
                    target.user,
                    &reservation.network,
                    &reservation.day,
                    reservation.amount,
                )
                .await;
        }
    }

    async fn solana_transaction(
        &self,
        caller: Caller<'_>,
        target: &Target,
        wire: &[u8],
        send_to: Option<&Network>,
    ) -> Result<Signed, RpcError> {
        let method = if send_to.is_some() {
            Method::SolanaSignAndSendTransaction
        } else {
            Method::SolanaSignTransaction
        };
        let tx = solana::parse(wire)
            .map_err(|error| invalid("params.transaction", error.to_string()))?;
        let wallet: [u8; 32] = bs58::decode(&target.address)
            .into_vec()
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(RpcError::Key(KeyError::Invalid(ChainType::Solana)))?;
        let effects = solana::effects(&tx, &wallet);
        match &effects.destinations {
            Some(destinations) => policy::check_destinations(&target.policy, destinations, false),
            None => policy::check_unknown_destinations(&target.policy),
        }
        .map_err(RpcError::Policy)?;
        policy::check_uncounted(&target.policy, &effects.uncounted).map_err(RpcError::Policy)?;
        policy::check_cost(&target.policy, U256::from(effects.lamports_out))
            .map_err(RpcError::Policy)?;
        // One day's total for the wallet on Solana: a transaction signed here can be sent to
        // any cluster.
        let reservation = self
            .reserve(caller, target, "solana", effects.lamports_out)
            .await?;
        let signed = match self.open(caller, target).await {
            Ok(key) => solana::sign(&key, tx).map_err(|error| match error {
                solana::SolanaError::Key(error) => RpcError::Key(error),
                other => invalid("params.transaction", other.to_string()),
            }),
            Err(error) => Err(error),
        };
        let signed = match signed {
            Ok(signed) => signed,
            Err(error) => {
                self.refund(caller, target, reservation.as_ref()).await;
                return Err(error);
            }
        };
        let id = bs58::encode(signed.id).into_string();
        let caip2 = send_to
            .and_then(|network| network.cluster.as_deref())
            .map(caip2_of);
        let record = self
            .record(
                caller,
                target,
                method,
                &signed.raw,
                Some(id.clone()),
                caip2.clone(),
            )
            .await;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                self.refund(caller, target, reservation.as_ref()).await;
                return Err(error);
            }
        };
        let raw = BASE64.encode(&signed.raw);
        let mut unconfirmed = false;
        if let Some(network) = send_to {
            let url = network.rpc_url.as_deref().unwrap_or_default();
            let params = json!([raw, {"encoding": "base64"}]);
            match self.broadcast(url, "sendTransaction", params).await {
                Ok(answered) => unconfirmed = !answered,
                Err(error) => {
                    self.refund(caller, target, reservation.as_ref()).await;
                    return Err(error);
                }
            }
        }
        Ok(Signed {
            method: method.as_str(),
            signature: Some(bs58::encode(signed.signature).into_string()),
            signed_transaction: Some(raw),
            hash: Some(id),
            caip2,
            signature_id: record.id,
            unconfirmed,
        })
    }
}

/// A share of a day's limit taken by a transaction, to give back if it is not sent.
struct Reservation {
    network: String,
    day: String,
    amount: u128,
}

/// A quantity a node answered (`0x` hex).
fn quantity(value: Value) -> Result<u128, RpcError> {
    value
        .as_str()
        .and_then(|text| text.strip_prefix("0x"))
        .and_then(|digits| u128::from_str_radix(digits, 16).ok())
        .ok_or_else(|| {
            RpcError::NodeUnavailable(NodeError::Unreachable(
                "the node answered a quantity that is not hex".into(),
            ))
        })
}

/// The Solana network a send goes to: the cluster named, or the first with an `rpc_url`.
fn solana_network<'n>(
    networks: &'n [Network],
    cluster: Option<&str>,
) -> Result<&'n Network, RpcError> {
    networks
        .iter()
        .filter(|network| network.chain_type == ChainType::Solana)
        .find(|network| match cluster {
            Some(cluster) => network.cluster.as_deref() == Some(cluster),
            None => network.rpc_url.is_some(),
        })
        .filter(|network| network.rpc_url.is_some())
        .ok_or_else(|| {
            invalid(
                "caip2",
                "names no Solana network of the app with an rpc_url (PATCH /v1/app/settings)",
            )
        })
}

/// CAIP-2 of a Solana cluster: `solana:` and its genesis hash's first 32 characters.
fn caip2_of(cluster: &str) -> String {
    crate::model::rpc::SOLANA_GENESIS
        .iter()
        .find(|(_, name)| *name == cluster)
        .map(|(genesis, _)| format!("solana:{genesis}"))
        .unwrap_or_else(|| format!("solana:{cluster}"))
}
