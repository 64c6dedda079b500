//! Privy's wallet RPC: `POST /v1/wallets/{wallet_id}/rpc`, as `@privy-io/node`'s
//! `wallets().ethereum()` and `.solana()` send it. The body is already the native route's
//! (`{method, params, caip2, chain_type}`); what differs is the wallet's name (Privy's wallet
//! id, `<user id>-<chain>`, see [`super::accounts::wallet_id`]) and the answer,
//! `{method, data}` with Privy's fields and encodings. It is served by the signing function,
//! the one that may open wallet keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::domain::wallets::rpc::Signed;
use crate::model::ChainType;
use crate::model::rpc::Method;

/// The route, under the dialect's mount, as API Gateway routes it to the signing function.
pub const RPC_ROUTE: &str = "/privy/v1/wallets/{wallet_id}/rpc";

/// The wallet id of a request path (`/privy/v1/wallets/<id>/rpc`), if it is one.
pub fn rpc_wallet_id(path: &str) -> Option<&str> {
    path.strip_prefix("/privy/v1/wallets/")?
        .strip_suffix("/rpc")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The user and chain a Privy wallet id names.
pub fn parse_wallet_id(id: &str) -> Option<(&str, ChainType)> {
    let (user, chain) = id.rsplit_once('-')?;
    Some((super::user_id(user), ChainType::parse(chain)?))
}

/// A signature in Privy's words: `{method, data}`.
pub fn answer(signed: &Signed, chain: ChainType) -> Value {
    let method = Method::parse(chain, signed.method);
    let data = match method {
        Some(Method::PersonalSign | Method::SignTypedData) => {
            json!({"signature": signed.signature, "encoding": "hex"})
        }
        Some(Method::SignTransaction) => {
            json!({"signed_transaction": signed.signed_transaction, "encoding": "rlp"})
        }
        Some(Method::SendTransaction) => json!({
            "hash": signed.hash, "caip2": signed.caip2, "transaction_id": signed.signature_id
        }),
        // Privy gives Solana signatures in base64; ours are base58.
        Some(Method::SolanaSignMessage) => json!({
            "signature": signed.signature.as_deref().map(base58_to_base64), "encoding": "base64"
        }),
        Some(Method::SolanaSignTransaction) => {
            json!({"signed_transaction": signed.signed_transaction, "encoding": "base64"})
        }
        Some(Method::SolanaSignAndSendTransaction) => json!({
            "hash": signed.hash, "caip2": signed.caip2,
            "signed_transaction": signed.signed_transaction, "transaction_id": signed.signature_id
        }),
        None => Value::Null,
    };
    json!({"method": signed.method, "data": data})
}

fn base58_to_base64(text: &str) -> String {
    bs58::decode(text)
        .into_vec()
        .map(|bytes| BASE64.encode(bytes))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_ids_and_paths_name_a_user_and_chain() {
        let id = "01a234c7-d728-700a-b636-5d4dd3222e47-ethereum";
        assert_eq!(
            rpc_wallet_id(&format!("/privy/v1/wallets/{id}/rpc")),
            Some(id)
        );
        assert_eq!(rpc_wallet_id("/privy/v1/wallets//rpc"), None);
        assert_eq!(rpc_wallet_id("/privy/v1/wallets/a/b/rpc"), None);
        assert_eq!(
            parse_wallet_id(id),
            Some(("01a234c7-d728-700a-b636-5d4dd3222e47", ChainType::Ethereum))
        );
        assert_eq!(
            parse_wallet_id("did:privy:abc-solana"),
            Some(("abc", ChainType::Solana))
        );
        assert_eq!(parse_wallet_id("abc-bitcoin"), None);
    }

    #[test]
    fn answers_are_privys_shapes() {
        let signed = Signed {
            method: "signMessage",
            signature: Some(bs58::encode([1u8, 2, 3]).into_string()),
            signed_transaction: None,
            hash: None,
            caip2: None,
            signature_id: "sig_1".into(),
            unconfirmed: false,
        };
        assert_eq!(
            answer(&signed, ChainType::Solana),
            json!({"method": "signMessage", "data": {"signature": "AQID", "encoding": "base64"}})
        );
    }
}
