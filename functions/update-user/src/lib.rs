//! `PATCH /v1/users/{id}`: a JSON Merge Patch (RFC 7396) of `username`, `email`, `external_id`
//! and `custom_metadata`. `If-Match` with the user's ETag makes the change conditional (412 if
//! the user changed since). A new email or external id is claimed, and the old one freed, in
//! the same transaction as the user.
//!
//! `POST /v1/users/{id}/disable` (optionally `{"reason": "…"}`) and
//! `POST /v1/users/{id}/enable`: the user's status, each idempotent.

use http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use shared::domain::users::{self, Precondition};
use shared::edge::api::bodies;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route};
use shared::model::validation::FieldError;
use shared::model::{AppId, User};
use shared::ports::{AppStore, UserStore};

/// What a request asks of the user.
enum Change {
    Patch(Map<String, Value>, Precondition),
    Disable(Option<String>),
    Enable,
}

/// Handles one request: 200 with the updated user and its ETag, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, id, change) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let reply = |user: &User| Reply::user(StatusCode::OK, user);
    idempotency::run(
        store,
        &app,
        &request,
        &request_id,
        idempotency::on_commit(reply),
        || async {
            let user = match &change {
                Change::Patch(patch, precondition) => {
                    users::update_user(store, &app, &id, patch, *precondition).await?
                }
                Change::Disable(reason) => {
                    users::disable_user(store, &app, &id, reason.as_deref()).await?
                }
                Change::Enable => users::enable_user(store, &app, &id).await?,
            };
            Ok(reply(&user))
        },
    )
    .await
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<(AppId, String, Change), ApiError> {
    let route = routes::of_request(request)?.route;
    let app = auth::authenticate(store, request).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let body = api::json_body(request)?;
    let change = match route {
        Route::DisableUser => {
            Change::Disable(bodies::parse_disable(&body).map_err(ApiError::Validation)?)
        }
        Route::EnableUser => {
            bodies::parse_empty(&body).map_err(ApiError::Validation)?;
            Change::Enable
        }
        _ => {
            let precondition = if_match(request)?;
            Change::Patch(
                bodies::parse_patch(&body).map_err(ApiError::Validation)?,
                precondition,
            )
        }
    };
    Ok((app, id, change))
}

fn if_match(request: &Request) -> Result<Precondition, ApiError> {
    let if_match = request
        .headers()
        .get(header::IF_MATCH)
        .map(|value| value.to_str().unwrap_or(""));
    api::parse_if_match(if_match).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "If-Match",
            "must be * or an ETag this API returned, such as \"3\"",
        )])
    })
}
