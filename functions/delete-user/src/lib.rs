//! `DELETE /v1/users/{id}`: 204. The user and every identifier it held are gone at once (the
//! identifiers can be reused); its sealed wallet keys are kept, marked deleted, for the
//! retention period, during which the admin CLI can restore the user.

use std::time::Duration;

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::AppId;
use shared::ports::{AppStore, UserStore};

/// Handles one request: 204, or the error envelope.
pub async fn handle<S>(store: &S, retention: Duration, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, id) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let on_commit = idempotency::on_commit(|_| Reply::no_content());
    idempotency::run(store, &app, &request, &request_id, on_commit, || async {
        users::delete_user(store, &app, &id, retention).await?;
        Ok(Reply::no_content())
    })
    .await
}

/// Authenticates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<(AppId, String), ApiError> {
    api::require_method(request, &[Method::DELETE])?;
    let app = auth::authenticate(store, request).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    Ok((app, id))
}
