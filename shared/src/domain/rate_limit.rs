//! Per-app rate limits: each app may make `per_second` requests in each wall-clock second,
//! whatever function or surface they reach, so one app cannot spend the throttle, the
//! functions' concurrency or the key service's quota of every other app on the deployment.
//!
//! The count lives in the store: one conditional increment per request on the app's counter
//! for the current second, refused once it reaches the limit. That holds across every warm
//! function (an in-process bucket would give each sandbox its own limit) and costs one write,
//! with no read and no retry loop: DynamoDB applies increments to one item one at a time. A
//! fixed window lets a client spend two windows' worth across a boundary; a token bucket
//! would not, but needs a read-modify-write per request, racing under exactly the load it
//! limits. A second's counter item takes up to ~1,000 writes a second (DynamoDB's per-item
//! throughput), which bounds the limit one app can be given.
//!
//! Once a window is spent, this process refuses the rest of it without a write: the count
//! only grows within a window, so remembering "spent" can never be stale. A client that
//! floods after its 429 costs no writes.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::model::AppId;
pub use crate::model::rate_limit::{Budget, Counter, RateLimit};
use crate::ports::{AppStore, StoreError};

/// Where an app stands in the current window: what the `RateLimit` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The requests allowed in a window.
    pub limit: u32,
    /// The requests left in this window.
    pub remaining: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
    /// When the window ends, in Unix seconds.
    pub reset_at_secs: u64,
    /// Milliseconds until the window ends (at least 1).
    pub reset_in_ms: u64,
}

impl Quota {
    /// Whole seconds until the window ends, rounded up (`Retry-After` counts in seconds and
    /// must not send a client back early).
    pub fn reset_in_secs(&self) -> u64 {
        self.reset_in_ms.div_ceil(1000)
    }
}

/// A request counted, or refused for its app's window being spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted(Quota),
    Refused(Quota),
}

const WINDOW_MS: u64 = 1000;

/// The windows this process knows to be spent: only the current second's apps (an older
/// window is forgotten as soon as a request falls in a newer one), so it stays as small as
/// the number of apps refused within one second.
static SPENT: Mutex<Option<(u64, HashSet<AppId>)>> = Mutex::new(None);

fn known_spent(app: &AppId, window: u64) -> bool {
    let Ok(spent) = SPENT.lock() else {
        return false;
    };
    matches!(&*spent, Some((w, apps)) if *w == window && apps.contains(app))
}

fn remember_spent(app: &AppId, window: u64) {
    let Ok(mut spent) = SPENT.lock() else {
        return;
    };
    match &mut *spent {
        Some((w, apps)) if *w == window => {
            apps.insert(app.clone());
        }
        // Windows only move forward here; a late request of an older window adds nothing.
        Some((w, _)) if *w > window => {}
        _ => *spent = Some((window, HashSet::from([app.clone()]))),
    }
}

/// Counts a request of `app` at `now_ms` (Unix milliseconds) against the store's limit.
pub async fn admit<S: AppStore>(
    store: &S,
    app: &AppId,
    now_ms: u64,
) -> Result<Admission, StoreError> {
    let limit = store.rate_limit();
    let window = now_ms / WINDOW_MS;
    let reset_in_ms = (window + 1) * WINDOW_MS - now_ms;
    let quota = |remaining: u32| Quota {
        limit: limit.per_second,
        remaining,
        window_secs: WINDOW_MS / 1000,
        reset_at_secs: (window + 1) * WINDOW_MS / 1000,
        reset_in_ms,
    };
    if known_spent(app, window) {
        return Ok(Admission::Refused(quota(0)));
    }
    let expires_at = (window + 1) * WINDOW_MS / 1000 + 60;
    let counter = Counter {
        name: "requests",
        window,
    };
    match store
        .count_request(app, counter, 1, limit.per_second, expires_at)
        .await?
    {
        Some(count) => Ok(Admission::Admitted(quota(
            limit.per_second.saturating_sub(count),
        ))),
        None => {
            remember_spent(app, window);
            Ok(Admission::Refused(quota(0)))
        }
    }
}

/// Spends `amount` of `app`'s `budget` at `now_secs` (Unix seconds): `Ok(())`, or the whole
/// seconds until the budget's window ends (and nothing spent) when there is not enough left.
pub async fn spend<S: AppStore>(
    store: &S,
    app: &AppId,
    budget: Budget,
    amount: u32,
    now_secs: u64,
) -> Result<Result<(), u64>, StoreError> {
    let window = now_secs / budget.window_secs;
    let ends = (window + 1) * budget.window_secs;
    let counter = Counter {
        name: budget.name,
        window,
    };
    let counted = store
        .count_request(app, counter, amount, budget.limit, ends + 60)
        .await?;
    Ok(match counted {
        Some(_) => Ok(()),
        None => Err((ends - now_secs).max(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;

    #[tokio::test]
    async fn an_app_gets_its_limit_each_window_and_other_apps_their_own() {
        let store = MemoryStore::default().with_rate_limit(RateLimit { per_second: 3 });
        let (app, other) = (AppId::generate(), AppId::generate());
        let at = 1_700_000_000_250;
        let mut remaining = Vec::new();
        for _ in 0..3 {
            match admit(&store, &app, at).await.unwrap() {
                Admission::Admitted(quota) => remaining.push(quota.remaining),
                refused => panic!("{refused:?}"),
            }
        }
        assert_eq!(remaining, [2, 1, 0]);
        let Admission::Refused(quota) = admit(&store, &app, at + 10).await.unwrap() else {
            panic!("the fourth request of the window was admitted");
        };
        assert_eq!(
            (quota.remaining, quota.reset_in_ms, quota.reset_in_secs()),
            (0, 740, 1)
        );
        assert_eq!(quota.reset_at_secs, 1_700_000_001);
        assert!(matches!(
            admit(&store, &other, at).await.unwrap(),
            Admission::Admitted(_)
        ));
        assert!(matches!(
            admit(&store, &app, at + 750).await.unwrap(),
            Admission::Admitted(Quota { remaining: 2, .. })
        ));
    }

    #[tokio::test]
    async fn a_budget_is_spent_by_amounts_and_refused_whole_when_short() {
        let store = MemoryStore::default();
        let app = AppId::generate();
        let budget = Budget {
            name: "imports",
            limit: 10,
            window_secs: 60,
        };
        let at = 1_700_000_050;
        assert_eq!(spend(&store, &app, budget, 7, at).await.unwrap(), Ok(()));
        // 7 + 4 > 10: refused whole, and nothing spent (3 still fit).
        assert_eq!(spend(&store, &app, budget, 4, at).await.unwrap(), Err(50));
        assert_eq!(spend(&store, &app, budget, 3, at).await.unwrap(), Ok(()));
        assert_eq!(
            spend(&store, &app, budget, 11, at + 60).await.unwrap(),
            Err(50)
        );
        assert_eq!(
            spend(&store, &app, budget, 10, at + 60).await.unwrap(),
            Ok(())
        );
    }

    #[tokio::test]
    async fn a_spent_window_is_refused_without_counting_again() {
        let store = MemoryStore::default().with_rate_limit(RateLimit { per_second: 1 });
        let app = AppId::generate();
        let at = 1_800_000_000_000;
        assert!(matches!(
            admit(&store, &app, at).await.unwrap(),
            Admission::Admitted(_)
        ));
        for _ in 0..5 {
            assert!(matches!(
                admit(&store, &app, at).await.unwrap(),
                Admission::Refused(_)
            ));
        }
        // Only the first refusal reached the store; the rest were answered from memory.
        assert_eq!(store.requests_counted(&app), 2);
    }
}
