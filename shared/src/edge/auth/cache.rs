//! Recently read API key records, per process.
//!
//! Every request presents a key, and one app's requests present the same few keys: read from
//! the table each time, a key's item would be a hot key (one partition serves about 3,000
//! strongly consistent reads a second, whatever the table's capacity) and every request would
//! pay a read. A warm function keeps each record it read for a short time instead. The price:
//! a revoked key keeps working in warm functions for up to that time (in this process, a
//! revoke through `shared::domain::apps` takes effect at once).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::edge::auth::ApiKeyRecord;

/// How long a record is reused (`API_KEY_CACHE_SECONDS`; 0 turns the cache off).
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);
/// The variable that overrides [`DEFAULT_TTL`].
pub const TTL_VAR: &str = "API_KEY_CACHE_SECONDS";
/// Records kept at most: a function sees a handful of keys; a flood of distinct valid keys
/// only empties the cache.
const CAPACITY: usize = 1024;

/// Records with the instant each was read.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (ApiKeyRecord, Instant)>>,
}

impl KeyCache {
    /// An empty cache keeping records for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The record read for `key_id` less than the TTL before `now`.
    pub fn get(&self, key_id: &str, now: Instant) -> Option<ApiKeyRecord> {
        let entries = self.entries.lock().ok()?;
        let (record, read_at) = entries.get(key_id)?;
        (now.saturating_duration_since(*read_at) < self.ttl).then(|| record.clone())
    }

    /// Keeps `record`, read at `now`.
    pub fn put(&self, record: ApiKeyRecord, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(record.key_id.clone(), (record, now));
        }
    }

    /// Records a use written to the table, so the cached record does not ask for it again.
    pub fn note_use(&self, key_id: &str, at: &str) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some((record, _)) = entries.get_mut(key_id)
        {
            record.last_used_at = Some(at.to_owned());
        }
    }

    /// Drops `key_id`'s record (after a revoke in this process).
    pub fn forget(&self, key_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key_id);
        }
    }
}

/// This process's cache.
pub static KEYS: LazyLock<KeyCache> = LazyLock::new(|| {
    let ttl = std::env::var(TTL_VAR)
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .map_or(DEFAULT_TTL, Duration::from_secs);
    KeyCache::new(ttl)
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppId;

    fn record(key_id: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            key_id: key_id.to_owned(),
            app_id: AppId::generate(),
            key_hash: "hash".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            revoked_at: None,
            last_used_at: None,
            client_secret: None,
            scopes: None,
        }
    }

    #[test]
    fn a_record_is_reused_within_the_ttl_and_read_again_after() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let start = Instant::now();
        cache.put(record("a"), start);
        assert!(cache.get("a", start + Duration::from_secs(9)).is_some());
        assert!(cache.get("a", start + Duration::from_secs(10)).is_none());
        assert!(cache.get("b", start).is_none());
    }

    #[test]
    fn forget_and_a_zero_ttl_keep_nothing() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let now = Instant::now();
        cache.put(record("a"), now);
        cache.forget("a");
        assert!(cache.get("a", now).is_none());
        let off = KeyCache::new(Duration::ZERO);
        off.put(record("a"), now);
        assert!(off.get("a", now).is_none());
    }

    #[test]
    fn a_full_cache_starts_over_rather_than_growing() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let now = Instant::now();
        for i in 0..CAPACITY {
            cache.put(record(&i.to_string()), now);
        }
        cache.put(record("last"), now);
        assert!(cache.get("0", now).is_none());
        assert!(cache.get("last", now).is_some());
    }
}
