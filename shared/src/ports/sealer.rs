//! The key service port: data keys for envelope encryption. A key service issues a 256-bit
//! data key, returned both in plaintext (kept in memory, zeroed on drop) and encrypted
//! (stored). Each secret is sealed with AES-256-GCM under the data key, with a fresh random
//! 96-bit nonce and its owner as associated data, so a sealed key moved elsewhere does not open.
//! The key services themselves (KMS, a local key-encryption key) are in
//! [`crate::adapters::sealer`].

use std::future::Future;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

pub use crate::model::SealedKey;
use crate::model::{AppId, SealContext, UserId};

/// The length of a data key.
pub const KEY_BYTES: usize = 32;
/// The length of an AES-GCM nonce.
pub const NONCE_BYTES: usize = 12;

/// What a data key seals. Each is a separate KMS encryption context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Wallet private keys (`wallet-users-data-key`): the wallet creator may only generate.
    WalletKeys,
    /// Webhook signing secrets (`wallet-users-webhook-secret`): sealed by the API, opened by
    /// the delivery function.
    WebhookSecrets,
    /// API keys' client secrets (`wallet-users-client-secret`): sealed by whoever issues keys,
    /// opened by the dialects that verify an HMAC (Original, OST).
    ClientSecrets,
}

impl KeyPurpose {
    /// The encryption context value (also named in the template's IAM conditions).
    pub fn context(self) -> &'static str {
        match self {
            Self::WalletKeys => "wallet-users-data-key",
            Self::WebhookSecrets => "wallet-users-webhook-secret",
            Self::ClientSecrets => "wallet-users-client-secret",
        }
    }
}

/// The encryption context a data key is issued and opened under: its purpose, and (for what
/// is sealed now) its owner. KMS opens a data key only under the exact context it was issued
/// with and logs the context with every request, so a data key lifted from one user's record
/// does not open as another's, and each `Decrypt` in CloudTrail names whose key it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyContext {
    purpose: KeyPurpose,
    /// (name, value), sorted by name; empty for the purpose-only form sealed before.
    owner: Vec<(&'static str, String)>,
}

impl KeyContext {
    /// The encryption context's key naming the purpose (also in the template's conditions).
    pub const PURPOSE: &'static str = "purpose";

    /// A user's wallet keys: `{purpose, app, user}` (one data key per user, for every chain).
    pub fn wallet(app: &AppId, user: UserId) -> Self {
        Self::owned(
            KeyPurpose::WalletKeys,
            vec![("app", app.to_string()), ("user", user.to_string())],
        )
    }

    /// A webhook endpoint's signing secret: `{purpose, app, endpoint}`.
    pub fn webhook_secret(app: &AppId, endpoint: &str) -> Self {
        Self::owned(
            KeyPurpose::WebhookSecrets,
            vec![("app", app.to_string()), ("endpoint", endpoint.to_owned())],
        )
    }

    /// An API key's client secret: `{purpose, app, api_key}`.
    pub fn client_secret(app: &AppId, key_id: &str) -> Self {
        Self::owned(
            KeyPurpose::ClientSecrets,
            vec![("api_key", key_id.to_owned()), ("app", app.to_string())],
        )
    }

    fn owned(purpose: KeyPurpose, mut owner: Vec<(&'static str, String)>) -> Self {
        owner.sort();
        Self { purpose, owner }
    }

    /// The context `sealed` was issued under: this one, or the purpose alone for a key sealed
    /// before owners were named.
    pub fn for_sealed(&self, sealed: &SealedKey) -> Self {
        match sealed.context {
            Some(SealContext::Owner) => self.clone(),
            None => Self {
                purpose: self.purpose,
                owner: Vec::new(),
            },
        }
    }

    /// What the context serves.
    pub fn purpose(&self) -> KeyPurpose {
        self.purpose
    }

    /// Whether the context names an owner (`false`: the purpose-only form sealed before).
    pub fn names_owner(&self) -> bool {
        !self.owner.is_empty()
    }

    /// Every (name, value) pair, the purpose first.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once((Self::PURPOSE, self.purpose.context())).chain(
            self.owner
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        )
    }
}

/// A sealing failure. Messages name no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("key service: {0}")]
    KeyService(String),
    #[error("the random source failed")]
    Random,
    #[error("the sealed key does not open (tampered, or other associated data)")]
    Open,
    #[error("key configuration: {0}")]
    Config(String),
}

/// A data key: plaintext for sealing (zeroed on drop), encrypted for storing beside the keys.
pub struct DataKey {
    plaintext: Zeroizing<[u8; KEY_BYTES]>,
    encrypted: Vec<u8>,
    provider: &'static str,
    context: Option<SealContext>,
}

impl DataKey {
    /// A data key as a key service issued it under `context`: its plaintext, its encrypted
    /// form, and the name of the service that can open it again.
    pub fn new(
        plaintext: Zeroizing<[u8; KEY_BYTES]>,
        encrypted: Vec<u8>,
        provider: &'static str,
        context: &KeyContext,
    ) -> Self {
        Self {
            plaintext,
            encrypted,
            provider,
            context: context.names_owner().then_some(SealContext::Owner),
        }
    }

    /// Seals `private_key` for the owner named by `aad`.
    pub fn seal(&self, private_key: &[u8], aad: &[u8]) -> Result<SealedKey, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let ciphertext = cipher(&self.plaintext)?
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: private_key,
                    aad,
                },
            )
            .map_err(|_| SealError::KeyService("encryption failed".into()))?;
        Ok(SealedKey {
            provider: self.provider.to_owned(),
            encrypted_data_key: BASE64.encode(&self.encrypted),
            nonce: BASE64.encode(nonce),
            ciphertext: BASE64.encode(ciphertext),
            context: self.context,
        })
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A data key from the bytes a key service returned (copied into a buffer zeroed on drop).
pub fn data_key_from(bytes: &[u8]) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
    let bytes: &[u8; KEY_BYTES] = bytes.try_into().map_err(|_| SealError::Open)?;
    Ok(Zeroizing::new(*bytes))
}

// The cipher's copy of a data key (its key schedule and GHASH key) is wiped when it drops:
// aes-gcm implements `ZeroizeOnDrop` only with its `zeroize` feature, so a build without the
// feature fails here rather than leaving expanded keys in freed memory.
const _: fn() = || {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<Aes256Gcm>();
};

/// AES-256-GCM under `key`.
pub fn cipher(key: &[u8; KEY_BYTES]) -> Result<Aes256Gcm, SealError> {
    Aes256Gcm::new_from_slice(key).map_err(|_| SealError::Config("bad key length".into()))
}

/// A key service that issues data keys and, for whoever may, opens them again.
pub trait KeySealer: Send + Sync {
    /// A new data key, bound to `context`.
    fn data_key(
        &self,
        context: &KeyContext,
    ) -> impl Future<Output = Result<DataKey, SealError>> + Send;

    /// The plaintext of an encrypted data key, if `context` is the one it was issued under.
    fn open_data_key(
        &self,
        encrypted: &[u8],
        context: &KeyContext,
    ) -> impl Future<Output = Result<Zeroizing<[u8; KEY_BYTES]>, SealError>> + Send;
}
