//! Privy's linked accounts, both ways: its input types (`twitter_oauth`, `custom_auth`, …)
//! read into ours, and a user's accounts, email and embedded wallets shown as Privy shows them.
//! Fields Privy has and we do not keep (display names, pictures, a farcaster owner address)
//! are dropped on the way in and `null` on the way out: nothing is invented.

use serde_json::{Map, Value, json};

use crate::model::linked_account::{Account, LinkedAccount, OauthAccount};
use crate::model::{ChainType, User, WalletStatus};

/// Privy's account types and ours, where they differ by name only.
const TYPES: [(&str, &str); 13] = [
    ("twitter_oauth", "twitter"),
    ("discord_oauth", "discord"),
    ("github_oauth", "github"),
    ("google_oauth", "google"),
    ("apple_oauth", "apple"),
    ("linkedin_oauth", "linkedin"),
    ("spotify_oauth", "spotify"),
    ("instagram_oauth", "instagram"),
    ("tiktok_oauth", "tiktok"),
    ("line_oauth", "line"),
    ("custom_auth", "custom"),
    ("telegram", "telegram"),
    ("passkey", "passkey"),
];

/// Our type for Privy's `kind` (the same name where they agree).
pub fn our_type(kind: &str) -> &str {
    TYPES
        .iter()
        .find(|(theirs, _)| *theirs == kind)
        .map(|(_, ours)| *ours)
        .unwrap_or(kind)
}

/// One of Privy's input accounts as our linked-account JSON (which then parses as any other):
/// its identity fields renamed, the fields we do not keep left out.
pub fn to_native(account: &Value) -> Value {
    let Some(object) = account.as_object() else {
        return account.clone();
    };
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    let take = |names: &[(&str, &str)]| -> Value {
        let mut native = Map::new();
        native.insert("type".into(), json!(our_type(kind)));
        for (theirs, ours) in names {
            if let Some(value) = object.get(*theirs).filter(|v| !v.is_null()) {
                native.insert((*ours).to_owned(), value.clone());
            }
        }
        Value::Object(native)
    };
    match our_type(kind) {
        "email" => take(&[("address", "address")]),
        "phone" => take(&[("number", "number"), ("phoneNumber", "number")]),
        "wallet" => take(&[("address", "address"), ("chain_type", "chain_type")]),
        "custom" => take(&[("custom_user_id", "subject")]),
        "telegram" => take(&[("telegram_user_id", "subject"), ("username", "username")]),
        "farcaster" => take(&[("fid", "fid"), ("username", "username")]),
        "passkey" => take(&[
            ("credential_id", "credential_id"),
            ("authenticator_name", "authenticator_name"),
        ]),
        "twitter" | "discord" | "github" | "instagram" | "tiktok" => take(&[
            ("subject", "subject"),
            ("username", "username"),
            ("email", "email"),
        ]),
        "google" | "apple" | "linkedin" | "spotify" | "line" => {
            take(&[("subject", "subject"), ("email", "email")])
        }
        // Unknown to us: passed on whole, so the error names the type.
        _ => account.clone(),
    }
}

/// Seconds since the epoch of one of our RFC 3339 timestamps.
pub fn unix_seconds(timestamp: &str) -> Option<i64> {
    time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A user's accounts as Privy lists them: its email, its linked accounts, its embedded wallets.
pub fn linked_accounts(user: &User) -> Vec<Value> {
    let created = unix_seconds(&user.created_at);
    let verified = |at: Option<i64>| json!({"verified_at": at, "first_verified_at": at, "latest_verified_at": at});
    let mut accounts = Vec::new();
    if let Some(email) = &user.email {
        let mut view = json!({"type": "email", "address": email});
        merge(&mut view, verified(created));
        accounts.push(view);
    }
    for linked in &user.linked_accounts {
        let at = linked
            .linked_at
            .as_deref()
            .and_then(unix_seconds)
            .or(created);
        let mut view = account_view(linked);
        merge(&mut view, verified(at));
        accounts.push(view);
    }
    for (index, wallet) in user.wallets.iter().enumerate() {
        if wallet.status != WalletStatus::Ready {
            continue;
        }
        let at = wallet
            .created_at
            .as_deref()
            .and_then(unix_seconds)
            .or(created);
        let chain_id = wallet
            .networks
            .first()
            .map(|network| match wallet.chain_type {
                ChainType::Ethereum => format!("eip155:{}", network.chain_id.unwrap_or(1)),
                ChainType::Solana => format!(
                    "solana:{}",
                    network.cluster.as_deref().unwrap_or("mainnet-beta")
                ),
            });
        let mut view = json!({
            "type": "wallet",
            "id": wallet_id(user, wallet.chain_type),
            "address": wallet.address,
            "chain_type": wallet.chain_type,
            "chain_id": chain_id,
            "connector_type": "embedded",
            "wallet_client": "privy",
            "wallet_client_type": "privy",
            "delegated": false,
            "imported": false,
            "recovery_method": "privy-v2",
            "wallet_index": index,
            "public_key": match wallet.chain_type {
                ChainType::Solana => json!(wallet.address),
                ChainType::Ethereum => Value::Null,
            },
        });
        merge(&mut view, verified(at));
        accounts.push(view);
    }
    accounts
}

/// The id an embedded wallet is known by in Privy's words: the user's id and the chain.
pub fn wallet_id(user: &User, chain: ChainType) -> String {
    format!("{}-{}", user.id, chain)
}

fn merge(view: &mut Value, more: Value) {
    if let (Some(view), Value::Object(more)) = (view.as_object_mut(), more) {
        view.extend(more);
    }
}

fn oauth(kind: &str, account: &OauthAccount) -> Value {
    let with_username =
        json!({"type": kind, "subject": account.subject, "username": account.username});
    match kind {
        "twitter_oauth" => {
            json!({"type": kind, "subject": account.subject, "username": account.username,
                                  "name": null, "profile_picture_url": null})
        }
        "discord_oauth" => {
            json!({"type": kind, "subject": account.subject, "username": account.username,
                                  "email": account.email})
        }
        "github_oauth" => {
            json!({"type": kind, "subject": account.subject, "username": account.username,
                                 "name": null, "email": account.email})
        }
        "instagram_oauth" | "tiktok_oauth" => with_username,
        "google_oauth" | "spotify_oauth" | "linkedin_oauth" | "line_oauth" => {
            json!({"type": kind, "subject": account.subject, "email": account.email, "name": null})
        }
        _ => json!({"type": kind, "subject": account.subject, "email": account.email}),
    }
}

fn account_view(linked: &LinkedAccount) -> Value {
    match &linked.account {
        Account::Wallet {
            chain_type,
            address,
        } => json!({
            "type": "wallet", "address": address, "chain_type": chain_type,
            "wallet_client": "unknown", "wallet_client_type": null, "connector_type": null,
        }),
        Account::Email { address } => json!({"type": "email", "address": address}),
        Account::Phone { number } => {
            json!({"type": "phone", "number": number, "phoneNumber": number})
        }
        Account::Twitter(a) => oauth("twitter_oauth", a),
        Account::Discord(a) => oauth("discord_oauth", a),
        Account::Github(a) => oauth("github_oauth", a),
        Account::Google(a) => oauth("google_oauth", a),
        Account::Apple(a) => oauth("apple_oauth", a),
        Account::Linkedin(a) => oauth("linkedin_oauth", a),
        Account::Spotify(a) => oauth("spotify_oauth", a),
        Account::Instagram(a) => oauth("instagram_oauth", a),
        Account::Tiktok(a) => oauth("tiktok_oauth", a),
        Account::Line(a) => oauth("line_oauth", a),
        Account::Telegram(a) => json!({
            "type": "telegram", "telegram_user_id": a.subject, "username": a.username,
            "first_name": null, "last_name": null, "photo_url": null,
        }),
        Account::Farcaster { fid, username } => json!({
            "type": "farcaster", "fid": fid, "owner_address": null, "username": username,
        }),
        Account::Passkey {
            credential_id,
            authenticator_name,
        } => json!({
            "type": "passkey", "credential_id": credential_id,
            "authenticator_name": authenticator_name, "enrolled_in_mfa": false,
        }),
        Account::Custom { subject } => json!({"type": "custom_auth", "custom_user_id": subject}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_inputs_read_as_ours_without_what_we_do_not_keep() {
        assert_eq!(
            to_native(
                &json!({"type": "twitter_oauth", "subject": "1", "username": "ada",
                              "name": "Ada", "profile_picture_url": "https://x"})
            ),
            json!({"type": "twitter", "subject": "1", "username": "ada"})
        );
        assert_eq!(
            to_native(&json!({"type": "custom_auth", "custom_user_id": "u-1"})),
            json!({"type": "custom", "subject": "u-1"})
        );
        assert_eq!(
            to_native(&json!({"type": "farcaster", "fid": 7, "owner_address": "0x1"})),
            json!({"type": "farcaster", "fid": 7})
        );
        assert_eq!(
            to_native(&json!({"type": "twitch_oauth"})),
            json!({"type": "twitch_oauth"})
        );
    }
}
