//! API keys: how an app authenticates.
//!
//! A key reads `wusk_<key id>_<secret><checksum>`: the prefix lets secret scanners find leaked
//! keys, the key id (16 hex digits) locates the stored record with one read, the secret is 256
//! random bits, and the checksum (CRC-32 of everything before it) rejects a mistyped or made-up
//! key before any database read. Only a SHA-256 of the whole key is stored; a slow password
//! hash buys nothing for a 256-bit random secret. Hashes are compared in constant time.

pub mod cache;

use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::model::AppId;
use crate::ports::AppStore;

/// The prefix every key starts with.
pub const KEY_PREFIX: &str = "wusk_";
const KEY_ID_HEX: usize = 16;
const SECRET_HEX: usize = 64;
const CHECKSUM_HEX: usize = 8;
const KEY_LEN: usize = KEY_PREFIX.len() + KEY_ID_HEX + 1 + SECRET_HEX + CHECKSUM_HEX;

pub use crate::model::ApiKeyRecord;

/// A newly issued key: `token` is shown once and then exists only with the app.
pub struct IssuedKey {
    pub token: String,
    pub record: ApiKeyRecord,
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

/// Issues a new key for `app_id`, created at `now`.
pub fn issue_key(app_id: &AppId, now: &str) -> Result<IssuedKey, IssueError> {
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
    };
    Ok(IssuedKey { token, record })
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

/// The key a request presents, from `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
/// Two different keys in one request are refused rather than guessed between.
pub fn presented_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    let bearer = match headers.get(http::header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
            let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(ApiError::Unauthorized);
            }
            Some(token.trim())
        }
        None => None,
    };
    let api_key = match headers.get("x-api-key") {
        Some(value) => Some(value.to_str().map_err(|_| ApiError::Unauthorized)?.trim()),
        None => None,
    };
    match (bearer, api_key) {
        (Some(a), Some(b)) if a != b => Err(ApiError::Unauthorized),
        (Some(key), _) | (None, Some(key)) => Ok(key),
        (None, None) => Err(ApiError::Unauthorized),
    }
}

/// Authenticates a request: the app whose live key it presents.
pub async fn authenticate<S: AppStore>(store: &S, headers: &HeaderMap) -> Result<AppId, ApiError> {
    let token = presented_key(headers)?;
    let key_id = key_id_of(token).ok_or(ApiError::Unauthorized)?;
    let now = std::time::Instant::now();
    let record = match cache::KEYS.get(key_id, now) {
        Some(record) => record,
        None => {
            let record = store.get_api_key(key_id).await.map_err(|error| {
                tracing::error!(error = %error, "api key lookup failed");
                ApiError::from(error)
            })?;
            // An unknown key is not cached: it costs its sender a read each time, not us.
            let Some(record) = record else {
                return Err(ApiError::Unauthorized);
            };
            cache::KEYS.put(record.clone(), now);
            record
        }
    };
    let matches: bool = hash_key(token)
        .as_bytes()
        .ct_eq(record.key_hash.as_bytes())
        .into();
    if matches && record.revoked_at.is_none() {
        note_use(store, &record).await;
        Ok(record.app_id)
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// How stale a key's recorded last use may get before a request records it again.
const LAST_USE_RESOLUTION: time::Duration = time::Duration::HOUR;

/// Records a key's use when the recorded one is over an hour old: one write per key per hour,
/// not per request. Best effort: a failure here never fails the request.
async fn note_use<S: AppStore>(store: &S, record: &ApiKeyRecord) {
    let now = time::OffsetDateTime::now_utc();
    let cutoff = crate::clock::format_rfc3339(now - LAST_USE_RESOLUTION);
    if record
        .last_used_at
        .as_deref()
        .is_some_and(|last| last > cutoff.as_str())
    {
        return;
    }
    let now = crate::clock::format_rfc3339(now);
    // Written or refused as already recent: either way this process need not try again soon.
    cache::KEYS.note_use(&record.key_id, &now);
    if let Err(error) = store.note_api_key_use(&record.key_id, &now, &cutoff).await {
        tracing::warn!(%error, key_id = %record.key_id, "recording a key's last use failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn issued_keys_parse_and_hash_to_their_record() {
        let app = AppId::generate();
        let issued = issue_key(&app, "2026-01-01T00:00:00.000Z").unwrap();
        assert!(issued.token.starts_with(KEY_PREFIX));
        assert_eq!(
            key_id_of(&issued.token),
            Some(issued.record.key_id.as_str())
        );
        assert_eq!(hash_key(&issued.token), issued.record.key_hash);
        assert!(!format!("{issued:?}").contains(&issued.token));
    }

    #[test]
    fn a_mistyped_key_fails_its_checksum() {
        let issued = issue_key(&AppId::generate(), "now").unwrap();
        let mut chars: Vec<char> = issued.token.chars().collect();
        let i = KEY_PREFIX.len() + KEY_ID_HEX + 10;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(key_id_of(&typo), None);
        assert_eq!(key_id_of("wusk_short"), None);
        assert_eq!(key_id_of(&issued.token.to_uppercase()), None);
    }

    #[test]
    fn keys_are_read_from_either_header() {
        let bearer = headers(&[("authorization", "Bearer k1")]);
        assert_eq!(presented_key(&bearer).unwrap(), "k1");
        let lower = headers(&[("authorization", "bearer k1")]);
        assert_eq!(presented_key(&lower).unwrap(), "k1");
        let api_key = headers(&[("x-api-key", "k2")]);
        assert_eq!(presented_key(&api_key).unwrap(), "k2");
        let same = headers(&[("authorization", "Bearer k3"), ("x-api-key", "k3")]);
        assert_eq!(presented_key(&same).unwrap(), "k3");
    }

    #[test]
    fn missing_conflicting_or_other_schemes_are_unauthorized() {
        for pairs in [
            vec![],
            vec![("authorization", "Basic a2V5Og==")],
            vec![("authorization", "Bearer")],
            vec![("authorization", "Bearer k1"), ("x-api-key", "k2")],
        ] {
            assert_eq!(presented_key(&headers(&pairs)), Err(ApiError::Unauthorized));
        }
    }
}
