//! How each dialect's client proves which app it speaks for, checked against the same API key
//! records as the native API (so revoking a key revokes every dialect's credential for it):
//!
//! | dialect | the client is configured with | the request carries |
//! |---|---|---|
//! | Original | `api_key` (the key id), `api_secret` (the client secret) | `X-API-KEY` and a JWT (HS256, no expiry) signed with the secret |
//! | Privy | `app_id`, `app_secret` (the API key) | `Authorization: Basic` of both, and `privy-app-id` |
//! | OST KIT | `api_key` (the key id), `api_secret` (the client secret) | `api_key`, `request_timestamp`, and an HMAC-SHA256 `signature` of the path and sorted parameters |
//! | find-or-create | `api_key` (the API key) | `Authorization: ApiKey <key>` |
//!
//! The client secret is sealed under the key service (never stored plain, never a hash that
//! would itself sign), opened by the dialect functions only, and kept open in memory for the
//! life of the process, bounded.

use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::apps;
use crate::domain::recent::Recent;
use crate::edge::auth;
use crate::edge::error::ApiError;
use crate::model::api_key::{ClientSecret, IssuedKey};
use crate::model::{ApiKeyRecord, AppId, Scope};
use crate::ports::AppStore;
use crate::ports::sealer::KeySealer;

/// How far an OST `request_timestamp` may be from the server's clock, either way, in seconds.
/// A signature is accepted once inside this window and refused as a replay after.
pub const OST_WINDOW_SECS: u64 = 60;
/// The most client secrets a process keeps open.
const MAX_OPEN_SECRETS: usize = 1024;

/// What each dialect's client is configured with, for a newly issued key: printed by
/// `create-app` and `create-key` beside the key. `original.token` is the JWT Original's
/// client would make, for curl.
pub fn clients(app: &AppId, key: &IssuedKey) -> Value {
    let key_id = &key.record.key_id;
    let mut clients = json!({
        "privy": { "app_id": app, "app_secret": key.token },
        "onboarding": { "api_key": key.token },
    });
    if let Some(secret) = &key.client_secret {
        clients["original"] = json!({
            "api_key": key_id,
            "api_secret": secret.reveal(),
            "token": original_token(key_id, secret),
        });
        clients["ost"] = json!({ "api_key": key_id, "api_secret": secret.reveal() });
    }
    clients
}

/// The JWT Original's client signs once and sends on every request: HS256 over its fixed
/// claims, with no expiry.
pub fn original_token(key_id: &str, secret: &ClientSecret) -> String {
    let claims = json!({"resource": "*", "action": "*", "user_id": "*", "api_key": key_id});
    // An HMAC key of any length, and HS256 over a JSON object: neither step can fail.
    EncodingKey::from_secret(secret.reveal().as_bytes())
        .and_then(|key| jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key))
        .unwrap_or_default()
}

/// Opens keys' client secrets, keeping the most recently used open (bounded), so the store
/// and the key service are asked once per key, not once per request. A key's secret never
/// changes (a new secret is a new key), so its id names it; whether the key is still live is
/// read from its record on every request.
pub struct ClientSecrets<K> {
    sealer: K,
    opened: Mutex<Recent<(AppId, String), ClientSecret>>,
}

impl<K: KeySealer> ClientSecrets<K> {
    /// Secrets opened with `sealer`.
    pub fn new(sealer: K) -> Self {
        Self {
            sealer,
            opened: Mutex::new(Recent::new(MAX_OPEN_SECRETS)),
        }
    }

    /// The client secret of `record`'s key; 401 for a key that has none.
    async fn of<S: AppStore>(
        &self,
        store: &S,
        record: &ApiKeyRecord,
    ) -> Result<ClientSecret, ApiError> {
        let id = (record.app_id.clone(), record.key_id.clone());
        if let Some(secret) = self
            .opened
            .lock()
            .ok()
            .and_then(|mut o| o.get(&id).cloned())
        {
            return Ok(secret);
        }
        let sealed = store
            .client_secret_of(record)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let secret = apps::open_client_secret(&self.sealer, record, &sealed)
            .await
            .map_err(|error| ApiError::Internal {
                cause: Some(crate::ports::Fault::new(format!(
                    "opening a client secret: {error}"
                ))),
            })?;
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(id, secret.clone());
        }
        Ok(secret)
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The token of `Authorization: <scheme> <token>` when the scheme is one of `schemes`
/// (case-insensitive).
fn authorization<'h>(headers: &'h HeaderMap, schemes: &[&str]) -> Option<&'h str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
        .then(|| token.trim())
}

/// Original: `X-API-KEY: <key id>` and `Authorization: Bearer <JWT>`, HS256 only, signed with
/// the key's client secret, its `api_key` claim the header's.
pub async fn original<S: AppStore, K: KeySealer>(
    store: &S,
    secrets: &ClientSecrets<K>,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<AppId, ApiError> {
    let key_id = header(headers, "x-api-key").ok_or(ApiError::Unauthorized)?;
    let token = authorization(headers, &["bearer"]).ok_or(ApiError::Unauthorized)?;
    let record = auth::live_key(store, key_id).await?;
    let secret = secrets.of(store, &record).await?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Original's client signs once, with no expiry: requiring one would refuse it.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = DecodingKey::from_secret(secret.reveal().as_bytes())
        .and_then(|key| jsonwebtoken::decode::<Value>(token, &key, &validation))
        .map_err(|_| ApiError::Unauthorized)?
        .claims;
    if claims.get("api_key").and_then(Value::as_str) != Some(key_id) {
        return Err(ApiError::Unauthorized);
    }
    auth::admit(store, &record, scope).await
}

/// Privy: `Authorization: Basic base64(app_id:app_secret)` with `privy-app-id` the same app;
/// the secret is the app's API key.
pub async fn privy<S: AppStore>(
    store: &S,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<AppId, ApiError> {
    privy_key(store, headers, scope).await.map(|(app, _)| app)
}

/// As [`privy`], with the id of the key the app secret is (a signature's record names it).
pub async fn privy_key<S: AppStore>(
    store: &S,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<(AppId, String), ApiError> {
    let encoded = authorization(headers, &["basic"]).ok_or(ApiError::Unauthorized)?;
    let decoded = BASE64
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(ApiError::Unauthorized)?;
    let (app_id, secret) = decoded.split_once(':').ok_or(ApiError::Unauthorized)?;
    if header(headers, "privy-app-id") != Some(app_id) {
        return Err(ApiError::Unauthorized);
    }
    let app = auth::authenticate_key(store, secret, scope).await?;
    if app.as_str() != app_id {
        return Err(ApiError::Unauthorized);
    }
    let key_id = auth::key_id_of(secret).unwrap_or_default().to_owned();
    Ok((app, key_id))
}

/// The find-or-create API: `Authorization: ApiKey <key>` (its documented form), `Bearer`, or
/// the bare key (its curl example's form).
pub async fn onboarding<S: AppStore>(
    store: &S,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<AppId, ApiError> {
    let token = match authorization(headers, &["apikey", "bearer"]) {
        Some(token) => token,
        None => header(headers, "authorization").ok_or(ApiError::Unauthorized)?,
    };
    auth::authenticate_key(store, token, scope).await
}

/// A request signed OST's way: the path its client signed (relative to the base URL, trailing
/// slash as sent) and every parameter (form body or query), the signature among them.
pub struct OstSigned<'r> {
    pub endpoint: &'r str,
    pub params: &'r [(String, String)],
}

/// OST KIT: `api_key` (the key id), `request_timestamp` within [`OST_WINDOW_SECS`] of now,
/// and `signature`, the hex HMAC-SHA256 of `endpoint?sorted-params` under the client secret;
/// a signature is accepted once.
pub async fn ost<S: AppStore, K: KeySealer>(
    store: &S,
    secrets: &ClientSecrets<K>,
    signed: &OstSigned<'_>,
    now_secs: u64,
    scope: Scope,
) -> Result<AppId, ApiError> {
    let param = |name: &str| {
        let mut values = signed.params.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.as_str()),
            _ => None,
        }
    };
    let key_id = param("api_key").ok_or(ApiError::Unauthorized)?;
    let signature = param("signature").ok_or(ApiError::Unauthorized)?;
    let timestamp: u64 = param("request_timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(ApiError::Unauthorized)?;
    if timestamp.abs_diff(now_secs) > OST_WINDOW_SECS {
        return Err(ApiError::Unauthorized);
    }
    let record = auth::live_key(store, key_id).await?;
    let secret = secrets.of(store, &record).await?;
    let text = ost_string_to_sign(signed.endpoint, signed.params);
    // OST's own documentation shows the string with a trailing `&`; its client sends none.
    let valid = [text.clone(), format!("{text}&")].iter().any(|text| {
        let expected = ost_signature(&secret, text);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    });
    if !valid {
        return Err(ApiError::Unauthorized);
    }
    let digest = hex::encode(Sha256::digest(signature.as_bytes()));
    let expires_at = timestamp + OST_WINDOW_SECS + 1;
    if !store
        .first_sighting(key_id, &digest, expires_at, now_secs)
        .await?
    {
        return Err(ApiError::Unauthorized);
    }
    auth::admit(store, &record, scope).await
}

/// What OST's client signs: `endpoint?` and the parameters but `signature`, sorted by name
/// then value, encoded as Python's `quote_plus` encodes them.
pub fn ost_string_to_sign(endpoint: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "signature")
        .collect();
    sorted.sort();
    let pairs: Vec<String> = sorted
        .iter()
        .map(|(name, value)| format!("{}={}", quote_plus(name), quote_plus(value)))
        .collect();
    format!("{endpoint}?{}", pairs.join("&"))
}

/// The hex HMAC-SHA256 of `text` under `secret`.
pub fn ost_signature(secret: &ClientSecret, text: &str) -> String {
    // HMAC takes a key of any length, so this never falls back to the empty signature.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret.reveal().as_bytes()) else {
        return String::new();
    };
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Python's `urllib.parse.quote_plus`: letters, digits and `_.-~` as they are, a space as `+`,
/// every other byte of the UTF-8 as `%XX`.
fn quote_plus(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'_')
        .remove(b'.')
        .remove(b'-')
        .remove(b'~')
        .remove(b' ');
    utf8_percent_encode(text, KEEP)
        .to_string()
        .replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus_matches_python() {
        // Values from `urllib.parse.quote_plus` (Python 3.11).
        assert_eq!(quote_plus("Alice Bob~é&x"), "Alice+Bob~%C3%A9%26x");
        assert_eq!(quote_plus("a*b+c/d"), "a%2Ab%2Bc%2Fd");
        assert_eq!(
            quote_plus("name=\"Alice, Bob\""),
            "name%3D%22Alice%2C+Bob%22"
        );
    }

    #[test]
    fn the_string_to_sign_sorts_and_leaves_the_signature_out() {
        let params: Vec<(String, String)> = [
            ("name", "Alice"),
            ("api_key", "k"),
            ("request_timestamp", "1526388800"),
            ("signature", "x"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            ost_string_to_sign("/users/", &params),
            "/users/?api_key=k&name=Alice&request_timestamp=1526388800"
        );
    }
}
