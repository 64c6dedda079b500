//! Envelope encryption of private keys. A key service issues a 256-bit data key, returned both
//! in plaintext (kept in memory, zeroed on drop) and encrypted (stored). Each private key is
//! sealed with AES-256-GCM under the data key, with a fresh random 96-bit nonce and the app,
//! user and chain as associated data, so a sealed key moved to another user does not open.
//!
//! In AWS the key service is KMS (`GenerateDataKey`; the wallet function cannot `Decrypt`).
//! Locally it is [`LocalSealer`], a key-encryption key from the environment: dev-only.

use std::future::Future;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::model::{AppId, ChainType, UserId};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
/// The variable holding the local key-encryption key (64 hex digits).
pub const LOCAL_KEK_VAR: &str = "LOCAL_KEY_ENCRYPTION_KEY";
/// The variable naming the KMS key in AWS.
pub const KMS_KEY_VAR: &str = "KMS_KEY_ID";
/// The encryption context key that binds KMS data keys to one use: a data key asked for one
/// purpose does not decrypt under another, and IAM grants each function only its purpose.
const KMS_CONTEXT_KEY: &str = "purpose";

/// What a data key seals. Each is a separate KMS encryption context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Wallet private keys (`wallet-users-data-key`): the wallet creator may only generate.
    WalletKeys,
    /// Webhook signing secrets (`wallet-users-webhook-secret`): sealed by the API, opened by
    /// the delivery function.
    WebhookSecrets,
}

impl KeyPurpose {
    /// The encryption context value (also named in the template's IAM conditions).
    pub fn context(self) -> &'static str {
        match self {
            Self::WalletKeys => "wallet-users-data-key",
            Self::WebhookSecrets => "wallet-users-webhook-secret",
        }
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
}

pub use crate::model::SealedKey;

/// Whether AES runs on the CPU's AES instructions (AES-NI, or ARMv8 AES on Graviton; the
/// `aes` crate detects them at run time). Logged at cold start.
pub fn aes_hardware_accelerated() -> bool {
    aes::hardware_accelerated()
}

/// What binds a sealed key to its owner.
pub fn associated_data(app: &AppId, user: UserId, chain: ChainType) -> Vec<u8> {
    format!("wallet-users/v1/{app}/{user}/{chain}").into_bytes()
}

impl DataKey {
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
fn data_key_from(bytes: &[u8]) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
    let bytes: &[u8; KEY_BYTES] = bytes.try_into().map_err(|_| SealError::Open)?;
    Ok(Zeroizing::new(*bytes))
}

fn cipher(key: &[u8; KEY_BYTES]) -> Result<Aes256Gcm, SealError> {
    Aes256Gcm::new_from_slice(key).map_err(|_| SealError::Config("bad key length".into()))
}

/// A key service that issues data keys and, for whoever may, opens them again.
pub trait KeySealer: Send + Sync {
    /// A new data key.
    fn data_key(&self) -> impl Future<Output = Result<DataKey, SealError>> + Send;

    /// The plaintext of an encrypted data key.
    fn open_data_key(
        &self,
        encrypted: &[u8],
    ) -> impl Future<Output = Result<Zeroizing<[u8; KEY_BYTES]>, SealError>> + Send;
}

/// Opens a sealed private key (for tests and a future signer; the API never does this).
pub async fn open<S: KeySealer>(
    sealer: &S,
    sealed: &SealedKey,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let decode = |text: &str| BASE64.decode(text).map_err(|_| SealError::Open);
    let data_key = sealer
        .open_data_key(&decode(&sealed.encrypted_data_key)?)
        .await?;
    let nonce: [u8; NONCE_BYTES] = decode(&sealed.nonce)?
        .try_into()
        .map_err(|_| SealError::Open)?;
    let plaintext = cipher(&data_key)?
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &decode(&sealed.ciphertext)?,
                aad,
            },
        )
        .map_err(|_| SealError::Open)?;
    Ok(Zeroizing::new(plaintext))
}

/// The local stand-in for KMS: data keys wrapped with AES-256-GCM under a key-encryption key
/// from the environment. Dev-only: the key sits in a file next to the code.
#[derive(Clone)]
pub struct LocalSealer {
    kek: Zeroizing<[u8; KEY_BYTES]>,
}

impl LocalSealer {
    const WRAP_AAD: &'static [u8] = b"wallet-users local data key";

    /// A sealer with the key-encryption key given as 64 hex digits.
    pub fn from_hex(hex_key: &str) -> Result<Self, SealError> {
        let mut kek = Zeroizing::new([0u8; KEY_BYTES]);
        hex::decode_to_slice(hex_key.trim(), kek.as_mut()).map_err(|_| {
            SealError::Config(format!(
                "{LOCAL_KEK_VAR} must be {} hex digits",
                KEY_BYTES * 2
            ))
        })?;
        Ok(Self { kek })
    }
}

impl KeySealer for LocalSealer {
    async fn data_key(&self) -> Result<DataKey, SealError> {
        let mut plaintext = Zeroizing::new([0u8; KEY_BYTES]);
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(plaintext.as_mut()).map_err(|_| SealError::Random)?;
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let wrapped = cipher(&self.kek)?
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_ref(),
                    aad: Self::WRAP_AAD,
                },
            )
            .map_err(|_| SealError::KeyService("wrapping failed".into()))?;
        let mut encrypted = nonce.to_vec();
        encrypted.extend(wrapped);
        Ok(DataKey {
            plaintext,
            encrypted,
            provider: "local",
        })
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
        if encrypted.len() < NONCE_BYTES {
            return Err(SealError::Open);
        }
        let (nonce, wrapped) = encrypted.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Open)?;
        let plaintext = Zeroizing::new(
            cipher(&self.kek)?
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: wrapped,
                        aad: Self::WRAP_AAD,
                    },
                )
                .map_err(|_| SealError::Open)?,
        );
        data_key_from(&plaintext)
    }
}

/// KMS as the key service: one `GenerateDataKey` per batch of wallets.
pub struct KmsSealer {
    client: aws_sdk_kms::Client,
    key_id: String,
    purpose: KeyPurpose,
}

impl KmsSealer {
    /// A sealer for `purpose` using the KMS key `key_id` (an id, ARN or alias).
    pub fn new(
        client: aws_sdk_kms::Client,
        key_id: impl Into<String>,
        purpose: KeyPurpose,
    ) -> Self {
        Self {
            client,
            key_id: key_id.into(),
            purpose,
        }
    }
}

impl KeySealer for KmsSealer {
    async fn data_key(&self) -> Result<DataKey, SealError> {
        let output = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(KMS_CONTEXT_KEY, self.purpose.context())
            .send()
            .await
            .map_err(|e| {
                SealError::KeyService(aws_sdk_kms::error::DisplayErrorContext(&e).to_string())
            })?;
        let plaintext = Zeroizing::new(output.plaintext.map(Blob::into_inner).unwrap_or_default());
        Ok(DataKey {
            plaintext: data_key_from(&plaintext)?,
            encrypted: output
                .ciphertext_blob
                .map(Blob::into_inner)
                .unwrap_or_default(),
            provider: "kms",
        })
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(encrypted))
            .encryption_context(KMS_CONTEXT_KEY, self.purpose.context())
            .send()
            .await
            .map_err(|e| {
                SealError::KeyService(aws_sdk_kms::error::DisplayErrorContext(&e).to_string())
            })?;
        let plaintext = Zeroizing::new(output.plaintext.map(Blob::into_inner).unwrap_or_default());
        data_key_from(&plaintext)
    }
}

/// The sealer the environment configures: KMS when `KMS_KEY_ID` is set, else the local
/// key-encryption key.
pub enum Sealer {
    Kms(KmsSealer),
    Local(LocalSealer),
}

impl Sealer {
    /// Reads `KMS_KEY_ID`, else `LOCAL_KEY_ENCRYPTION_KEY`; neither is a configuration error.
    /// Builds the KMS client from the cold start's one SDK configuration.
    pub fn from_env(
        config: &aws_config::SdkConfig,
        purpose: KeyPurpose,
    ) -> Result<Self, SealError> {
        if let Ok(key_id) = std::env::var(KMS_KEY_VAR) {
            return Ok(Self::Kms(KmsSealer::new(
                aws_sdk_kms::Client::new(config),
                key_id,
                purpose,
            )));
        }
        match std::env::var(LOCAL_KEK_VAR) {
            Ok(hex_key) => Ok(Self::Local(LocalSealer::from_hex(&hex_key)?)),
            Err(_) => Err(SealError::Config(format!(
                "set {KMS_KEY_VAR} or {LOCAL_KEK_VAR}"
            ))),
        }
    }
}

impl KeySealer for Sealer {
    async fn data_key(&self) -> Result<DataKey, SealError> {
        match self {
            Self::Kms(sealer) => sealer.data_key().await,
            Self::Local(sealer) => sealer.data_key().await,
        }
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
        match self {
            Self::Kms(sealer) => sealer.open_data_key(encrypted).await,
            Self::Local(sealer) => sealer.open_data_key(encrypted).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> LocalSealer {
        LocalSealer::from_hex(&"42".repeat(32)).unwrap()
    }

    #[tokio::test]
    async fn a_sealed_key_opens_with_its_associated_data_only() {
        let sealer = sealer();
        let data_key = sealer.data_key().await.unwrap();
        let private_key = [7u8; 32];
        let sealed = data_key.seal(&private_key, b"owner-a").unwrap();
        assert!(!sealed.ciphertext.contains(&BASE64.encode(private_key)));
        assert_eq!(
            open(&sealer, &sealed, b"owner-a").await.unwrap().as_slice(),
            private_key
        );
        assert_eq!(
            open(&sealer, &sealed, b"owner-b").await,
            Err(SealError::Open)
        );
    }

    #[tokio::test]
    async fn tampered_ciphertext_nonce_or_data_key_fails_to_open() {
        let sealer = sealer();
        let sealed = sealer
            .data_key()
            .await
            .unwrap()
            .seal(&[9u8; 32], b"aad")
            .unwrap();
        let flip = |text: &str| {
            let mut bytes = BASE64.decode(text).unwrap();
            bytes[0] ^= 1;
            BASE64.encode(bytes)
        };
        for tampered in [
            SealedKey {
                ciphertext: flip(&sealed.ciphertext),
                ..sealed.clone()
            },
            SealedKey {
                nonce: flip(&sealed.nonce),
                ..sealed.clone()
            },
            SealedKey {
                encrypted_data_key: flip(&sealed.encrypted_data_key),
                ..sealed.clone()
            },
        ] {
            assert_eq!(open(&sealer, &tampered, b"aad").await, Err(SealError::Open));
        }
        // Another key-encryption key cannot open the data key.
        let other = LocalSealer::from_hex(&"24".repeat(32)).unwrap();
        assert_eq!(open(&other, &sealed, b"aad").await, Err(SealError::Open));
    }

    #[tokio::test]
    async fn nonces_are_fresh_for_every_seal() {
        let data_key = sealer().data_key().await.unwrap();
        let a = data_key.seal(&[1u8; 32], b"x").unwrap();
        let b = data_key.seal(&[1u8; 32], b"x").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_malformed_local_key_is_a_configuration_error() {
        assert!(matches!(
            LocalSealer::from_hex("abc"),
            Err(SealError::Config(_))
        ));
    }
}
