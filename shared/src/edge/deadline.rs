//! The invocation's deadline. Lambda kills a function that runs past its timeout: the client
//! then gets API Gateway's bare 503 and nothing is logged. A handler that sees its time run out
//! answers first: an enveloped 503 `service_unavailable` with `Retry-After`, while it still can.
//! Work stopped this way is safe to retry: a write either committed whole (a retry finds it,
//! or replays it with the same `Idempotency-Key`) or not at all.
//!
//! Only a plausible deadline is trusted. Lambda gives epoch milliseconds no further than its
//! longest timeout (15 minutes) from now; an emulator may not (`cargo lambda watch` sends the
//! constant `600000`, 1970-01-01T00:10Z). A deadline further than that from now, either way, is
//! no usable deadline: the work runs unguarded (with one warning), instead of every invocation
//! answering 503.

use std::future::Future;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::{Body, Request, RequestExt, Response};

use crate::edge::api;
use crate::edge::error::ApiError;

/// Time kept back from the deadline to answer: serialise the envelope, post it to the Runtime
/// API, flush the logs.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(300);

/// The time left to work before `deadline_ms` (Unix milliseconds, as the Runtime API gives
/// it) at `now`, the answer margin kept back; `None` if there is none.
pub fn time_left(deadline_ms: u64, now: SystemTime) -> Option<Duration> {
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline
        .duration_since(now)
        .ok()?
        .checked_sub(ANSWER_MARGIN)
        .filter(|left| !left.is_zero())
}

/// Lambda's longest function timeout: no real deadline is further than this from now.
pub const LONGEST_LAMBDA_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Whether `deadline_ms` can be a real invocation's deadline at `now`: within
/// [`LONGEST_LAMBDA_TIMEOUT`] of it, before or after (a deadline just past is a real one that
/// has run out; one decades past is an emulator's constant).
pub fn is_plausible(deadline_ms: u64, now: SystemTime) -> bool {
    let Some(deadline) = UNIX_EPOCH.checked_add(Duration::from_millis(deadline_ms)) else {
        return false;
    };
    let distance = match deadline.duration_since(now) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    distance <= LONGEST_LAMBDA_TIMEOUT
}

/// The request's deadline, when it came through Lambda with a plausible one (the local server
/// has none; see the module's note on emulators).
pub fn of(request: &Request) -> Option<u64> {
    let deadline = request.lambda_context_ref()?.deadline;
    if is_plausible(deadline, SystemTime::now()) {
        return Some(deadline);
    }
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            deadline_ms = deadline,
            "the runtime's deadline is implausible (an emulator?): running without one"
        );
    });
    None
}

/// `work`'s response, or a 503 if the deadline comes first (or has as good as come already,
/// in which case `work` is never started).
pub async fn answer_within<F>(deadline_ms: Option<u64>, request_id: &str, work: F) -> Response<Body>
where
    F: Future<Output = Response<Body>>,
{
    let Some(deadline_ms) = deadline_ms else {
        return work.await;
    };
    let out_of_time = || {
        tracing::warn!(request_id, "out of time before the deadline: answering 503");
        api::error_response(request_id, &ApiError::unavailable(None))
    };
    match time_left(deadline_ms, SystemTime::now()) {
        None => out_of_time(),
        Some(left) => tokio::time::timeout(left, work)
            .await
            .unwrap_or_else(|_| out_of_time()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn in_ms(ms: u64) -> u64 {
        (SystemTime::now() + Duration::from_millis(ms))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    fn ok() -> Response<Body> {
        Response::builder().status(200).body(Body::Empty).unwrap()
    }

    #[test]
    fn the_margin_is_kept_back() {
        let now = SystemTime::now();
        let deadline = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        assert_eq!(
            time_left(
                deadline + 1000,
                UNIX_EPOCH + Duration::from_millis(deadline)
            ),
            Some(Duration::from_millis(700))
        );
        assert_eq!(
            time_left(deadline + 300, UNIX_EPOCH + Duration::from_millis(deadline)),
            None
        );
        assert_eq!(
            time_left(deadline, UNIX_EPOCH + Duration::from_millis(deadline + 5)),
            None
        );
    }

    #[test]
    fn only_deadlines_within_the_longest_timeout_of_now_are_plausible() {
        let now = SystemTime::now();
        let now_ms = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let fifteen_minutes = 15 * 60 * 1000;
        // Real ones: ahead by up to the longest timeout, or just run out.
        assert!(is_plausible(now_ms + 3_000, now));
        assert!(is_plausible(now_ms + fifteen_minutes, now));
        assert!(is_plausible(now_ms - 5, now));
        // cargo-lambda's constant, and anything else out of reach either way.
        assert!(!is_plausible(600_000, now));
        assert!(!is_plausible(0, now));
        assert!(!is_plausible(now_ms + fifteen_minutes + 1_000, now));
        assert!(!is_plausible(now_ms - fifteen_minutes - 1_000, now));
        assert!(!is_plausible(u64::MAX, now));
    }

    #[test]
    fn an_emulators_constant_deadline_leaves_the_request_unguarded() {
        let mut context = lambda_http::Context::default();
        context.deadline = 600_000;
        let request = lambda_http::Request::default().with_lambda_context(context);
        assert_eq!(of(&request), None);

        let real = in_ms(5_000);
        let mut context = lambda_http::Context::default();
        context.deadline = real;
        let request = lambda_http::Request::default().with_lambda_context(context);
        assert_eq!(of(&request), Some(real));
    }

    #[tokio::test]
    async fn work_that_would_outrun_the_deadline_is_answered_503_in_time() {
        let started = Instant::now();
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            ok()
        };
        let response = answer_within(Some(in_ms(800)), "r1", slow).await;
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "service_unavailable");
        assert!(started.elapsed() < Duration::from_millis(800));
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    #[tokio::test]
    async fn no_time_left_means_the_work_never_starts() {
        let work = async { panic!("started with no time left") };
        let response = answer_within(Some(in_ms(100)), "r2", work).await;
        assert_eq!(response.status(), 503);
    }

    #[tokio::test]
    async fn work_in_time_or_without_a_deadline_answers_as_it_would() {
        assert_eq!(
            answer_within(Some(in_ms(5000)), "r3", async { ok() })
                .await
                .status(),
            200
        );
        assert_eq!(
            answer_within(None, "r4", async { ok() }).await.status(),
            200
        );
    }
}
