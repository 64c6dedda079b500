//! The user as stored and as the API shows it. No field ever holds key material.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::access::Onboarding;
use super::network::WalletNetwork;
use super::{ChainType, Identifier, LinkedAccount, UserId, WalletAddress};

/// Why a wallet creation attempt failed, as the API reports it in `last_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletError {
    /// The key service (KMS, or the local key-encryption key) refused or failed.
    KeySealingFailed,
    /// The operating system's random source failed.
    KeyGenerationFailed,
}

impl WalletError {
    /// The stable code stored in `last_error`.
    pub fn code(self) -> &'static str {
        match self {
            Self::KeySealingFailed => "key_sealing_failed",
            Self::KeyGenerationFailed => "key_generation_failed",
        }
    }
}

/// A user of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub linked_accounts: Vec<LinkedAccount>,
    pub custom_metadata: Map<String, Value>,
    pub wallets: Vec<Wallet>,
    /// `disabled` by the app: still found, but refused what would extend it (see
    /// [`UserStatus`]).
    #[serde(default)]
    pub status: UserStatus,
    /// When the user was disabled; `None` while active.
    #[serde(default)]
    pub disabled_at: Option<String>,
    /// Why, as the app said when disabling it.
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// The invitation the user claimed when it came in; `None` if it was not invited.
    #[serde(default)]
    pub onboarding: Option<Onboarding>,
    /// How many users claimed an invitation this user made.
    #[serde(default)]
    pub users_onboarded: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped by every change to the user, wallets included: the basis of its ETag.
    pub version: u64,
}

/// Whether the app lets the user in. A disabled user is still found by every lookup and by
/// find-or-create (which reports it, so the app can refuse the login), keeps its wallets and
/// identifiers, and can be changed, unlinked, deleted and enabled again; it cannot gain a
/// wallet or a linked account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    #[default]
    Active,
    Disabled,
}

impl UserStatus {
    /// The status named `text` (`active`, `disabled`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// The longest `disabled_reason`, in characters.
pub const MAX_DISABLED_REASON: usize = 500;

/// An embedded wallet the service provisions for the user, one per chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wallet {
    pub chain_type: ChainType,
    /// Known once the wallet is `ready`.
    pub address: Option<String>,
    pub status: WalletStatus,
    /// When the wallet became `ready`.
    pub created_at: Option<String>,
    /// Failed creation attempts since the wallet was last queued.
    #[serde(default)]
    pub attempts: u32,
    /// The code of the last failed attempt (never internals): see [`WalletError`].
    #[serde(default)]
    pub last_error: Option<String>,
    /// Once ready: each network of its chain type the app operated on when it was created,
    /// with the explorer URL of its address.
    #[serde(default)]
    pub networks: Vec<WalletNetwork>,
}

/// Where an embedded wallet is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WalletStatus {
    /// Requested; the stream consumer has not created it yet.
    Pending,
    /// Created: `address` is set and never changes.
    Ready,
    /// Creation failed after bounded retries; it can be re-queued.
    Failed,
}

impl Wallet {
    /// A wallet requested for `chain`, not yet created.
    pub fn pending(chain_type: ChainType) -> Self {
        Self {
            chain_type,
            address: None,
            status: WalletStatus::Pending,
            created_at: None,
            attempts: 0,
            last_error: None,
            networks: Vec::new(),
        }
    }
}

/// A username, case-folded: the user's own (`kind` `username`), or one it holds at a login
/// provider (its twitter account's, say). Not unique (a username can pass to someone else
/// while our user still shows the old one), so indexed for lookups and never guarded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle {
    /// `username` for the user's own, or the linked account type: `twitter`, `discord`,
    /// `github`, `telegram`, `instagram`, `tiktok`.
    pub kind: &'static str,
    pub username: String,
}

impl Handle {
    /// The handle `username` names at `kind`, case-folded as lookups compare it.
    pub fn new(kind: &'static str, username: &str) -> Self {
        Self {
            kind,
            username: username.trim_start_matches('@').to_lowercase(),
        }
    }

    /// The user's own `username`, as a listing filtered by username compares it: case-folded,
    /// and otherwise exact (an `@` is part of it, unlike a provider's handle).
    pub fn own(username: &str) -> Self {
        Self {
            kind: Self::OWN,
            username: username.to_lowercase(),
        }
    }

    /// The kind of a user's own username.
    pub const OWN: &'static str = "username";
}

impl User {
    /// The user's own username as [`Handle::own`], and those its linked accounts carry, each
    /// once.
    pub fn handles(&self) -> Vec<Handle> {
        use super::linked_account::Account;
        let mut handles: Vec<Handle> = self
            .linked_accounts
            .iter()
            .filter_map(|linked| {
                let (kind, account) = match &linked.account {
                    Account::Twitter(a) => ("twitter", a),
                    Account::Discord(a) => ("discord", a),
                    Account::Github(a) => ("github", a),
                    Account::Telegram(a) => ("telegram", a),
                    Account::Instagram(a) => ("instagram", a),
                    Account::Tiktok(a) => ("tiktok", a),
                    _ => return None,
                };
                account
                    .username
                    .as_deref()
                    .map(|name| Handle::new(kind, name))
            })
            .chain(self.username.as_deref().map(Handle::own))
            .collect();
        handles.sort();
        handles.dedup();
        handles
    }

    /// Every unique identifier the user holds, each guarded by one item in the store.
    pub fn identifiers(&self) -> Vec<Identifier> {
        self.identifier_fields()
            .into_iter()
            .map(|(_, id)| id)
            .collect()
    }

    /// Every unique identifier with the field it comes from (`email`, `linked_accounts[2]`,
    /// `wallets[0]`).
    pub fn identifier_fields(&self) -> Vec<(String, Identifier)> {
        let mut identifiers = Vec::new();
        if let Some(external_id) = &self.external_id {
            identifiers.push((
                "external_id".to_owned(),
                Identifier::ExternalId(external_id.clone()),
            ));
        }
        if let Some(email) = &self.email {
            let key = super::email::email_key(email).unwrap_or_else(|| email.to_lowercase());
            identifiers.push(("email".to_owned(), Identifier::Email(key)));
        }
        for (index, account) in self.linked_accounts.iter().enumerate() {
            identifiers.push((format!("linked_accounts[{index}]"), account.identifier()));
        }
        for (index, wallet) in self.wallets.iter().enumerate() {
            let address = wallet.address.as_deref();
            if let Some(address) =
                address.and_then(|a| WalletAddress::parse(wallet.chain_type, a).ok())
            {
                identifiers.push((
                    format!("wallets[{index}]"),
                    Identifier::Address(address.key()),
                ));
            }
        }
        identifiers
    }
}

/// What a deletion keeps of a user until its retention ends: enough to restore it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletedUser {
    /// The user as it was.
    pub user: User,
    pub deleted_at: String,
    /// When the retention ends (Unix seconds): the tombstone and sealed keys expire then.
    pub purge_at: u64,
    /// The delete left the user's sealed keys untouched. Deletes of stacks from before marked
    /// them to expire with the tombstone: only the admin CLI, which may reach the keys, can
    /// undo that, so only it restores such a user.
    pub keys_left: bool,
}
