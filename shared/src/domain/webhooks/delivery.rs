//! Delivering one event to one endpoint: sign, POST with a deadline, and decide what the
//! answer means: delivered (2xx), gone (410: the endpoint is disabled), or retry later on the
//! schedule, until the attempts run out and the job goes to the dead-letter queue.

use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::endpoint::{ENDPOINT_ATTEMPTS, Endpoint, EndpointStatus};
use super::signature::{self, SigningSecret};
use crate::clock;
use crate::domain::retry::{Next, retrying};
use crate::domain::wallets::seal::{self, KeySealer, SealedKey};
use crate::model::AppId;
use crate::ports::sender::WebhookSender;
use crate::ports::{StoreError, WebhookStore};

/// How long one attempt may take, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much longer than its attempt's timeout a delivery lease lasts: the claim is written
/// before the body is signed and the request starts, and clocks differ a little.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// The variable that overrides the retry schedule (`5s,5m,30m,2h,5h,10h`).
pub const RETRY_SCHEDULE_VAR: &str = "WEBHOOK_RETRY_SCHEDULE";

pub use crate::model::webhook::{
    Attempt, AttemptOutcome, DeliveryClaim, DeliveryJob, LeaseRequest,
};

/// The delays between attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h: seven attempts over about 18 hours.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self(vec![
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            minutes(120),
            minutes(300),
            minutes(600),
        ])
    }
}

impl RetrySchedule {
    /// A schedule of `delays`.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self(delays)
    }

    /// The default, or the comma-separated delays in `WEBHOOK_RETRY_SCHEDULE` (`5s`, `5m`, `2h`).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(RETRY_SCHEDULE_VAR) {
            Ok(text) => Self::parse(&text),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Parses `5s,5m,2h`. The longest delay SQS can hold a message back is 12 hours.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{RETRY_SCHEDULE_VAR}: expected delays like 5s,5m,2h; got {text:?}");
        let mut delays = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part.len() - 1;
            let (number, unit) = part.split_at(split);
            let number: u64 = number.parse().map_err(|_| bad())?;
            let seconds = match unit {
                "s" => number,
                "m" => number * 60,
                "h" => number * 3600,
                _ => return Err(bad()),
            };
            if seconds > 12 * 3600 {
                return Err(format!("{RETRY_SCHEDULE_VAR}: a delay is at most 12h"));
            }
            delays.push(Duration::from_secs(seconds));
        }
        Ok(Self(delays))
    }

    /// Attempts in all: the first and one per delay.
    pub fn attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// The delay before the attempt after `attempt` (1-based), with ±20 % jitter so that
    /// receivers coming back from an outage are not hit by every retry at once; `None` after
    /// the last.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let base = *self.0.get(attempt.checked_sub(1)? as usize)?;
        let mut random = [0u8; 2];
        let unit = match getrandom::fill(&mut random) {
            Ok(()) => f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX),
            Err(_) => 0.5,
        };
        Some(base.mul_f64(0.8 + 0.4 * unit))
    }
}

/// How many opened secrets a process keeps: an app has at most 20 endpoints of two live
/// secrets each, so this holds about fifty apps' worth before the least recently used go.
pub const OPENED_SECRETS_KEPT: usize = 2048;

/// Opens endpoints' sealed secrets, remembering the most recently used so that the key
/// service is asked once per secret, not once per delivery. An opened secret is remembered
/// under its app and endpoint as well as its ciphertext: the ciphertext was opened under the
/// endpoint's binding (`secret_aad`), so it is only ever served back to that endpoint.
pub struct SecretOpener<K> {
    sealer: K,
    opened: Mutex<crate::domain::recent::Recent<(AppId, String, String), SigningSecret>>,
}

impl<K: KeySealer> SecretOpener<K> {
    /// An opener using `sealer`.
    pub fn new(sealer: K) -> Self {
        Self::with_capacity(sealer, OPENED_SECRETS_KEPT)
    }

    /// An opener that keeps at most `capacity` opened secrets.
    pub fn with_capacity(sealer: K, capacity: usize) -> Self {
        Self {
            sealer,
            opened: Mutex::new(crate::domain::recent::Recent::new(capacity)),
        }
    }

    /// The sealer (to seal new secrets).
    pub fn sealer(&self) -> &K {
        &self.sealer
    }

    /// How many opened secrets are kept now.
    pub fn kept(&self) -> usize {
        self.opened.lock().map_or(0, |opened| opened.len())
    }

    /// The plaintext of one of `endpoint`'s secrets.
    pub async fn open(
        &self,
        app: &AppId,
        endpoint: &str,
        sealed: &SealedKey,
    ) -> Result<SigningSecret, seal::SealError> {
        let key = (app.clone(), endpoint.to_owned(), sealed.ciphertext.clone());
        let cached = self
            .opened
            .lock()
            .ok()
            .and_then(|mut opened| opened.get(&key).cloned());
        if let Some(secret) = cached {
            return Ok(secret);
        }
        let context = seal::KeyContext::webhook_secret(app, endpoint);
        let plain = seal::open(&self.sealer, sealed, &secret_aad(app, endpoint), &context).await?;
        let secret = SigningSecret::from_key(&plain);
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(key, secret.clone());
        }
        Ok(secret)
    }
}

/// What binds a sealed secret to its endpoint.
pub fn secret_aad(app: &AppId, endpoint: &str) -> Vec<u8> {
    format!("wallet-users/v1/webhook-secret/{app}/{endpoint}").into_bytes()
}

/// A message's `webhook-id`, the key receivers deduplicate on (Standard Webhooks): the
/// event's id, which every automatic retry keeps; for a redelivery asked for through the API
/// (`redelivery`: that request's id) an id of its own, the event's with a suffix derived from
/// the request, so each redelivery is new to the receiver and its own retries are not.
pub fn message_id(event_id: &str, redelivery: Option<&str>) -> String {
    match redelivery {
        None => event_id.to_owned(),
        Some(request) => {
            let digest = Sha256::digest(format!("{event_id}\n{request}"));
            format!("{event_id}_r{}", hex::encode(&digest[..8]))
        }
    }
}

/// What became of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done: delivered, or nothing left to do (endpoint gone or disabled, event expired,
    /// delivered before).
    Done,
    /// Attempt again after the delay.
    RetryAfter(Duration),
    /// The last attempt failed: to the dead-letter queue.
    Exhausted,
}

/// A failure that says nothing about the receiver: retry the job as it is.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("opening the signing secret: {0}")]
    Secret(#[from] seal::SealError),
}

/// Makes attempt number `attempt` (1-based) of `job`.
pub async fn deliver<S: WebhookStore, K: KeySealer, T: WebhookSender>(
    store: &S,
    opener: &SecretOpener<K>,
    sender: &T,
    schedule: &RetrySchedule,
    job: &DeliveryJob,
    attempt: u32,
) -> Result<Verdict, DeliveryError> {
    let Some(endpoint) = store.get_endpoint(&job.app_id, &job.endpoint_id).await? else {
        return Ok(Verdict::Done);
    };
    if endpoint.status != EndpointStatus::Enabled {
        return Ok(Verdict::Done);
    }
    let Some(event) = store.get_event(&job.app_id, &job.event_id).await? else {
        tracing::warn!(event_id = %job.event_id, "event no longer kept; not delivered");
        return Ok(Verdict::Done);
    };
    let now = clock::now_rfc3339();
    let mut secrets = Vec::new();
    for stored in endpoint.signing_secrets(&now) {
        secrets.push(
            opener
                .open(&job.app_id, &endpoint.id, &stored.sealed)
                .await?,
        );
    }
    let body =
        serde_json::to_vec(&event.event).map_err(|e| StoreError::Corrupt(e.to_string().into()))?;
    // Claimed last, just before the send, so the lease covers the send and little else.
    let lease = LeaseRequest::new(sender.lease(), job.redelivery.is_some());
    match store
        .claim_delivery(&endpoint.id, &job.event_id, &lease)
        .await?
    {
        DeliveryClaim::Granted => {}
        DeliveryClaim::Delivered => return Ok(Verdict::Done),
        // Look again when the holder's lease ends: by then it has delivered (this job stops)
        // or failed and released it (this job may send).
        DeliveryClaim::Busy(left) => return Ok(Verdict::RetryAfter(left)),
    }
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let id = message_id(&event.event.id, job.redelivery.as_deref());
    let mut headers = vec![
        (signature::HEADER_ID, id.clone()),
        (signature::HEADER_TIMESTAMP, timestamp.to_string()),
        (
            signature::HEADER_SIGNATURE,
            signature::signature_header(&secrets, &id, timestamp, &body),
        ),
    ];
    if job.redelivery.is_some() {
        headers.push((signature::HEADER_REDELIVERY_OF, event.event.id.clone()));
    }
    let answer = sender.post(&endpoint.url, &headers, body).await;
    let (outcome, verdict) = match answer.status {
        Some(status) if (200..300).contains(&status) => (AttemptOutcome::Delivered, Verdict::Done),
        Some(410) => (AttemptOutcome::Disabled, Verdict::Done),
        _ => match schedule.delay_after(attempt) {
            Some(delay) => (AttemptOutcome::Retrying, Verdict::RetryAfter(delay)),
            None => (AttemptOutcome::Exhausted, Verdict::Exhausted),
        },
    };
    let next_retry_at = match verdict {
        Verdict::RetryAfter(delay) => Some(clock::format_rfc3339(
            time::OffsetDateTime::now_utc() + delay,
        )),
        _ => None,
    };
    let record = Attempt {
        event_id: event.event.id.clone(),
        event_type: event.event.event_type,
        attempt,
        attempted_at: now,
        status_code: answer.status,
        error: answer.error.map(str::to_owned),
        duration_ms: answer.duration.as_millis() as u64,
        outcome,
        next_retry_at,
    };
    tracing::info!(
        endpoint = %endpoint.id,
        event_id = %record.event_id,
        attempt,
        status = ?record.status_code,
        error = ?record.error,
        duration_ms = record.duration_ms,
        outcome = ?outcome,
        "webhook attempt"
    );
    store
        .record_attempt(&endpoint.id, &record, &lease.token)
        .await?;
    if outcome == AttemptOutcome::Disabled {
        disable(
            store,
            &job.app_id,
            endpoint,
            "the endpoint answered 410 Gone",
        )
        .await?;
    }
    Ok(verdict)
}

/// Marks an endpoint disabled (retrying if it changed meanwhile, e.g. a rotation).
async fn disable<S: WebhookStore>(
    store: &S,
    app: &AppId,
    endpoint: Endpoint,
    reason: &str,
) -> Result<(), StoreError> {
    let first = &endpoint;
    let exhausted = StoreError::Unavailable("the endpoint kept changing".into());
    retrying(ENDPOINT_ATTEMPTS, exhausted, |attempt| async move {
        // The first attempt writes the endpoint as the delivery read it; later ones read again.
        let mut endpoint = if attempt == 0 {
            first.clone()
        } else {
            match store.get_endpoint(app, &first.id).await? {
                Some(current) => current,
                None => return Ok(Next::Done(())),
            }
        };
        let expected = endpoint.version;
        endpoint.status = EndpointStatus::Disabled;
        endpoint.disabled_reason = Some(reason.to_owned());
        endpoint.version += 1;
        Ok(if store.replace_endpoint(app, &endpoint, expected).await? {
            Next::Done(())
        } else {
            Next::ReadAgain
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sealer::LocalSealer;

    fn sealer() -> LocalSealer {
        LocalSealer::from_hex(&"42".repeat(32)).unwrap()
    }

    async fn sealed_for(sealer: &LocalSealer, app: &AppId, endpoint: &str) -> SealedKey {
        let secret = SigningSecret::generate().unwrap();
        sealer
            .data_key(&seal::KeyContext::webhook_secret(app, endpoint))
            .await
            .unwrap()
            .seal(secret.key(), &secret_aad(app, endpoint))
            .unwrap()
    }

    #[tokio::test]
    async fn an_opened_secret_is_served_only_to_its_own_endpoint() {
        let app = AppId::generate();
        let opener = SecretOpener::new(sealer());
        let sealed = sealed_for(opener.sealer(), &app, "ep_a").await;
        assert!(opener.open(&app, "ep_a", &sealed).await.is_ok());
        // The same ciphertext presented as another endpoint's (or another app's) is opened
        // under that endpoint's binding, which it does not carry: refused, not served.
        assert_eq!(
            opener.open(&app, "ep_b", &sealed).await.err(),
            Some(seal::SealError::Open)
        );
        let other = AppId::generate();
        assert_eq!(
            opener.open(&other, "ep_a", &sealed).await.err(),
            Some(seal::SealError::Open)
        );
    }

    #[tokio::test]
    async fn the_opened_secrets_kept_stay_bounded_and_the_recent_stay() {
        let app = AppId::generate();
        let opener = SecretOpener::with_capacity(sealer(), 4);
        let first = sealed_for(opener.sealer(), &app, "ep_0").await;
        let kept = opener.open(&app, "ep_0", &first).await.unwrap();
        for index in 1..10 {
            let endpoint = format!("ep_{index}");
            let sealed = sealed_for(opener.sealer(), &app, &endpoint).await;
            opener.open(&app, &endpoint, &sealed).await.unwrap();
            // Used after each open, the first secret is never the least recently used.
            assert!(opener.open(&app, "ep_0", &first).await.unwrap() == kept);
            assert!(opener.kept() <= 4, "{} kept", opener.kept());
        }
        assert_eq!(opener.kept(), 4);
    }

    #[test]
    fn a_redelivery_has_its_own_message_id_that_its_retries_keep() {
        let event = "evt_0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4";
        assert_eq!(message_id(event, None), event);
        let first = message_id(event, Some("req-1"));
        assert_ne!(first, event);
        assert!(first.starts_with(event), "{first}");
        assert_eq!(message_id(event, Some("req-1")), first);
        assert_ne!(message_id(event, Some("req-2")), first);
    }

    #[test]
    fn the_default_schedule_spans_most_of_a_day_with_jitter() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 7);
        let total: Duration = (1..schedule.attempts())
            .filter_map(|a| schedule.delay_after(a))
            .sum();
        assert!(total > Duration::from_secs(14 * 3600) && total < Duration::from_secs(22 * 3600));
        let first = schedule.delay_after(1).unwrap();
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6));
        assert_eq!(schedule.delay_after(7), None);
        assert_eq!(schedule.delay_after(0), None);
    }

    #[test]
    fn schedules_parse_from_text() {
        assert_eq!(
            RetrySchedule::parse("0s, 1s,2m,1h").unwrap(),
            RetrySchedule::new(vec![
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ])
        );
        assert!(RetrySchedule::parse("5x").is_err());
        assert!(RetrySchedule::parse("13h").is_err());
    }
}
