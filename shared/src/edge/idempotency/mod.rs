//! `Idempotency-Key` on every write, with the semantics of Stripe's header and the IETF draft:
//! a key (at most 255 visible ASCII characters) is scoped to the app and remembered 24 hours.
//!
//! - The first request with a key claims it with one conditional write (never read-then-write)
//!   and runs; its response (status and body, byte for byte) is stored with the key.
//! - A retry with the same key and the same request (method, path and body) gets that response
//!   again, with `Idempotent-Replayed: true`, and changes nothing.
//! - The same key with another request is `422 idempotency_key_reused`.
//! - A retry that arrives while the first is still running waits up to [`WAIT_FOR_FIRST`] for
//!   its outcome, then is `409 idempotency_key_in_progress`.
//! - A request rejected before it runs (bad credentials, invalid input) claims nothing. A 5xx
//!   outcome releases the key, so a retry runs again instead of replaying an outage.
//! - The 24-hour expiry is part of the claim's condition, not only of DynamoDB's TTL (which
//!   can lag by days); a claim whose function died is reclaimable after [`LOCK`].
//! - A write's success is committed with the key in the write's own transaction ([`commit`]):
//!   a retry replays it even when the first request's client never heard of it (every answer
//!   lost, or the deadline first). A batch commits a receipt per created row instead; a batch
//!   with a row that failed transiently is not remembered, and its retry replays the rows that
//!   committed and runs the others again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderValue;
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

use crate::edge::api::{self, Envelope, Reply};
use crate::edge::error::ApiError;
use crate::model::AppId;
use crate::model::validation::FieldError;
use crate::ports::StoreError;
pub use crate::ports::commit;
pub use crate::ports::idempotency::{Claim, IdempotencyStore, KeyRecord, KeyState, Rendered};

/// The request header.
pub const HEADER: &str = api::IDEMPOTENCY_HEADER;
/// The response header marking a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest timeout of a function that serves HTTP routes (`Timeout` in `template.yaml`; a
/// test holds the template to it).
pub const LONGEST_HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// What the lock keeps beyond that: the invocation's start-up, clock differences.
pub const LOCK_MARGIN: Duration = Duration::from_secs(30);
/// How long a claim holds before a retry may take it over: longer than any request holding it
/// can still be running, so a request cut off at its deadline never runs beside its retry.
pub const LOCK: Duration =
    Duration::from_secs(LONGEST_HTTP_TIMEOUT.as_secs() + LOCK_MARGIN.as_secs());
/// How long a concurrent retry waits for the first request's outcome.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(3);

/// What a write commits with the key: the success `reply` makes of the user it wrote (or
/// deleted), rendered as it is sent.
pub fn on_commit(
    reply: impl Fn(&crate::model::User) -> Reply + Send + Sync + 'static,
) -> commit::OnCommit {
    on_commit_noted_in(&api::Native, move |user, _| reply(user))
}

/// As [`on_commit`], rendered in `envelope`'s words.
pub fn on_commit_in<E: Envelope>(
    envelope: &'static E,
    reply: impl Fn(&crate::model::User) -> Reply + Send + Sync + 'static,
) -> commit::OnCommit {
    on_commit_noted_in(envelope, move |user, _| reply(user))
}

/// As [`on_commit`], for a success that also shows what the operation noted
/// ([`commit::Notes`]).
pub fn on_commit_noted(
    reply: impl Fn(&crate::model::User, &commit::Notes) -> Reply + Send + Sync + 'static,
) -> commit::OnCommit {
    on_commit_noted_in(&api::Native, reply)
}

/// As [`on_commit_noted`], rendered in `envelope`'s words.
pub fn on_commit_noted_in<E: Envelope>(
    envelope: &'static E,
    reply: impl Fn(&crate::model::User, &commit::Notes) -> Reply + Send + Sync + 'static,
) -> commit::OnCommit {
    commit::OnCommit::Reply(Box::new(move |user, notes| {
        envelope.render(&reply(user, notes))
    }))
}

/// The request's key: `None` without the header, a 400 for a malformed one.
pub fn key_of(request: &Request) -> Result<Option<String>, ApiError> {
    key_in(request, HEADER)
}

/// The key in `header` (a dialect's own name for it).
fn key_in(request: &Request, header: &'static str) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(header) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::Validation(vec![FieldError::new(
            // The native header as its documents spell it; a dialect's by its own name.
            if header == HEADER {
                "Idempotency-Key"
            } else {
                header
            },
            format!("must be 1 to {MAX_KEY_CHARS} visible ASCII characters"),
        )])
    };
    let key = value.to_str().map_err(|_| invalid())?;
    let visible = key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !visible || key.trim() != key {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// What makes two requests "the same": method, path, the `If-Match` precondition and body.
pub fn fingerprint(request: &Request) -> String {
    let mut hash = Sha256::new();
    hash.update(request.method().as_str().as_bytes());
    hash.update(b"\n");
    hash.update(api::route_path(request).as_bytes());
    hash.update(b"\n");
    // Only when present, so that fingerprints of requests without it stay what they were.
    if let Some(precondition) = request.headers().get(http::header::IF_MATCH) {
        hash.update(b"if-match:");
        hash.update(precondition.as_bytes());
        hash.update(b"\n");
    }
    hash.update(request.body().as_ref());
    hex::encode(hash.finalize())
}

/// Runs `operation` under the request's `Idempotency-Key` (or plainly, without one) and
/// renders its outcome; `on_commit` says what success each of its writes commits with the key.
/// Call it after authentication and validation: only a request that would run claims a key.
pub async fn run<S, F, Fut>(
    store: &S,
    app: &AppId,
    request: &Request,
    request_id: &str,
    on_commit: commit::OnCommit,
    operation: F,
) -> Response<Body>
where
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    run_in(
        &api::Native,
        store,
        app,
        request,
        request_id,
        on_commit,
        operation,
    )
    .await
}

/// As [`run`], for a surface that answers in `envelope`'s words (and may name the key's header
/// otherwise).
pub async fn run_in<E, S, F, Fut>(
    envelope: &E,
    store: &S,
    app: &AppId,
    request: &Request,
    request_id: &str,
    on_commit: commit::OnCommit,
    operation: F,
) -> Response<Body>
where
    E: Envelope,
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let key = match key_in(request, envelope.idempotency_header()) {
        Ok(Some(key)) => key,
        Ok(None) => return api::respond_in(envelope, request_id, operation().await),
        Err(error) => return api::error_response_in(envelope, request_id, &error),
    };
    let fingerprint = fingerprint(request);
    let token = uuid::Uuid::new_v4().to_string();
    let waiting_since = std::time::Instant::now();
    loop {
        let now_ms = crate::clock::now_ms();
        let record = KeyRecord {
            fingerprint: fingerprint.clone(),
            state: KeyState::InProgress,
            token: token.clone(),
            locked_until_ms: now_ms + LOCK.as_millis() as u64,
            expires_at: now_ms / 1000 + RETENTION.as_secs(),
            status: None,
            body: None,
            etag: None,
        };
        let held = match store.claim_key(app, &key, &record, now_ms).await {
            Ok(Claim::Claimed) => {
                let in_flight = Arc::new(commit::InFlight {
                    app: app.clone(),
                    key,
                    token,
                    fingerprint,
                    expires_at: record.expires_at,
                    on_commit,
                    committed: Mutex::new(None),
                    notes: Mutex::new(commit::Notes::default()),
                });
                return run_claimed(envelope, store, in_flight, request_id, operation).await;
            }
            Ok(Claim::Held(held)) => held,
            Err(error) => {
                return api::error_response_in(envelope, request_id, &ApiError::from(error));
            }
        };
        if held.fingerprint != fingerprint {
            return api::error_response_in(envelope, request_id, &ApiError::IdempotencyKeyReused);
        }
        if let (KeyState::Completed, Some(status), Some(body)) =
            (held.state, held.status, held.body)
        {
            let rendered = Rendered {
                status,
                body,
                etag: held.etag,
            };
            return replay(request_id, &rendered);
        }
        if waiting_since.elapsed() >= WAIT_FOR_FIRST {
            return api::error_response_in(
                envelope,
                request_id,
                &ApiError::IdempotencyKeyInProgress,
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn run_claimed<E, S, F, Fut>(
    envelope: &E,
    store: &S,
    in_flight: Arc<commit::InFlight>,
    request_id: &str,
    operation: F,
) -> Response<Body>
where
    E: Envelope,
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let outcome = commit::scope(Arc::clone(&in_flight), operation()).await;
    let (app, key, token) = (&in_flight.app, &in_flight.key, &in_flight.token);
    let committed = in_flight
        .committed
        .lock()
        .ok()
        .and_then(|mut committed| committed.take());
    // A write committed the key with its success: that is the answer, now and on every retry.
    if let Some(rendered) = committed {
        return api::rendered_response(request_id, &rendered);
    }
    let (response, rendered, remembered) = match outcome {
        Ok(reply) => {
            let rendered = envelope.render(&reply);
            let response = api::rendered_response(request_id, &rendered);
            (response, rendered, !reply.transient)
        }
        Err(error) => {
            let response = api::error_response_in(envelope, request_id, &error);
            let rendered = Rendered {
                status: response.status().as_u16(),
                body: String::from_utf8_lossy(response.body().as_ref()).into_owned(),
                etag: None,
            };
            (response, rendered, !error.status().is_server_error())
        }
    };
    let saved = if remembered {
        store.complete_key(app, key, token, &rendered).await
    } else {
        store.release_key(app, key, token).await
    };
    if let Err(error) = saved {
        // The request itself succeeded or failed on its own; a retry with this key will wait
        // out the lock and run again.
        let error = crate::ports::fault::chain(&error);
        tracing::error!(%error, "saving an idempotency key's outcome failed");
    }
    response
}

/// The users that rows of this batch created under its key before (an earlier run of the
/// same request, cut off or answered with a transient failure), by row index. Empty without
/// a key.
pub async fn committed_rows<S: IdempotencyStore>(
    store: &S,
) -> Result<HashMap<usize, crate::model::User>, StoreError> {
    let Some((app, key, fingerprint)) = commit::current() else {
        return Ok(HashMap::new());
    };
    let now_secs = crate::clock::now_ms() / 1000;
    let mut rows = HashMap::new();
    for receipt in store.row_receipts(&app, &key).await? {
        if receipt.fingerprint != fingerprint || receipt.expires_at <= now_secs {
            continue;
        }
        let user = serde_json::from_str(&receipt.user)
            .map_err(|e| StoreError::Corrupt(format!("a batch row's receipt: {e}").into()))?;
        rows.insert(receipt.index, user);
    }
    Ok(rows)
}

fn replay(request_id: &str, rendered: &Rendered) -> Response<Body> {
    let mut response = api::rendered_response(request_id, rendered);
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/v1/users");
        if let Some(key) = key {
            builder = builder.header(HEADER, key);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert_eq!(key_of(&request(None, "")).unwrap(), None);
        assert_eq!(
            key_of(&request(Some("order-1"), "")).unwrap().as_deref(),
            Some("order-1")
        );
        let longest = "k".repeat(MAX_KEY_CHARS);
        assert!(key_of(&request(Some(&longest), "")).is_ok());
        for bad in ["", " padded", &"k".repeat(MAX_KEY_CHARS + 1)] {
            assert!(key_of(&request(Some(bad), "")).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_differ_by_body_method_and_path() {
        let a = fingerprint(&request(None, "{\"a\":1}"));
        assert_eq!(a, fingerprint(&request(None, "{\"a\":1}")));
        assert_ne!(a, fingerprint(&request(None, "{\"a\":2}")));
        let other_path = http::Request::builder()
            .method("POST")
            .uri("/v1/users/find-or-create")
            .body(Body::Text("{\"a\":1}".into()))
            .unwrap();
        assert_ne!(a, fingerprint(&other_path));
    }

    #[test]
    fn the_precondition_is_part_of_the_request() {
        let patch = |if_match: Option<&str>| {
            let mut builder = http::Request::builder().method("PATCH").uri("/v1/users/u");
            if let Some(tag) = if_match {
                builder = builder.header(http::header::IF_MATCH, tag);
            }
            fingerprint(&builder.body(Body::Text("{}".into())).unwrap())
        };
        assert_ne!(patch(Some("\"3\"")), patch(Some("\"4\"")));
        assert_ne!(patch(Some("\"3\"")), patch(None));
        assert_eq!(patch(Some("\"3\"")), patch(Some("\"3\"")));
    }

    #[test]
    fn a_claim_outlasts_any_request_holding_it() {
        assert!(LOCK >= LONGEST_HTTP_TIMEOUT + LOCK_MARGIN);
        assert!(LOCK > crate::edge::deadline::ANSWER_MARGIN + LONGEST_HTTP_TIMEOUT);
    }
}
