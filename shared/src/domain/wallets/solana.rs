//! Solana transactions: the wire format (legacy and v0 messages) is `solana-transaction`'s;
//! we find the wallet's signer slot, sign the message bytes with ed25519 and put the
//! signature there. Also what the policy needs to know of a transaction: the lamports it
//! moves out of the wallet and the programs and accounts it sends to.

use solana_message::VersionedMessage;
use solana_transaction::versioned::VersionedTransaction;

use super::keys::KeyError;
use crate::model::ChainType;

/// The System Program's id (32 zero bytes, `11111111111111111111111111111111`).
const SYSTEM_PROGRAM: [u8; 32] = [0; 32];
/// The System Program's `Transfer` instruction (a little-endian u32 index, then lamports).
const SYSTEM_TRANSFER: u32 = 2;

/// Why a Solana transaction cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolanaError {
    #[error("not a serialized Solana transaction: {0}")]
    Malformed(String),
    #[error("only legacy and v0 transactions are signed")]
    Version,
    #[error("the wallet is not one of the transaction's signers")]
    NotASigner,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A transaction as the wallet signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSolana {
    /// The whole transaction, the wallet's signature in its slot.
    pub raw: Vec<u8>,
    /// The wallet's signature: the transaction's id when the wallet pays the fees.
    pub signature: [u8; 64],
    /// The first signature, the transaction's id on the cluster.
    pub id: [u8; 64],
}

/// What a transaction does, as far as a policy looks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SolanaEffects {
    /// Lamports moved out of the wallet by System Program transfers.
    pub lamports_out: u128,
    /// Programs invoked and transfer destinations, base58; `None` when an index points into
    /// an address lookup table, which cannot be read without the cluster.
    pub destinations: Option<Vec<String>>,
}

/// Parses a serialized transaction, legacy or v0, checking its structure.
pub fn parse(wire: &[u8]) -> Result<VersionedTransaction, SolanaError> {
    let tx: VersionedTransaction = wincode::deserialize_exact(wire)
        .map_err(|error| SolanaError::Malformed(error.to_string()))?;
    if matches!(tx.message, VersionedMessage::V1(_)) {
        return Err(SolanaError::Version);
    }
    tx.sanitize()
        .map_err(|error| SolanaError::Malformed(error.to_string()))?;
    Ok(tx)
}

/// Whether `bytes` are a transaction message: `signMessage` refuses them, since a signature
/// over one authorises that transaction without any of the checks `signTransaction` makes.
pub fn is_transaction_message(bytes: &[u8]) -> bool {
    wincode::deserialize_exact::<VersionedMessage>(bytes)
        .is_ok_and(|message| message.sanitize().is_ok())
}

/// Signs `tx` with the wallet's ed25519 seed.
pub fn sign(private_key: &[u8], mut tx: VersionedTransaction) -> Result<SignedSolana, SolanaError> {
    let seed: &[u8; 32] = private_key
        .try_into()
        .map_err(|_| KeyError::Invalid(ChainType::Solana))?;
    let key = ed25519_dalek::SigningKey::from_bytes(seed);
    let public = key.verifying_key().to_bytes();
    let signers = usize::from(tx.message.header().num_required_signatures);
    let slot = tx.message.static_account_keys()
        [..signers.min(tx.message.static_account_keys().len())]
        .iter()
        .position(|account| account.as_ref() == public.as_slice())
        .ok_or(SolanaError::NotASigner)?;
    let signature = ed25519_dalek::Signer::sign(&key, &tx.message.serialize()).to_bytes();
    let slot_signature = tx
        .signatures
        .get_mut(slot)
        .ok_or_else(|| SolanaError::Malformed("fewer signatures than signers".into()))?;
    *slot_signature = signature.into();
    let id = tx
        .signatures
        .first()
        .map(|first| <[u8; 64]>::from(*first))
        .unwrap_or(signature);
    let raw = wincode::serialize(&tx).map_err(|error| SolanaError::Malformed(error.to_string()))?;
    Ok(SignedSolana { raw, signature, id })
}

/// What `tx` does to and from the wallet with public key `wallet`.
pub fn effects(tx: &VersionedTransaction, wallet: &[u8; 32]) -> SolanaEffects {
    let keys = tx.message.static_account_keys();
    let key = |index: u8| keys.get(usize::from(index)).map(|key| key.as_ref());
    let mut effects = SolanaEffects {
        lamports_out: 0,
        destinations: Some(Vec::new()),
    };
    let note = |effects: &mut SolanaEffects, account: Option<&[u8]>| match account {
        Some(account) => {
            if let Some(list) = effects.destinations.as_mut() {
                let text = bs58::encode(account).into_string();
                if !list.contains(&text) {
                    list.push(text);
                }
            }
        }
        None => effects.destinations = None,
    };
    for instruction in tx.message.instructions() {
        let program = key(instruction.program_id_index);
        if program != Some(SYSTEM_PROGRAM.as_slice()) {
            note(&mut effects, program);
            continue;
        }
        let data = &instruction.data;
        let is_transfer = data.len() == 12
            && data[..4] == SYSTEM_TRANSFER.to_le_bytes()
            && instruction
                .accounts
                .first()
                .and_then(|from| key(*from))
                .is_some_and(|from| from == wallet.as_slice());
        if is_transfer {
            let mut lamports = [0u8; 8];
            lamports.copy_from_slice(&data[4..12]);
            effects.lamports_out += u128::from(u64::from_le_bytes(lamports));
            note(
                &mut effects,
                instruction.accounts.get(1).and_then(|to| key(*to)),
            );
        } else {
            // Other System Program instructions (create account, assign, …) are checked by
            // the program they name.
            note(&mut effects, program);
        }
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_message::legacy;
    use solana_message::{Message, MessageHeader, compiled_instruction::CompiledInstruction};

    fn seed() -> [u8; 32] {
        [7u8; 32]
    }

    /// A legacy transfer of `lamports` from the wallet to `to`, unsigned.
    fn transfer(from: [u8; 32], to: [u8; 32], lamports: u64) -> Vec<u8> {
        let mut data = SYSTEM_TRANSFER.to_le_bytes().to_vec();
        data.extend_from_slice(&lamports.to_le_bytes());
        let message = legacy::Message {
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 1,
            },
            account_keys: vec![from.into(), to.into(), SYSTEM_PROGRAM.into()],
            recent_blockhash: [9u8; 32].into(),
            instructions: vec![CompiledInstruction {
                program_id_index: 2,
                accounts: vec![0, 1],
                data,
            }],
        };
        let tx = VersionedTransaction {
            signatures: vec![[0u8; 64].into()],
            message: VersionedMessage::Legacy(message),
        };
        wincode::serialize(&tx).unwrap()
    }

    fn wallet() -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&seed())
            .verifying_key()
            .to_bytes()
    }

    #[test]
    fn a_transfer_is_signed_in_the_wallets_slot_and_verifies() {
        let wire = transfer(wallet(), [5u8; 32], 1_000);
        let signed = sign(&seed(), parse(&wire).unwrap()).unwrap();
        let tx = parse(&signed.raw).unwrap();
        assert_eq!(<[u8; 64]>::from(tx.signatures[0]), signed.signature);
        let public = ed25519_dalek::VerifyingKey::from_bytes(&wallet()).unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&signed.signature);
        assert!(
            public
                .verify_strict(&tx.message.serialize(), &signature)
                .is_ok()
        );
        let effects = effects(&tx, &wallet());
        assert_eq!(effects.lamports_out, 1_000);
        assert_eq!(
            effects.destinations,
            Some(vec![bs58::encode([5u8; 32]).into_string()])
        );
    }

    #[test]
    fn a_stranger_cannot_sign_and_messages_that_are_transactions_are_known() {
        let wire = transfer([1u8; 32], [5u8; 32], 1);
        assert_eq!(
            sign(&seed(), parse(&wire).unwrap()),
            Err(SolanaError::NotASigner)
        );
        let message = parse(&wire).unwrap().message.serialize();
        assert!(is_transaction_message(&message));
        assert!(!is_transaction_message(b"Sign in to example.com"));
        assert!(matches!(
            parse(&wire[..wire.len() - 1]),
            Err(SolanaError::Malformed(_))
        ));
        let _ = Message::default();
    }
}
