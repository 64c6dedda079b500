//! The headers every response of an authenticated request carries: where its app stands
//! against its rate limit, in the IETF draft's `RateLimit`/`RateLimit-Policy` fields and in
//! the `x-ratelimit-*` ones the seed services' clients read (Original's SDK shows them as
//! `rate_limit()`; Privy's client waits until `x-ratelimit-reset` before a retry).
//!
//! Authentication happens deep inside each handler, on whichever surface (native, four
//! dialects, the signing function), and a response has many return paths. Rather than thread
//! the quota through all of them, the runner ([`crate::edge::lambda::catch_panics`]) gives
//! each request a slot, authentication fills it, and the runner stamps the response: one
//! place, so no path can forget.

use std::future::Future;
use std::sync::{Arc, Mutex};

use http::{HeaderMap, HeaderValue};

use crate::domain::rate_limit::{self, Budget, Quota};
use crate::edge::error::ApiError;
use crate::model::AppId;
use crate::ports::AppStore;

tokio::task_local! {
    static SLOT: Arc<Mutex<Option<Quota>>>;
}

/// Records the quota of the request being served (nothing outside a [`scoped`] request).
pub fn note(quota: Quota) {
    let _ = SLOT.try_with(|slot| {
        if let Ok(mut slot) = slot.lock() {
            *slot = Some(quota);
        }
    });
}

/// Runs `work` (one request's handling) with a slot for its quota: its output, and the quota
/// authentication noted, if any.
pub async fn scoped<T>(work: impl Future<Output = T>) -> (T, Option<Quota>) {
    let slot = Arc::new(Mutex::new(None));
    let output = SLOT.scope(Arc::clone(&slot), work).await;
    let quota = slot.lock().ok().and_then(|quota| *quota);
    (output, quota)
}

/// Spends `amount` of `app`'s `budget` (see [`Budget`]), or refuses with 429 and the seconds
/// until the budget's window ends. A store failure fails the request: unlike the per-second
/// count, a budget guards work that fans out (deliveries, key generation), and is not waved
/// through blind.
pub async fn spend<S: AppStore>(
    store: &S,
    app: &AppId,
    budget: Budget,
    amount: u32,
) -> Result<(), ApiError> {
    let now_secs = crate::clock::now_ms() / 1000;
    rate_limit::spend(store, app, budget, amount, now_secs)
        .await?
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
}

/// The name of the policy the headers describe.
const POLICY: &str = "app";

/// Writes `quota` into `headers`. `Retry-After` is the error's to send (a 429's), not here.
pub fn stamp(headers: &mut HeaderMap, quota: &Quota) {
    let reset_in = quota.reset_in_secs();
    let fields = [
        (
            "ratelimit-policy",
            format!("\"{POLICY}\";q={};w={}", quota.limit, quota.window_secs),
        ),
        (
            "ratelimit",
            format!("\"{POLICY}\";r={};t={reset_in}", quota.remaining),
        ),
        ("x-ratelimit-limit", quota.limit.to_string()),
        ("x-ratelimit-remaining", quota.remaining.to_string()),
        // Unix seconds, as Original's SDK and Privy's client read it.
        ("x-ratelimit-reset", quota.reset_at_secs.to_string()),
    ];
    for (name, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota() -> Quota {
        Quota {
            limit: 100,
            remaining: 42,
            window_secs: 1,
            reset_at_secs: 1_700_000_001,
            reset_in_ms: 300,
        }
    }

    #[tokio::test]
    async fn a_quota_noted_while_serving_comes_back_with_the_output() {
        let (output, noted) = scoped(async {
            note(quota());
            7
        })
        .await;
        assert_eq!((output, noted), (7, Some(quota())));
        let (_, nothing) = scoped(async {}).await;
        assert_eq!(nothing, None);
        // Outside a request, noting is harmless.
        note(quota());
    }

    #[test]
    fn the_headers_say_the_same_in_every_dialect_of_them() {
        let mut headers = HeaderMap::new();
        stamp(&mut headers, &quota());
        let get = |name: &str| headers[name].to_str().unwrap().to_owned();
        assert_eq!(get("ratelimit-policy"), "\"app\";q=100;w=1");
        assert_eq!(get("ratelimit"), "\"app\";r=42;t=1");
        assert_eq!(get("x-ratelimit-limit"), "100");
        assert_eq!(get("x-ratelimit-remaining"), "42");
        assert_eq!(get("x-ratelimit-reset"), "1700000001");
    }
}
