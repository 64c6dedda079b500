//! `POST /v1/users/find-or-create`: the one user the identifiers match (200), or a new one (201).

use http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::{AppId, NewUser, User};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Handles one request: `{"user":…,"created":bool,"on_allowlist":bool}` with 200 or 201, or
/// the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, new_user) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    // The only write is the create: found users are read, never written.
    let reply = |user: &User, created: bool, on_allowlist: bool| {
        let data = json!({ "user": user, "created": created, "on_allowlist": on_allowlist });
        if created {
            Reply::created(data)
        } else {
            Reply::ok(data)
        }
    };
    let on_commit =
        idempotency::on_commit_noted(move |user, notes| reply(user, true, notes.on_allowlist));
    idempotency::run(store, &app, &request, &request_id, on_commit, || async {
        let found = users::find_or_create_user(store, &app, &new_user).await?;
        Ok(reply(&found.user, found.created, found.on_allowlist))
    })
    .await
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<(AppId, NewUser), ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request).await?;
    let body = api::json_body(request)?;
    let new_user = NewUser::parse_identified(&body).map_err(ApiError::Validation)?;
    Ok((app, new_user))
}
