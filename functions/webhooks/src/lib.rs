//! `POST/GET /v1/webhooks`, `DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/rotate-secret`,
//! `GET /v1/webhooks/{id}/deliveries`, `POST /v1/events/{id}/redeliver`, and a user's own events,
//! `GET /v1/users/{id}/events`.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::domain::wallets::KeySealer;
use shared::domain::webhooks::destination::DestinationPolicy;
use shared::domain::webhooks::{manage, timeline};
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Resolved, Route};
use shared::edge::{auth, quota};
use shared::model::AppId;
use shared::model::rate_limit::Budget;
use shared::ports::queue::DeliveryQueue;
use shared::ports::{AppStore, UserStore, WebhookStore};

/// What the webhook routes need besides the request.
pub struct Webhooks<'a, S, K, Q> {
    pub store: &'a S,
    /// Seals new signing secrets (the webhook-secret purpose).
    pub sealer: &'a K,
    pub queue: &'a Q,
    pub policy: DestinationPolicy,
}

/// Handles one request to a webhook route. `Idempotency-Key` makes a retried delete or
/// redelivery safe. Registering and rotating do not honour it: their response carries a
/// signing secret, which is never stored in plain text, so it could not be replayed.
pub async fn handle<S, K, Q>(context: &Webhooks<'_, S, K, Q>, request: Request) -> Response<Body>
where
    S: WebhookStore + UserStore + AppStore + IdempotencyStore,
    K: KeySealer,
    Q: DeliveryQueue,
{
    let request_id = api::request_id(&request);
    let resolved = match routes::of_request(&request) {
        Ok(resolved) => resolved,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let app = match auth::authenticate(context.store, &request).await {
        Ok(app) => app,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let operation = || serve(context, &request, &request_id, &resolved, &app);
    match resolved.route {
        Route::DeleteWebhook | Route::RedeliverEvent => {
            // Endpoint writes carry no key: it is completed after the operation.
            let on_commit = idempotency::commit::OnCommit::Nothing;
            idempotency::run(
                context.store,
                &app,
                &request,
                &request_id,
                on_commit,
                operation,
            )
            .await
        }
        _ => api::respond(&request_id, operation().await),
    }
}

async fn serve<S, K, Q>(
    context: &Webhooks<'_, S, K, Q>,
    request: &Request,
    request_id: &str,
    resolved: &Resolved,
    app: &AppId,
) -> Result<Reply, ApiError>
where
    S: WebhookStore + UserStore + AppStore,
    K: KeySealer,
    Q: DeliveryQueue,
{
    let id = || {
        resolved
            .params
            .iter()
            .find(|(name, _)| name == "id")
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let store = context.store;
    Ok(match resolved.route {
        Route::CreateWebhook => {
            let body = api::json_body(request)?;
            let (endpoint, secret) =
                manage::register(store, context.sealer, context.policy, app, &body).await?;
            Reply::created(manage::with_secret(&endpoint, &secret))
        }
        Route::ListWebhooks => Reply::ok(manage::list(store, app).await?),
        Route::DeleteWebhook => {
            manage::remove(store, app, &id()).await?;
            Reply::no_content()
        }
        Route::RotateWebhookSecret => {
            let (endpoint, secret) = manage::rotate(store, context.sealer, app, &id()).await?;
            Reply::ok(manage::with_secret(&endpoint, &secret))
        }
        Route::ListDeliveries => {
            let params = api::query_params(request)?;
            Reply::ok(manage::deliveries(store, app, &id(), &params).await?)
        }
        Route::ListUserEvents => {
            let params = api::query_params(request)?;
            Reply::ok(timeline::user_events(store, app, &id(), &params).await?)
        }
        Route::RedeliverEvent => {
            let body = match request.body() {
                Body::Empty => Value::Object(Default::default()),
                _ => api::json_body(request)?,
            };
            quota::spend(store, app, Budget::REDELIVERIES, 1).await?;
            let queued =
                manage::redeliver(store, context.queue, app, &id(), &body, request_id).await?;
            Reply::with_status(StatusCode::ACCEPTED, queued)
        }
        _ => return Err(ApiError::NotFound("route")),
    })
}
