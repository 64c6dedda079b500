//! The webhook operations of the API: register, list and delete endpoints, rotate a secret,
//! show deliveries, redeliver an event. Tenant-isolated: an app sees only its endpoints and
//! events, and another app's id reads as not found.

use serde_json::{Value, json};

use super::delivery::{Attempt, DeliveryJob, secret_aad};
use super::destination::{self, DestinationPolicy};
use super::endpoint::{
    self, ENDPOINT_ATTEMPTS, Endpoint, EndpointStatus, MAX_ENDPOINTS_PER_APP,
    MIN_ROTATION_INTERVAL_SECS, ROTATION_OVERLAP_SECS, StoredSecret,
};
use super::signature::{SignatureError, SigningSecret};
use crate::clock;
use crate::domain::retry::{Next, retrying};
use crate::domain::wallets::seal::{KeyContext, KeySealer, SealError};
use crate::model::AppId;
use crate::model::validation::FieldError;
use crate::ports::queue::{DeliveryQueue, QueueError};
use crate::ports::{EndpointLimitError, StoreError, WebhookStore};

/// Attempts shown by default, and at most, by `GET /v1/webhooks/{id}/deliveries`.
pub const DEFAULT_ATTEMPTS: usize = 50;
pub const MAX_ATTEMPTS_SHOWN: usize = 100;

/// What went wrong in a webhook operation.
#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    #[error("invalid values")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the app has the most endpoints it may have")]
    LimitReached(u32),
    #[error("the endpoint kept changing")]
    Contention,
    /// The endpoint's secret was rotated less than [`MIN_ROTATION_INTERVAL_SECS`] ago.
    #[error("the secret was rotated moments ago")]
    RotatedRecently { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sealing the secret: {0}")]
    Seal(#[from] SealError),
    #[error("generating the secret: {0}")]
    Secret(#[from] SignatureError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// An endpoint and its new secret, shown once.
pub fn with_secret(endpoint: &Endpoint, secret: &SigningSecret) -> Value {
    let mut view = endpoint.view();
    view["secret"] = Value::String(secret.reveal().to_string());
    view
}

async fn seal_secret<K: KeySealer>(
    sealer: &K,
    app: &AppId,
    endpoint_id: &str,
    now: &str,
) -> Result<(SigningSecret, StoredSecret), WebhooksError> {
    let secret = SigningSecret::generate()?;
    let sealed = sealer
        .data_key(&KeyContext::webhook_secret(app, endpoint_id))
        .await?
        .seal(secret.key(), &secret_aad(app, endpoint_id))?;
    Ok((
        secret,
        StoredSecret {
            sealed,
            created_at: now.to_owned(),
            expires_at: None,
        },
    ))
}

/// `POST /v1/webhooks`: checks the request (the URL's addresses included), seals a new
/// secret, and stores the endpoint.
pub async fn register<S: WebhookStore, K: KeySealer>(
    store: &S,
    sealer: &K,
    policy: DestinationPolicy,
    app: &AppId,
    body: &Value,
) -> Result<(Endpoint, SigningSecret), WebhooksError> {
    let new = endpoint::parse_new_endpoint(body, policy).map_err(WebhooksError::Invalid)?;
    destination::check_url(&new.url, policy)
        .await
        .map_err(|e| WebhooksError::Invalid(vec![FieldError::new("url", e.to_string())]))?;
    let now = clock::now_rfc3339();
    let id = endpoint::new_endpoint_id();
    let (secret, stored) = seal_secret(sealer, app, &id, &now).await?;
    let endpoint = Endpoint {
        id,
        url: new.url,
        events: new.events,
        status: EndpointStatus::Enabled,
        disabled_reason: None,
        created_at: now,
        secrets: vec![stored],
        version: 1,
    };
    store
        .insert_endpoint(app, &endpoint, MAX_ENDPOINTS_PER_APP)
        .await
        .map_err(|error| match error {
            EndpointLimitError::LimitReached(limit) => WebhooksError::LimitReached(limit),
            EndpointLimitError::Store(error) => WebhooksError::Store(error),
        })?;
    Ok((endpoint, secret))
}

async fn endpoint_of<S: WebhookStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<Endpoint, WebhooksError> {
    if !endpoint::is_endpoint_id(id) {
        return Err(WebhooksError::NotFound("webhook endpoint"));
    }
    store
        .get_endpoint(app, id)
        .await?
        .ok_or(WebhooksError::NotFound("webhook endpoint"))
}

/// `GET /v1/webhooks`.
pub async fn list<S: WebhookStore>(store: &S, app: &AppId) -> Result<Value, WebhooksError> {
    let endpoints = store.list_endpoints(app).await?;
    Ok(json!({"endpoints": endpoints.iter().map(Endpoint::view).collect::<Vec<_>>()}))
}

/// `DELETE /v1/webhooks/{id}`: jobs already queued for it are dropped at delivery.
pub async fn remove<S: WebhookStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<(), WebhooksError> {
    if endpoint::is_endpoint_id(id) && store.delete_endpoint(app, id).await? {
        Ok(())
    } else {
        Err(WebhooksError::NotFound("webhook endpoint"))
    }
}

/// `POST /v1/webhooks/{id}/rotate-secret`: a new secret signs from now on; the one before it
/// keeps signing for [`ROTATION_OVERLAP_SECS`], so each message carries both signatures
/// meanwhile. At most those two sign: any older secret is dropped in the same conditional
/// write (on the version read), so racing rotations never leave three, and each delivery opens
/// at most two. A rotation within [`MIN_ROTATION_INTERVAL_SECS`] of the last one is
/// `RotatedRecently` (the registration's secret may be rotated at once).
pub async fn rotate<S: WebhookStore, K: KeySealer>(
    store: &S,
    sealer: &K,
    app: &AppId,
    id: &str,
) -> Result<(Endpoint, SigningSecret), WebhooksError> {
    let at = time::OffsetDateTime::now_utc();
    let now = &clock::format_rfc3339(at);
    let until = &clock::format_rfc3339(at + time::Duration::seconds(ROTATION_OVERLAP_SECS));
    // Read first, so a refused or unknown endpoint asks the key service for nothing.
    let first = endpoint_of(store, app, id).await?;
    check_rotation_interval(&first, at)?;
    let (secret, stored) = &seal_secret(sealer, app, id, now).await?;
    let first = &first;
    retrying(
        ENDPOINT_ATTEMPTS,
        WebhooksError::Contention,
        |attempt| async move {
            let mut endpoint = if attempt == 0 {
                first.clone()
            } else {
                endpoint_of(store, app, id).await?
            };
            check_rotation_interval(&endpoint, at)?;
            let expected = endpoint.version;
            let mut secrets = vec![stored.clone()];
            secrets.extend(
                endpoint
                    .signing_secrets(now)
                    .next()
                    .cloned()
                    .map(|mut old| {
                        old.expires_at.get_or_insert_with(|| until.clone());
                        old
                    }),
            );
            endpoint.secrets = secrets;
            endpoint.version += 1;
            Ok(if store.replace_endpoint(app, &endpoint, expected).await? {
                Next::Done((endpoint, secret.clone()))
            } else {
                Next::ReadAgain
            })
        },
    )
    .await
}

/// Refuses a rotation within [`MIN_ROTATION_INTERVAL_SECS`] of the previous one: each rotation
/// asks the key service for a data key, and a loop of them would only churn the secrets
/// receivers must follow.
fn check_rotation_interval(
    endpoint: &Endpoint,
    at: time::OffsetDateTime,
) -> Result<(), WebhooksError> {
    let Some(current) = endpoint.secrets.first() else {
        return Ok(());
    };
    // The registration's own secret: rotating it at once (it leaked) is always allowed.
    if current.created_at == endpoint.created_at {
        return Ok(());
    }
    let Ok(rotated) = time::OffsetDateTime::parse(
        &current.created_at,
        &time::format_description::well_known::Rfc3339,
    ) else {
        return Ok(());
    };
    let wait = rotated + time::Duration::seconds(MIN_ROTATION_INTERVAL_SECS) - at;
    if wait.is_positive() {
        // Rounded up: a client that waits as told is not refused again.
        return Err(WebhooksError::RotatedRecently {
            retry_after_secs: wait.whole_seconds().unsigned_abs() + 1,
        });
    }
    Ok(())
}

/// `GET /v1/webhooks/{id}/deliveries?limit=`: the most recent attempts, newest first.
pub async fn deliveries<S: WebhookStore>(
    store: &S,
    app: &AppId,
    id: &str,
    params: &[(String, String)],
) -> Result<Value, WebhooksError> {
    let mut limit = DEFAULT_ATTEMPTS;
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                limit = crate::domain::paging::parse_limit(value, MAX_ATTEMPTS_SHOWN)
                    .map_err(|error| WebhooksError::Invalid(vec![error]))?
            }
            other => {
                return Err(WebhooksError::Invalid(vec![FieldError::new(
                    other,
                    "unknown query parameter; expected limit",
                )]));
            }
        }
    }
    let endpoint = endpoint_of(store, app, id).await?;
    let attempts: Vec<Attempt> = store.list_attempts(&endpoint.id, limit).await?;
    Ok(json!({"endpoint_id": endpoint.id, "deliveries": attempts}))
}

/// `POST /v1/events/{id}/redeliver` with an optional `{"endpoint_id": …}`: queues the event
/// again for that endpoint, or for every enabled endpoint that wants its type. `nonce` (the
/// request id) keeps this redelivery distinct from earlier ones.
pub async fn redeliver<S: WebhookStore, Q: DeliveryQueue>(
    store: &S,
    queue: &Q,
    app: &AppId,
    event_id: &str,
    body: &Value,
    nonce: &str,
) -> Result<Value, WebhooksError> {
    let only = match body.as_object() {
        Some(object) => {
            let mut errors = Vec::new();
            for key in object.keys().filter(|k| *k != "endpoint_id") {
                errors.push(FieldError::new(key, "unknown field; expected endpoint_id"));
            }
            let only = match object.get("endpoint_id") {
                None => None,
                Some(Value::String(id)) => Some(id.clone()),
                Some(_) => {
                    errors.push(FieldError::new("endpoint_id", "must be a string"));
                    None
                }
            };
            if !errors.is_empty() {
                return Err(WebhooksError::Invalid(errors));
            }
            only
        }
        None => {
            return Err(WebhooksError::Invalid(vec![FieldError::new(
                "",
                "must be a JSON object",
            )]));
        }
    };
    if !crate::domain::events::is_event_id(event_id) {
        return Err(WebhooksError::NotFound("event"));
    }
    let event = store
        .get_event(app, event_id)
        .await?
        .ok_or(WebhooksError::NotFound("event"))?;
    let endpoints = match only {
        Some(id) => vec![endpoint_of(store, app, &id).await?],
        None => store
            .list_endpoints(app)
            .await?
            .into_iter()
            .filter(|e| e.wants(event.event.event_type))
            .collect(),
    };
    let jobs: Vec<DeliveryJob> = endpoints
        .iter()
        .filter(|e| e.status == EndpointStatus::Enabled)
        .map(|e| DeliveryJob {
            app_id: app.clone(),
            event_id: event.event.id.clone(),
            endpoint_id: e.id.clone(),
            user_id: event.user_id,
            redelivery: Some(nonce.to_owned()),
        })
        .collect();
    queue.enqueue(&jobs).await?;
    Ok(json!({
        "event_id": event.event.id,
        "endpoint_ids": jobs.iter().map(|j| j.endpoint_id.clone()).collect::<Vec<_>>(),
    }))
}
