//! How an app authenticates: the API key a request presents, checked against its stored hash
//! in constant time (the key's format is in [`crate::model::api_key`]).

pub mod cache;

use http::HeaderMap;
use lambda_http::Request;
use subtle::ConstantTimeEq;

use crate::domain::apps::{self, AppsError};
use crate::domain::rate_limit::{self, Admission};
use crate::edge::error::ApiError;
use crate::edge::{quota, routes};
use crate::model::{AppId, Scope};
use crate::ports::{AppAdmin, AppStore};

pub use crate::model::ApiKeyRecord;
pub use crate::model::api_key::{KEY_PREFIX, hash_key, key_id_of};

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

/// Authenticates a request to the native API and admits it: the app whose live key it
/// presents, if that key holds the scope its route needs and the app is within its rate limit.
pub async fn authenticate<S: AppStore>(store: &S, request: &Request) -> Result<AppId, ApiError> {
    Ok(authenticate_as(store, request).await?.app_id)
}

/// As [`authenticate`], answering with the record of the key the request presented: for the
/// routes about keys themselves (which one is the caller's, what it may grant).
pub async fn authenticate_as<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<ApiKeyRecord, ApiError> {
    let scope = routes::of_request(request)?.route.scope();
    let record = proven_key(store, presented_key(request.headers())?).await?;
    admit(store, &record, scope).await?;
    Ok(record)
}

/// The app whose live key `token` is (however the request carried it: a dialect reads it
/// from its own header), admitted for `scope` (see [`admit`]).
pub async fn authenticate_key<S: AppStore>(
    store: &S,
    token: &str,
    scope: Scope,
) -> Result<AppId, ApiError> {
    let record = proven_key(store, token).await?;
    admit(store, &record, scope).await
}

/// The record of the live key `token` is, once `token` proves to be that key.
async fn proven_key<S: AppStore>(store: &S, token: &str) -> Result<ApiKeyRecord, ApiError> {
    let key_id = key_id_of(token).ok_or(ApiError::Unauthorized)?;
    let record = live_key(store, key_id).await?;
    let matches: bool = hash_key(token)
        .as_bytes()
        .ct_eq(record.key_hash.as_bytes())
        .into();
    if !matches {
        return Err(ApiError::Unauthorized);
    }
    Ok(record)
}

/// Admits a request its key (`record`) proved: counted against its app's rate limit (a
/// refusal is 429), then checked for `scope` (403 `insufficient_scope`). Every authenticated
/// request counts, refused ones too: a key without the scope still spends its app's quota,
/// not everyone's. The app's quota is noted for the response's headers.
pub async fn admit<S: AppStore>(
    store: &S,
    record: &ApiKeyRecord,
    scope: Scope,
) -> Result<AppId, ApiError> {
    match rate_limit::admit(store, &record.app_id, crate::clock::now_ms()).await {
        Ok(Admission::Admitted(quota)) => quota::note(quota),
        Ok(Admission::Refused(quota)) => {
            quota::note(quota);
            return Err(ApiError::RateLimited {
                retry_after_secs: quota.reset_in_secs(),
            });
        }
        // The counter shares the table with everything the request is about to do: if it
        // cannot be written, neither can much else, and refusing here would only turn a store
        // hiccup into an outage of every app. Admitted, without a quota to show.
        Err(error) => tracing::warn!(%error, "counting a request against its rate limit failed"),
    }
    if !record.allows(scope) {
        return Err(ApiError::InsufficientScope { needed: scope });
    }
    note_use(store, record).await;
    Ok(record.app_id.clone())
}

/// The record of the live key `key_id` (cached briefly), or 401 for an unknown or revoked
/// one (and, without a read, for text that is no key id). The caller still has to check what
/// the request proves against it.
pub async fn live_key<S: AppStore>(store: &S, key_id: &str) -> Result<ApiKeyRecord, ApiError> {
    if !crate::model::api_key::is_key_id(key_id) {
        return Err(ApiError::Unauthorized);
    }
    let now = std::time::Instant::now();
    let record = match cache::KEYS.get(key_id, now) {
        Some(record) => record,
        None => {
            let record = store.get_api_key(key_id).await?;
            // An unknown key is not cached: it costs its sender a read each time, not us.
            let Some(record) = record else {
                return Err(ApiError::Unauthorized);
            };
            cache::KEYS.put(record.clone(), now);
            record
        }
    };
    if record.revoked_at.is_some() {
        return Err(ApiError::Unauthorized);
    }
    Ok(record)
}

/// How stale a key's recorded last use may get before a request records it again.
const LAST_USE_RESOLUTION: time::Duration = time::Duration::HOUR;

/// Records a key's use when the recorded one is over an hour old: one write per key per hour,
/// not per request. Best effort: a failure here never fails the request.
pub async fn note_use<S: AppStore>(store: &S, record: &ApiKeyRecord) {
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

/// Revokes a live key of an app, and forgets this process's cached record of it so that the
/// revocation takes effect here at once (other warm functions within the cache's lifetime).
pub async fn revoke_api_key<S: AppAdmin>(
    store: &S,
    app_id: &AppId,
    key_id: &str,
) -> Result<(), AppsError> {
    apps::revoke_api_key(store, app_id, key_id).await?;
    cache::KEYS.forget(key_id);
    Ok(())
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
