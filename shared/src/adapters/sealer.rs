//! The key services behind [`KeySealer`]: KMS in AWS (`GenerateDataKey`; the wallet function
//! cannot `Decrypt`), and locally [`LocalSealer`], a key-encryption key from the environment:
//! dev-only. Both bind a data key to its [`KeyContext`]: KMS as the encryption context, the
//! local sealer as associated data, so local tests prove the same binding.

use std::collections::HashMap;

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use zeroize::Zeroizing;

use crate::ports::sealer::{
    DataKey, KEY_BYTES, KeyContext, KeyPurpose, KeySealer, NONCE_BYTES, SealError, cipher,
    data_key_from,
};

/// The variable holding the local key-encryption key (64 hex digits).
pub const LOCAL_KEK_VAR: &str = "LOCAL_KEY_ENCRYPTION_KEY";
/// The variable naming the KMS key in AWS.
pub const KMS_KEY_VAR: &str = "KMS_KEY_ID";

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

    /// The associated data a data key is wrapped with: the context's pairs, length-prefixed so
    /// no two contexts encode alike; the bare label for the purpose-only form sealed before
    /// (which the local sealer did not bind).
    fn wrap_aad(context: &KeyContext) -> Vec<u8> {
        let mut aad = Self::WRAP_AAD.to_vec();
        if context.names_owner() {
            for (name, value) in context.pairs() {
                for part in [name, value] {
                    aad.extend((part.len() as u64).to_be_bytes());
                    aad.extend(part.as_bytes());
                }
            }
        }
        aad
    }
}

impl KeySealer for LocalSealer {
    async fn data_key(&self, context: &KeyContext) -> Result<DataKey, SealError> {
        let mut plaintext = Zeroizing::new([0u8; KEY_BYTES]);
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(plaintext.as_mut()).map_err(|_| SealError::Random)?;
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let wrapped = cipher(&self.kek)?
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_ref(),
                    aad: &Self::wrap_aad(context),
                },
            )
            .map_err(|_| SealError::KeyService("wrapping failed".into()))?;
        let mut encrypted = nonce.to_vec();
        encrypted.extend(wrapped);
        Ok(DataKey::new(plaintext, encrypted, "local", context))
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
        context: &KeyContext,
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
                        aad: &Self::wrap_aad(context),
                    },
                )
                .map_err(|_| SealError::Open)?,
        );
        data_key_from(&plaintext)
    }
}

/// KMS as the key service: one `GenerateDataKey` per owner (a user's wallets, an endpoint's
/// or an API key's secret).
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

    /// A wiring mistake (this key asked for another purpose's data key) is refused here rather
    /// than left to IAM, so it fails the same way locally.
    fn check(&self, context: &KeyContext) -> Result<(), SealError> {
        if context.purpose() == self.purpose {
            Ok(())
        } else {
            Err(SealError::Config(format!(
                "this sealer serves {}, not {}",
                self.purpose.context(),
                context.purpose().context()
            )))
        }
    }
}

/// The encryption context as KMS takes it.
fn kms_context(context: &KeyContext) -> HashMap<String, String> {
    context
        .pairs()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

impl KeySealer for KmsSealer {
    async fn data_key(&self, context: &KeyContext) -> Result<DataKey, SealError> {
        self.check(context)?;
        let output = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(kms_context(context)))
            .send()
            .await
            .map_err(|e| {
                SealError::KeyService(aws_sdk_kms::error::DisplayErrorContext(&e).to_string())
            })?;
        let plaintext = Zeroizing::new(output.plaintext.map(Blob::into_inner).unwrap_or_default());
        let encrypted = output
            .ciphertext_blob
            .map(Blob::into_inner)
            .unwrap_or_default();
        Ok(DataKey::new(
            data_key_from(&plaintext)?,
            encrypted,
            "kms",
            context,
        ))
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
        context: &KeyContext,
    ) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
        self.check(context)?;
        // What was sealed before each purpose had its own key (the purpose-only form) may be
        // under the one key all purposes then shared: KMS finds a symmetric key from the
        // ciphertext, and IAM and the key policies still decide whether this role may use it.
        let key_id = context.names_owner().then_some(self.key_id.clone());
        let output = self
            .client
            .decrypt()
            .set_key_id(key_id)
            .ciphertext_blob(Blob::new(encrypted))
            .set_encryption_context(Some(kms_context(context)))
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
    async fn data_key(&self, context: &KeyContext) -> Result<DataKey, SealError> {
        match self {
            Self::Kms(sealer) => sealer.data_key(context).await,
            Self::Local(sealer) => sealer.data_key(context).await,
        }
    }

    async fn open_data_key(
        &self,
        encrypted: &[u8],
        context: &KeyContext,
    ) -> Result<Zeroizing<[u8; KEY_BYTES]>, SealError> {
        match self {
            Self::Kms(sealer) => sealer.open_data_key(encrypted, context).await,
            Self::Local(sealer) => sealer.open_data_key(encrypted, context).await,
        }
    }
}
