//! API keys and the apps they belong to.
//!
//! A key reads `wusk_<key id>_<secret><checksum>`: the prefix lets secret scanners find leaked
//! keys, the key id (16 hex digits) locates the stored record with one read, the secret is 256
//! random bits, and the checksum (CRC-32 of everything before it) rejects a mistyped or made-up
//! key before any database read. Only a SHA-256 of the whole key is stored; a slow password
//! hash buys nothing for a 256-bit random secret.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AppId, Scope};

/// An app as the admin CLI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    pub app_id: AppId,
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub settings: AppSettings,
}

/// What an app decides for itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    /// Only users matching an allowlist entry may be created.
    #[serde(default)]
    pub allowlist_required: bool,
    /// The networks the app operates on; none declared means the default (Ethereum mainnet):
    /// see [`super::network::effective`].
    #[serde(default)]
    pub networks: Vec<super::network::Network>,
    /// What the app's wallets may sign (see [`super::policy`]). Left out while it sets no
    /// rule: an empty map is not stored (DynamoDB Local's stream renders one as an attribute
    /// value of no type, which no SDK parses).
    #[serde(
        default,
        skip_serializing_if = "super::policy::SigningPolicy::is_empty"
    )]
    pub signing_policy: super::policy::SigningPolicy,
}

/// A key as stored: never the key itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: String,
    pub app_id: AppId,
    pub key_hash: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// When the key last authenticated a request, to the hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// The key's client secret, sealed: what Original's and OST's clients sign with, so the
    /// server must be able to read it (a hash would itself sign). Only on keys stored before
    /// client secrets got items of their own (see `AppStore::client_secret_of`); absent on keys
    /// issued before the dialects, which then speak only the dialects that present the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<super::SealedKey>,
    /// What the key may do. Absent on keys issued before scopes, which hold them all (see
    /// [`Scope::ALL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
}

impl ApiKeyRecord {
    /// The scopes the key holds.
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes.clone().unwrap_or_else(|| Scope::ALL.to_vec())
    }

    /// Whether the key may do what `scope` allows.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|held| held.contains(&scope))
    }
}

/// The secret the HMAC-signing dialects (Original's JWT, OST's request signature) sign with:
/// `wucs_` and 256 random bits in hex. Zeroed on drop, never shown by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(zeroize::Zeroizing<String>);

/// The prefix every client secret starts with (for secret scanners).
pub const CLIENT_SECRET_PREFIX: &str = "wucs_";

impl ClientSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, IssueError> {
        let mut random = zeroize::Zeroizing::new([0u8; SECRET_HEX / 2]);
        getrandom::fill(random.as_mut()).map_err(|e| IssueError::Random(e.to_string()))?;
        Ok(Self(zeroize::Zeroizing::new(format!(
            "{CLIENT_SECRET_PREFIX}{}",
            hex::encode(random.as_ref())
        ))))
    }

    /// A secret as opened from its sealed form; `None` unless it is one this API issued.
    pub fn from_opened(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let digits = text.strip_prefix(CLIENT_SECRET_PREFIX)?;
        (digits.len() == SECRET_HEX && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(zeroize::Zeroizing::new(text.to_owned())))
    }

    /// The secret itself: what an HMAC is keyed with, and what the client is configured with.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// The prefix every key starts with.
pub const KEY_PREFIX: &str = "wusk_";
const KEY_ID_HEX: usize = 16;
const SECRET_HEX: usize = 64;
const CHECKSUM_HEX: usize = 8;
const KEY_LEN: usize = KEY_PREFIX.len() + KEY_ID_HEX + 1 + SECRET_HEX + CHECKSUM_HEX;

/// A newly issued key: `token` is shown once and then exists only with the app.
pub struct IssuedKey {
    pub token: String,
    pub record: ApiKeyRecord,
    /// The client secret sealed in the record, shown once with the key.
    pub client_secret: Option<ClientSecret>,
}

impl std::fmt::Debug for IssuedKey {
    // The token is a secret: it must not reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Errors issuing a key.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// Issues a new key for `app_id` holding `scopes`, created at `now`.
pub fn issue_key(app_id: &AppId, scopes: &[Scope], now: &str) -> Result<IssuedKey, IssueError> {
    let mut random = [0u8; KEY_ID_HEX / 2 + SECRET_HEX / 2];
    getrandom::fill(&mut random).map_err(|e| IssueError::Random(e.to_string()))?;
    let (key_id, secret) = random.split_at(KEY_ID_HEX / 2);
    let key_id = hex::encode(key_id);
    let body = format!("{KEY_PREFIX}{key_id}_{}", hex::encode(secret));
    let token = format!("{body}{:08x}", crc32fast::hash(body.as_bytes()));
    let record = ApiKeyRecord {
        key_id,
        app_id: app_id.clone(),
        key_hash: hash_key(&token),
        created_at: now.to_owned(),
        revoked_at: None,
        last_used_at: None,
        client_secret: None,
        scopes: Some(scopes.to_vec()),
    };
    Ok(IssuedKey {
        token,
        record,
        client_secret: None,
    })
}

/// Whether `text` could be a key id (16 lowercase hex digits): what dialects that name a key
/// by its id check before reading its record, so made-up ids cost no read.
pub fn is_key_id(text: &str) -> bool {
    text.len() == KEY_ID_HEX && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key id of a well-formed key with a valid checksum; `None` for anything else.
pub fn key_id_of(token: &str) -> Option<&str> {
    if token.len() != KEY_LEN || !token.is_ascii() {
        return None;
    }
    let rest = token.strip_prefix(KEY_PREFIX)?;
    let (key_id, rest) = rest.split_at(KEY_ID_HEX);
    let secret_and_sum = rest.strip_prefix('_')?;
    let lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !lower_hex(key_id) || !lower_hex(secret_and_sum) {
        return None;
    }
    let (body, checksum) = token.split_at(KEY_LEN - CHECKSUM_HEX);
    (format!("{:08x}", crc32fast::hash(body.as_bytes())) == checksum).then_some(key_id)
}

/// The stored form of a key.
pub fn hash_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_parse_and_hash_to_their_record() {
        let app = AppId::generate();
        let issued = issue_key(&app, &Scope::ALL, "2026-01-01T00:00:00.000Z").unwrap();
        assert!(issued.token.starts_with(KEY_PREFIX));
        let secret = ClientSecret::generate().unwrap();
        assert_eq!(
            ClientSecret::from_opened(secret.reveal().as_bytes()),
            Some(secret.clone())
        );
        assert!(!format!("{secret:?}").contains(secret.reveal()));
        assert_eq!(ClientSecret::from_opened(b"wucs_12"), None);
        assert_eq!(
            key_id_of(&issued.token),
            Some(issued.record.key_id.as_str())
        );
        assert_eq!(hash_key(&issued.token), issued.record.key_hash);
        assert!(is_key_id(&issued.record.key_id));
        assert!(!is_key_id("0123456789ABCDEF") && !is_key_id("0123"));
        assert!(!format!("{issued:?}").contains(&issued.token));
    }

    #[test]
    fn a_key_holds_its_scopes_and_one_from_before_scopes_holds_all() {
        let issued = issue_key(&AppId::generate(), &[Scope::UsersRead], "now").unwrap();
        assert!(issued.record.allows(Scope::UsersRead));
        assert!(!issued.record.allows(Scope::UsersWrite));
        assert!(!issued.record.allows(Scope::Webhooks));
        let mut stored = serde_json::to_value(&issued.record).unwrap();
        assert_eq!(stored["scopes"], serde_json::json!(["users:read"]));
        stored.as_object_mut().unwrap().remove("scopes");
        let legacy: ApiKeyRecord = serde_json::from_value(stored).unwrap();
        assert!(Scope::ALL.into_iter().all(|scope| legacy.allows(scope)));
        assert_eq!(legacy.scopes(), Scope::ALL);
    }

    #[test]
    fn a_mistyped_key_fails_its_checksum() {
        let issued = issue_key(&AppId::generate(), &Scope::ALL, "now").unwrap();
        let mut chars: Vec<char> = issued.token.chars().collect();
        let i = KEY_PREFIX.len() + KEY_ID_HEX + 10;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(key_id_of(&typo), None);
        assert_eq!(key_id_of("wusk_short"), None);
        assert_eq!(key_id_of(&issued.token.to_uppercase()), None);
    }
}
