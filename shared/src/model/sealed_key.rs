//! A secret at rest, sealed under envelope encryption.

use serde::{Deserialize, Serialize};

/// A private key at rest: what the wallet-key item stores, all base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    /// `kms` or `local`: which key service can open the data key.
    pub provider: String,
    pub encrypted_data_key: String,
    pub nonce: String,
    pub ciphertext: String,
    /// The encryption context the data key was issued under. Absent on what was sealed before
    /// owners were named in it (the purpose alone): KMS opens a data key only under the exact
    /// context it was issued with, so the record must say which one that was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<SealContext>,
}

/// The form of a data key's encryption context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealContext {
    /// The purpose and the owner: the app and the user, endpoint or API key.
    Owner,
}
