//! The one retry loop of the domain's optimistic writes: read, decide, write on condition; if
//! another writer came first, read again (after a jittered back-off when the store reported a
//! collision), a bounded number of times.

use std::future::Future;
use std::time::Duration;

/// What one attempt came to.
pub enum Next<T> {
    Done(T),
    /// The state moved on (a condition failed): read it again at once.
    ReadAgain,
    /// Writers collided on the same items: wait a little, then read again.
    BackOff,
}

/// Runs `attempt` (given its number, from 0) until it is done, fails, or has run `attempts`
/// times; then `exhausted` is the answer.
pub async fn retrying<T, E, F, Fut>(attempts: u32, exhausted: E, mut attempt: F) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Next<T>, E>>,
{
    for n in 0..attempts {
        match attempt(n).await? {
            Next::Done(value) => return Ok(value),
            Next::ReadAgain => {}
            Next::BackOff => back_off(n).await,
        }
    }
    Err(exhausted)
}

/// Jittered exponential back-off: 10, 20, 40… ms plus up to as much again at random, so that
/// colliding writers spread out instead of colliding again in lockstep.
async fn back_off(attempt: u32) {
    let base = 10u64 << attempt.min(6);
    let jitter = getrandom::u64().unwrap_or(0) % base;
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_stops_when_done_and_gives_up_after_its_attempts() {
        let mut seen = Vec::new();
        let done: Result<u32, &str> = retrying(5, "exhausted", |n| {
            seen.push(n);
            async move {
                Ok(if n == 2 {
                    Next::Done(n)
                } else {
                    Next::ReadAgain
                })
            }
        })
        .await;
        assert_eq!(done, Ok(2));
        assert_eq!(seen, [0, 1, 2]);
        let never: Result<(), &str> =
            retrying(3, "exhausted", |_| async { Ok(Next::BackOff) }).await;
        assert_eq!(never, Err("exhausted"));
        let failed: Result<(), &str> = retrying(3, "exhausted", |_| async { Err("failed") }).await;
        assert_eq!(failed, Err("failed"));
    }
}
