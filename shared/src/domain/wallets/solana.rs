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
    /// Lamports the wallet pays: System Program transfers and account creations it funds, and
    /// the fee (signatures and priority) when it is the fee payer.
    pub lamports_out: u128,
    /// Programs invoked and transfer recipients and created accounts, base58; `None` when an
    /// account index points into an address lookup table, which cannot be read without the
    /// cluster.
    pub destinations: Option<Vec<String>>,
    /// What acts with the wallet among its accounts and moves what cannot be counted before it
    /// runs: another program (which can move the wallet's lamports with its signature), or a
    /// System instruction other than a transfer or an account creation (assigning the wallet
    /// to a program, withdrawing from a nonce account, …).
    pub uncounted: Vec<String>,
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

/// The Compute Budget program's id (`ComputeBudget111111111111111111111111111111`).
const COMPUTE_BUDGET_PROGRAM: [u8; 32] = [
    3, 6, 70, 111, 229, 33, 23, 50, 255, 236, 173, 186, 114, 195, 155, 231, 188, 140, 229, 187,
    197, 247, 18, 107, 44, 67, 155, 58, 64, 0, 0, 0,
];
/// The System Program's `CreateAccount` and `AdvanceNonceAccount` instructions.
const SYSTEM_CREATE_ACCOUNT: u32 = 0;
const SYSTEM_ADVANCE_NONCE: u32 = 4;
/// The fee of one signature, in lamports.
const LAMPORTS_PER_SIGNATURE: u128 = 5_000;
/// The compute units an instruction is given when the transaction sets no limit, and the most
/// a transaction may have.
const DEFAULT_UNITS_PER_INSTRUCTION: u128 = 200_000;
const MAX_UNITS: u128 = 1_400_000;

/// What `tx` does to and from the wallet with public key `wallet`.
pub fn effects(tx: &VersionedTransaction, wallet: &[u8; 32]) -> SolanaEffects {
    let keys = tx.message.static_account_keys();
    let key = |index: u8| keys.get(usize::from(index)).map(|key| key.as_ref());
    let mut effects = SolanaEffects {
        lamports_out: 0,
        destinations: Some(Vec::new()),
        uncounted: Vec::new(),
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
    let (mut unit_limit, mut unit_price, mut instructions) = (None, 0u128, 0u128);
    for instruction in tx.message.instructions() {
        let program = key(instruction.program_id_index);
        let data = &instruction.data;
        let wallet_in = instruction
            .accounts
            .iter()
            .any(|index| key(*index) == Some(wallet.as_slice()));
        let amount = || {
            data.get(4..12)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map(|bytes| u128::from(u64::from_le_bytes(bytes)))
        };
        if program == Some(COMPUTE_BUDGET_PROGRAM.as_slice()) {
            // SetComputeUnitLimit (2, u32) and SetComputeUnitPrice (3, micro-lamports u64).
            match (data.first(), data.get(1..5), data.get(1..9)) {
                (Some(2), Some(limit), _) => {
                    unit_limit = <[u8; 4]>::try_from(limit)
                        .ok()
                        .map(|limit| u128::from(u32::from_le_bytes(limit)));
                }
                (Some(3), _, Some(price)) => {
                    unit_price = <[u8; 8]>::try_from(price)
                        .map(|price| u128::from(u64::from_le_bytes(price)))
                        .unwrap_or(u128::MAX);
                }
                _ => {}
            }
            continue;
        }
        instructions += 1;
        if program != Some(SYSTEM_PROGRAM.as_slice()) {
            note(&mut effects, program);
            if wallet_in {
                effects
                    .uncounted
                    .push(bs58::encode(program.unwrap_or_default()).into_string());
            }
            continue;
        }
        // The System Program decodes an instruction from its first bytes and ignores any
        // after them: read the index and amount by position, never by exact length.
        let index = data
            .get(..4)
            .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
            .map(u32::from_le_bytes);
        let from = instruction.accounts.first().and_then(|index| key(*index));
        let to = instruction.accounts.get(1).and_then(|index| key(*index));
        match (index, amount()) {
            (Some(SYSTEM_TRANSFER | SYSTEM_CREATE_ACCOUNT), Some(lamports)) => {
                if from == Some(wallet.as_slice()) {
                    effects.lamports_out += lamports;
                }
                note(&mut effects, to);
            }
            (Some(SYSTEM_ADVANCE_NONCE), _) => {}
            (index, _) if wallet_in => effects.uncounted.push(format!(
                "System Program instruction {}",
                index.map_or_else(|| "(unreadable)".to_owned(), |i| i.to_string())
            )),
            _ => note(&mut effects, program),
        }
    }
    // The fee payer is the first account: its signatures and its priority fee.
    if keys.first().map(|payer| payer.as_ref()) == Some(wallet.as_slice()) {
        let signatures = u128::from(tx.message.header().num_required_signatures);
        let units = unit_limit
            .unwrap_or(DEFAULT_UNITS_PER_INSTRUCTION * instructions)
            .min(MAX_UNITS);
        let priority = units.saturating_mul(unit_price).div_ceil(1_000_000);
        effects.lamports_out = effects
            .lamports_out
            .saturating_add(LAMPORTS_PER_SIGNATURE * signatures)
            .saturating_add(priority);
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
        // The transfer, and the fee of its one signature (the wallet pays it).
        assert_eq!(effects.lamports_out, 1_000 + 5_000);
        assert!(effects.uncounted.is_empty());
        assert_eq!(
            effects.destinations,
            Some(vec![bs58::encode([5u8; 32]).into_string()])
        );
    }

    /// A transaction of `instructions` (program index, accounts, data) over the wallet, a
    /// recipient, the System Program, the Compute Budget program and another program.
    fn with(instructions: Vec<(u8, Vec<u8>, Vec<u8>)>) -> VersionedTransaction {
        let message = legacy::Message {
            header: MessageHeader {
                num_required_signatures: 1,
                num_readonly_signed_accounts: 0,
                num_readonly_unsigned_accounts: 3,
            },
            account_keys: vec![
                wallet().into(),
                [5u8; 32].into(),
                SYSTEM_PROGRAM.into(),
                COMPUTE_BUDGET_PROGRAM.into(),
                [8u8; 32].into(),
            ],
            recent_blockhash: [9u8; 32].into(),
            instructions: instructions
                .into_iter()
                .map(|(program_id_index, accounts, data)| CompiledInstruction {
                    program_id_index,
                    accounts,
                    data,
                })
                .collect(),
        };
        VersionedTransaction {
            signatures: vec![[0u8; 64].into()],
            message: VersionedMessage::Legacy(message),
        }
    }

    fn system(index: u32, lamports: u64, extra: &[u8]) -> Vec<u8> {
        let mut data = index.to_le_bytes().to_vec();
        data.extend_from_slice(&lamports.to_le_bytes());
        data.extend_from_slice(extra);
        data
    }

    #[test]
    fn what_leaves_the_wallet_is_counted_however_it_is_written() {
        // Trailing bytes the System Program ignores still move the lamports.
        let padded = effects(
            &with(vec![(2, vec![0, 1], system(2, 700, &[1]))]),
            &wallet(),
        );
        assert_eq!(padded.lamports_out, 700 + 5_000);
        // An account the wallet funds is a destination like a transfer's recipient.
        let created = effects(
            &with(vec![(2, vec![0, 1], system(0, 900, &[0; 40]))]),
            &wallet(),
        );
        assert_eq!(created.lamports_out, 900 + 5_000);
        assert_eq!(
            created.destinations,
            Some(vec![bs58::encode([5u8; 32]).into_string()])
        );
        // A priority fee: 300,000 units at 2,000,000 micro-lamports each.
        let mut limit = vec![2u8];
        limit.extend_from_slice(&300_000u32.to_le_bytes());
        let mut price = vec![3u8];
        price.extend_from_slice(&2_000_000u64.to_le_bytes());
        let priority = effects(
            &with(vec![
                (3, vec![], limit),
                (3, vec![], price),
                (2, vec![0, 1], system(2, 1, &[])),
            ]),
            &wallet(),
        );
        assert_eq!(priority.lamports_out, 1 + 5_000 + 600_000);
        // Assigning the wallet to a program, or another program acting with it, is uncounted.
        let assign = effects(&with(vec![(2, vec![0], system(1, 0, &[8; 24]))]), &wallet());
        assert_eq!(assign.uncounted, ["System Program instruction 1"]);
        let other = effects(&with(vec![(4, vec![0, 1], vec![1, 2, 3])]), &wallet());
        assert_eq!(other.uncounted, [bs58::encode([8u8; 32]).into_string()]);
        let bystander = effects(&with(vec![(4, vec![1], vec![1])]), &wallet());
        assert!(bystander.uncounted.is_empty());
    }

    #[test]
    fn the_compute_budget_program_id_is_its_base58_name() {
        assert_eq!(
            bs58::encode(COMPUTE_BUDGET_PROGRAM).into_string(),
            "ComputeBudget111111111111111111111111111111"
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
