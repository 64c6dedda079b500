//! Sealing wallet keys: what binds a sealed key to its owner, and opening one again. The key
//! service is a port ([`KeySealer`]); its implementations are in [`crate::adapters::sealer`].

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::model::{AppId, ChainType, UserId};
pub use crate::ports::sealer::{DataKey, KeyContext, KeyPurpose, KeySealer, SealError, SealedKey};
use crate::ports::sealer::{NONCE_BYTES, cipher};

/// Whether AES runs on the CPU's AES instructions (AES-NI, or ARMv8 AES on Graviton; the
/// `aes` crate detects them at run time). Logged at cold start.
pub fn aes_hardware_accelerated() -> bool {
    aes::hardware_accelerated()
}

/// What binds a sealed key to its owner.
pub fn associated_data(app: &AppId, user: UserId, chain: ChainType) -> Vec<u8> {
    format!("wallet-users/v1/{app}/{user}/{chain}").into_bytes()
}

/// Opens a sealed secret of the owner `context` names, bound to `aad`. A key sealed before
/// owners were named opens under its purpose alone.
pub async fn open<S: KeySealer>(
    sealer: &S,
    sealed: &SealedKey,
    aad: &[u8],
    context: &KeyContext,
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let decode = |text: &str| BASE64.decode(text).map_err(|_| SealError::Open);
    let data_key = sealer
        .open_data_key(
            &decode(&sealed.encrypted_data_key)?,
            &context.for_sealed(sealed),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sealer::LocalSealer;

    fn sealer() -> LocalSealer {
        LocalSealer::from_hex(&"42".repeat(32)).unwrap()
    }

    fn app() -> AppId {
        AppId::generate()
    }

    fn user_context() -> KeyContext {
        KeyContext::wallet(&app(), UserId::generate())
    }

    #[tokio::test]
    async fn a_sealed_key_opens_with_its_associated_data_only() {
        let sealer = sealer();
        let context = user_context();
        let data_key = sealer.data_key(&context).await.unwrap();
        let private_key = [7u8; 32];
        let sealed = data_key.seal(&private_key, b"owner-a").unwrap();
        assert!(!sealed.ciphertext.contains(&BASE64.encode(private_key)));
        assert_eq!(
            open(&sealer, &sealed, b"owner-a", &context)
                .await
                .unwrap()
                .as_slice(),
            private_key
        );
        assert_eq!(
            open(&sealer, &sealed, b"owner-b", &context).await,
            Err(SealError::Open)
        );
    }

    /// The data key itself is bound to its owner (KMS: the encryption context), not only the
    /// secret (the associated data): a data key lifted from user A's record does not open as
    /// user B's, another app's, or another purpose's.
    #[tokio::test]
    async fn a_data_key_issued_for_one_owner_opens_for_no_other() {
        let sealer = sealer();
        let (app, user) = (app(), UserId::generate());
        let context = KeyContext::wallet(&app, user);
        let sealed = sealer
            .data_key(&context)
            .await
            .unwrap()
            .seal(&[7u8; 32], b"aad")
            .unwrap();
        assert_eq!(sealed.context, Some(crate::model::SealContext::Owner));
        assert!(open(&sealer, &sealed, b"aad", &context).await.is_ok());
        let other_app = AppId::generate();
        for other in [
            KeyContext::wallet(&app, UserId::generate()),
            KeyContext::wallet(&other_app, user),
            KeyContext::webhook_secret(&app, &user.to_string()),
            KeyContext::client_secret(&app, &user.to_string()),
        ] {
            assert_eq!(
                open(&sealer, &sealed, b"aad", &other).await,
                Err(SealError::Open),
                "{other:?}"
            );
        }
    }

    /// A key sealed before owners were named (its data key bound to the bare label, the record
    /// without `context`), as the earlier code made it, still opens: stored keys keep working.
    #[tokio::test]
    async fn a_key_sealed_under_the_purpose_alone_still_opens() {
        let sealed: SealedKey = serde_json::from_str(
            r#"{"provider": "local", "encrypted_data_key": "AQEBAQEBAQEBAQEBLai0BJBRh8rXX+PH6xq1xLqS7tCZucEUUEUqEw5b68rnrcZ7SYd68tgzXSc9/Org", "nonce": "AgICAgICAgICAgIC", "ciphertext": "nC8evL7eNlzMgqX/NH7dFBvuqGuTU3/2RVnWBHBsTsUWqXcLjzwtmaneAwkfTUA3"}"#,
        )
        .unwrap();
        assert_eq!(sealed.context, None);
        let opened = open(&sealer(), &sealed, b"owner-a", &user_context())
            .await
            .unwrap();
        assert_eq!(opened.as_slice(), [7u8; 32]);
    }

    #[tokio::test]
    async fn tampered_ciphertext_nonce_or_data_key_fails_to_open() {
        let sealer = sealer();
        let context = user_context();
        let sealed = sealer
            .data_key(&context)
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
            // Claiming the purpose-only form does not open an owner-bound data key.
            SealedKey {
                context: None,
                ..sealed.clone()
            },
        ] {
            assert_eq!(
                open(&sealer, &tampered, b"aad", &context).await,
                Err(SealError::Open)
            );
        }
        // Another key-encryption key cannot open the data key.
        let other = LocalSealer::from_hex(&"24".repeat(32)).unwrap();
        assert_eq!(
            open(&other, &sealed, b"aad", &context).await,
            Err(SealError::Open)
        );
    }

    #[tokio::test]
    async fn nonces_are_fresh_for_every_seal() {
        let data_key = sealer().data_key(&user_context()).await.unwrap();
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
