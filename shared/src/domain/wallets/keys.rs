//! Key pairs and their addresses. The private key exists only in memory, in a buffer that is
//! zeroed when dropped; nothing here formats it.

use k256::elliptic_curve::sec1::ToSec1Point;
use sha3::{Digest, Keccak256};
use zeroize::Zeroizing;

use crate::model::{ChainType, WalletAddress};

/// A fresh key pair: the private key (zeroed on drop) and its address.
pub struct GeneratedKey {
    pub private_key: Zeroizing<Vec<u8>>,
    pub address: WalletAddress,
}

impl std::fmt::Debug for GeneratedKey {
    // Key material must never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random source failed")]
    Random,
    #[error("not a valid private key for {0}")]
    Invalid(ChainType),
}

/// Generates a key pair for `chain` from the operating system's random source.
pub fn generate(chain: ChainType) -> Result<GeneratedKey, KeyError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    loop {
        getrandom::fill(seed.as_mut()).map_err(|_| KeyError::Random)?;
        // A secp256k1 scalar must be non-zero and below the group order; a uniformly random
        // 32-byte string misses with probability ~2^-128, so this loops at most once in practice.
        match address_of(chain, seed.as_ref()) {
            Ok(address) => {
                return Ok(GeneratedKey {
                    private_key: Zeroizing::new(seed.to_vec()),
                    address,
                });
            }
            Err(KeyError::Invalid(_)) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// The address of a private key: for ethereum the last 20 bytes of keccak-256 of the
/// uncompressed secp256k1 public key (without its 0x04 prefix), EIP-55 checksummed; for solana
/// the base58 ed25519 public key of the 32-byte seed.
pub fn address_of(chain: ChainType, private_key: &[u8]) -> Result<WalletAddress, KeyError> {
    let invalid = || KeyError::Invalid(chain);
    match chain {
        ChainType::Ethereum => {
            let secret = k256::SecretKey::from_slice(private_key).map_err(|_| invalid())?;
            let point = secret.public_key().to_sec1_point(false);
            let hash = Keccak256::digest(&point.as_bytes()[1..]);
            let mut account = [0u8; 20];
            account.copy_from_slice(&hash[12..]);
            Ok(WalletAddress::ethereum(&account))
        }
        ChainType::Solana => {
            let seed: &[u8; 32] = private_key.try_into().map_err(|_| invalid())?;
            let signing = ed25519_dalek::SigningKey::from_bytes(seed);
            Ok(WalletAddress::solana(&signing.verifying_key().to_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(chain: ChainType, hex_key: &str) -> String {
        address_of(chain, &hex::decode(hex_key).unwrap())
            .unwrap()
            .as_str()
            .to_owned()
    }

    #[test]
    fn ethereum_addresses_match_published_keys() {
        // Private key 1: the generator point's address, published in many references.
        assert_eq!(
            address(ChainType::Ethereum, &format!("{:064x}", 1)),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        // The example key of the eth-account documentation.
        assert_eq!(
            address(
                ChainType::Ethereum,
                "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
            ),
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
        );
    }

    #[test]
    fn solana_addresses_are_the_rfc8032_public_keys_in_base58() {
        // RFC 8032 section 7.1, test 1: secret key and public key.
        let public =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        assert_eq!(
            address(
                ChainType::Solana,
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
            ),
            bs58::encode(public).into_string()
        );
    }

    #[test]
    fn invalid_private_keys_are_refused() {
        assert_eq!(
            address_of(ChainType::Ethereum, &[0u8; 32]).unwrap_err(),
            KeyError::Invalid(ChainType::Ethereum)
        );
        assert!(address_of(ChainType::Ethereum, &[0xffu8; 32]).is_err());
        assert!(address_of(ChainType::Solana, &[1u8; 31]).is_err());
    }

    #[test]
    fn generated_keys_derive_their_addresses_and_differ() {
        for chain in ChainType::ALL {
            let a = generate(chain).unwrap();
            let b = generate(chain).unwrap();
            assert_eq!(address_of(chain, &a.private_key).unwrap(), a.address);
            assert_ne!(a.address, b.address);
            assert!(!format!("{a:?}").contains(&hex::encode(a.private_key.as_slice())));
        }
    }
}
