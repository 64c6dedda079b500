//! `PATCH /v1/users/{id}`: a JSON Merge Patch (RFC 7396) of `username`, `email`, `external_id`
//! and `custom_metadata`. `If-Match` with the user's ETag makes the change conditional (412 if
//! the user changed since). A new email or external id is claimed, and the old one freed, in
//! the same transaction as the user.

use http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use shared::domain::users::{self, Precondition};
use shared::edge::api::bodies;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::validation::FieldError;
use shared::model::{AppId, User};
use shared::ports::{AppStore, UserStore};

/// Handles one request: 200 with the updated user and its ETag, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, id, patch, precondition) = match accept(store, &request).await {
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
            let user = users::update_user(store, &app, &id, &patch, precondition).await?;
            Ok(reply(&user))
        },
    )
    .await
}

type Accepted = (AppId, String, Map<String, Value>, Precondition);

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<Accepted, ApiError> {
    api::require_method(request, &[Method::PATCH])?;
    let app = auth::authenticate(store, request.headers()).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let if_match = request
        .headers()
        .get(header::IF_MATCH)
        .map(|value| value.to_str().unwrap_or(""));
    let precondition = api::parse_if_match(if_match).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "If-Match",
            "must be * or an ETag this API returned, such as \"3\"",
        )])
    })?;
    let patch = bodies::parse_patch(&api::json_body(request)?).map_err(ApiError::Validation)?;
    Ok((app, id, patch, precondition))
}
