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
}
