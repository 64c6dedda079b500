//! `POST /v1/users`: creates a user; its wallets are provisioned asynchronously.

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::{AppId, NewUser, User};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Handles one request: 201 with the new user, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, new_user) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let reply = |user: &User| Reply::created(user);
    idempotency::run(
        store,
        &app,
        &request,
        &request_id,
        idempotency::on_commit(reply),
        || async {
            let user = users::create_user(store, &app, &new_user).await?;
            Ok(reply(&user))
        },
    )
    .await
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<(AppId, NewUser), ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request).await?;
    let body = api::json_body(request)?;
    let new_user = NewUser::parse(&body).map_err(ApiError::Validation)?;
    Ok((app, new_user))
}
