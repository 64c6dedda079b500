//! Wallet addresses of the chains we support, parsed into one canonical spelling each.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

/// A blockchain family. An `ethereum` address is valid on every EVM chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainType {
    Ethereum,
    Solana,
}

impl ChainType {
    /// Every supported chain, in the order the API lists them.
    pub const ALL: [ChainType; 2] = [ChainType::Ethereum, ChainType::Solana];

    /// Parses the API's name of a chain.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|chain| chain.as_str() == text)
    }

    /// The API's name of the chain.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ethereum => "ethereum",
            Self::Solana => "solana",
        }
    }
}

impl fmt::Display for ChainType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid address: EIP-55 checksummed for ethereum, canonical base58 for solana.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WalletAddress {
    chain: ChainType,
    text: String,
}

impl WalletAddress {
    /// Parses an address of `chain`. Ethereum accepts any single case, or mixed case only when
    /// it is the correct EIP-55 checksum (a mistyped checksummed address is caught, not stored).
    pub fn parse(chain: ChainType, text: &str) -> Result<Self, &'static str> {
        match chain {
            ChainType::Ethereum => parse_ethereum(text),
            ChainType::Solana => parse_solana(text),
        }
        .map(|text| Self { chain, text })
    }

    /// Parses an address whose chain is not given, telling the chains apart by form (hex with
    /// `0x` versus base58): for lookups by address.
    pub fn parse_any(text: &str) -> Option<Self> {
        let chain = if text.starts_with("0x") || text.starts_with("0X") {
            ChainType::Ethereum
        } else {
            ChainType::Solana
        };
        Self::parse(chain, text).ok()
    }

    /// The ethereum address of a 20-byte account, EIP-55 checksummed.
    pub fn ethereum(account: &[u8; 20]) -> Self {
        Self {
            chain: ChainType::Ethereum,
            text: eip55(&hex::encode(account)),
        }
    }

    /// The solana address of a 32-byte ed25519 public key.
    pub fn solana(public_key: &[u8; 32]) -> Self {
        Self {
            chain: ChainType::Solana,
            text: bs58::encode(public_key).into_string(),
        }
    }

    /// The chain the address belongs to.
    pub fn chain(&self) -> ChainType {
        self.chain
    }

    /// The canonical spelling shown by the API.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The spelling uniqueness and lookups compare: case does not distinguish hex addresses.
    pub fn key(&self) -> String {
        match self.chain {
            ChainType::Ethereum => self.text.to_ascii_lowercase(),
            ChainType::Solana => self.text.clone(),
        }
    }
}

fn parse_ethereum(text: &str) -> Result<String, &'static str> {
    const MESSAGE: &str = "must be a 0x-prefixed 40-digit hex ethereum address";
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or(MESSAGE)?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MESSAGE);
    }
    let lower = digits.to_ascii_lowercase();
    let checksummed = eip55(&lower);
    let single_case = digits == lower || digits == digits.to_ascii_uppercase();
    if !single_case && digits != &checksummed[2..] {
        return Err("has an invalid EIP-55 checksum (mixed case that does not match)");
    }
    Ok(checksummed)
}

fn parse_solana(text: &str) -> Result<String, &'static str> {
    const MESSAGE: &str = "must be a base58 solana address (a 32-byte public key)";
    // A 32-byte key is 32 to 44 base58 characters; checking first bounds the decoding work.
    if !(32..=44).contains(&text.len()) {
        return Err(MESSAGE);
    }
    let bytes = bs58::decode(text).into_vec().map_err(|_| MESSAGE)?;
    if bytes.len() != 32 || bs58::encode(&bytes).into_string() != text {
        return Err(MESSAGE);
    }
    Ok(text.to_owned())
}

/// EIP-55: uppercase the i-th hex letter when the i-th nibble of keccak256(lowercase hex) >= 8.
fn eip55(lower_hex: &str) -> String {
    let hash = Keccak256::digest(lower_hex.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower_hex.chars().enumerate() {
        let byte = hash[i / 2];
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vectors published in EIP-55 itself.
    const EIP55_VECTORS: [&str; 8] = [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn eip55_vectors_checksum_to_themselves() {
        for vector in &EIP55_VECTORS[4..] {
            let lower = vector[2..].to_ascii_lowercase();
            assert_eq!(eip55(&lower), *vector);
        }
    }

    #[test]
    fn ethereum_accepts_vectors_and_single_case_and_canonicalises() {
        for vector in EIP55_VECTORS {
            let parsed = WalletAddress::parse(ChainType::Ethereum, vector).unwrap();
            assert_eq!(parsed.key(), vector.to_ascii_lowercase());
        }
        let lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        let parsed = WalletAddress::parse(ChainType::Ethereum, lower).unwrap();
        assert_eq!(
            parsed.as_str(),
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        );
    }

    #[test]
    fn ethereum_rejects_a_broken_checksum_and_bad_forms() {
        // One letter's case flipped in a valid checksummed address.
        let broken = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert!(WalletAddress::parse(ChainType::Ethereum, broken).is_err());
        for bad in [
            "",
            "0x",
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x123",
            "0xzz",
        ] {
            assert!(
                WalletAddress::parse(ChainType::Ethereum, bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn solana_accepts_canonical_base58_keys_only() {
        let key = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
        let parsed = WalletAddress::parse(ChainType::Solana, key).unwrap();
        assert_eq!(parsed.as_str(), key);
        assert_eq!(WalletAddress::parse_any(key), Some(parsed));
        // '0', 'O', 'I' and 'l' are not base58; 31-byte keys are not addresses.
        assert!(
            WalletAddress::parse(
                ChainType::Solana,
                "0Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"
            )
            .is_err()
        );
        assert!(
            WalletAddress::parse(ChainType::Solana, &bs58::encode([7u8; 31]).into_string())
                .is_err()
        );
    }

    #[test]
    fn solana_address_of_a_public_key_is_its_base58() {
        assert_eq!(
            WalletAddress::solana(&[0u8; 32]).as_str(),
            "11111111111111111111111111111111"
        );
    }
}
