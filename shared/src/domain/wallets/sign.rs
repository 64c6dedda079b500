//! Signing with a wallet's opened private key: the primitives the signing path is built on.
//! The key is borrowed for the call and never copied out; what comes back is a signature.
//!
//! - ethereum `personal_sign` (EIP-191): secp256k1 ECDSA (RFC 6979 nonces, low-S as EIP-2
//!   requires) over keccak-256 of `"\x19Ethereum Signed Message:\n" + len + message`, as the 65
//!   bytes `r ‖ s ‖ v` with `v` = 27 + the recovery id;
//! - ethereum `eth_signTypedData_v4` (EIP-712): the same signature over the typed data's
//!   signing hash, computed by `alloy-dyn-abi` from the JSON MetaMask's `eth_signTypedData_v4`
//!   takes (`types`, `primaryType`, `domain`, `message`);
//! - solana `signMessage`: ed25519 over the message bytes, 64 bytes.

use sha3::{Digest, Keccak256};

use super::keys::KeyError;
use crate::model::ChainType;

/// The prefix EIP-191 puts before a personal message (version `0x45`, `E`).
const PERSONAL_PREFIX: &[u8] = b"\x19Ethereum Signed Message:\n";

/// The hash `personal_sign` signs: keccak-256 of the prefix, the message's length in decimal,
/// and the message.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut hash = Keccak256::new();
    hash.update(PERSONAL_PREFIX);
    hash.update(message.len().to_string().as_bytes());
    hash.update(message);
    hash.finalize().into()
}

/// Signs a 32-byte hash with an ethereum private key: `r ‖ s ‖ v`, `s` in the lower half of the
/// curve order and `v` = 27 + the recovery id.
pub fn sign_hash(private_key: &[u8], hash: &[u8; 32]) -> Result<[u8; 65], KeyError> {
    let key = k256::ecdsa::SigningKey::from_slice(private_key)
        .map_err(|_| KeyError::Invalid(ChainType::Ethereum))?;
    let (signature, recovery) = key.sign_prehash_recoverable(hash);
    // k256 already gives low-S; normalising again is free and keeps the recovery id honest
    // should that ever change.
    let (signature, recovery) = match signature.normalize_s() {
        normalized if normalized != signature => (
            normalized,
            k256::ecdsa::RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced()),
        ),
        _ => (signature, recovery),
    };
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&signature.to_bytes());
    out[64] = 27 + recovery.to_byte();
    Ok(out)
}

/// `personal_sign` of `message` with an ethereum private key.
pub fn personal_sign(private_key: &[u8], message: &[u8]) -> Result<[u8; 65], KeyError> {
    sign_hash(private_key, &personal_message_hash(message))
}

/// Why typed data cannot be signed: it does not describe a message its types can encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedDataError {
    #[error("not EIP-712 typed data: {0}")]
    Malformed(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The EIP-712 signing hash of `typed_data` (`eth_signTypedData_v4`'s JSON, as an object or as
/// a string holding one).
pub fn typed_data_hash(typed_data: &serde_json::Value) -> Result<[u8; 32], TypedDataError> {
    let typed: alloy_dyn_abi::TypedData = serde_json::from_value(typed_data.clone())
        .map_err(|error| TypedDataError::Malformed(error.to_string()))?;
    let hash = typed
        .eip712_signing_hash()
        .map_err(|error| TypedDataError::Malformed(error.to_string()))?;
    Ok(hash.0)
}

/// `eth_signTypedData_v4` of `typed_data` with an ethereum private key.
pub fn sign_typed_data(
    private_key: &[u8],
    typed_data: &serde_json::Value,
) -> Result<[u8; 65], TypedDataError> {
    Ok(sign_hash(private_key, &typed_data_hash(typed_data)?)?)
}

/// Solana's `signMessage`: ed25519 over `message` with a 32-byte seed.
pub fn solana_sign_message(seed: &[u8], message: &[u8]) -> Result<[u8; 64], KeyError> {
    use ed25519_dalek::Signer;
    let seed: &[u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::Invalid(ChainType::Solana))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(seed)
        .sign(message)
        .to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Anvil's first dev account: a key whose address every Ethereum tool agrees on.
    const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn the_personal_message_hash_is_eip_191s() {
        // keccak256("\x19Ethereum Signed Message:\n11hello world"), as eth-account's
        // `encode_defunct(text="hello world")` hashes it.
        assert_eq!(
            hex::encode(personal_message_hash(b"hello world")),
            "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
        );
    }

    #[test]
    fn signatures_recover_to_the_wallets_address_and_are_low_s() {
        let key = hex::decode(DEV_KEY).unwrap();
        for message in [&b""[..], b"hello world", &[0xff; 300]] {
            let signature = personal_sign(&key, message).unwrap();
            let parsed = k256::ecdsa::Signature::from_slice(&signature[..64]).unwrap();
            assert_eq!(parsed.normalize_s(), parsed, "high s");
            let recovery = k256::ecdsa::RecoveryId::from_byte(signature[64] - 27).unwrap();
            let public = k256::ecdsa::VerifyingKey::recover_from_prehash(
                &personal_message_hash(message),
                &parsed,
                recovery,
            )
            .unwrap();
            let public = k256::PublicKey::from(&public);
            let point = k256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&public, false);
            let hash = Keccak256::digest(&point.as_bytes()[1..]);
            assert_eq!(
                hex::encode(&hash[12..]),
                "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
            );
        }
    }

    #[test]
    fn the_eip_712_example_hashes_as_the_eip_says() {
        let mail = serde_json::json!({
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                 {"name": "chainId", "type": "uint256"},
                                 {"name": "verifyingContract", "type": "address"}],
                "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
                "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                         {"name": "contents", "type": "string"}]
            },
            "primaryType": "Mail",
            "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                       "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
            "message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
                        "contents": "Hello, Bob!"}
        });
        // The signing hash EIP-712's own example (`Example.js`) prints.
        assert_eq!(
            hex::encode(typed_data_hash(&mail).unwrap()),
            "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
        // Given as a string holding the JSON, as some clients send it.
        assert_eq!(
            typed_data_hash(&serde_json::Value::String(mail.to_string())).unwrap(),
            typed_data_hash(&mail).unwrap()
        );
    }

    #[test]
    fn typed_data_that_its_types_cannot_encode_is_refused() {
        let key = hex::decode(DEV_KEY).unwrap();
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"types": {"EIP712Domain": []}, "primaryType": "Mail",
                               "domain": {}, "message": {}}),
            serde_json::json!({"types": {"EIP712Domain": [], "Mail": [{"name": "n", "type": "uint8"}]},
                               "primaryType": "Mail", "domain": {}, "message": {"n": 300}}),
        ] {
            assert!(
                matches!(
                    sign_typed_data(&key, &bad),
                    Err(TypedDataError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn solana_signatures_verify_with_the_wallets_key() {
        use ed25519_dalek::Verifier;
        let seed = [7u8; 32];
        let signature = solana_sign_message(&seed, b"hello").unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let parsed = ed25519_dalek::Signature::from_bytes(&signature);
        assert!(public.verify(b"hello", &parsed).is_ok());
        assert!(public.verify(b"hellO", &parsed).is_err());
        assert!(solana_sign_message(&[1u8; 31], b"x").is_err());
    }
}
