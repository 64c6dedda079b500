//! `DELETE /v1/users/{id}`: 204. The user and every identifier it held are gone at once (the
//! identifiers can be reused); a tombstone keeps it for the retention period, and its sealed
//! wallet keys stay untouched until the tombstone goes.
//!
//! `POST /v1/users/{id}/restore`: 200 with the user, back within its retention period with
//! its identifiers and wallets, unless another user took an identifier meanwhile (409).

use std::time::Duration;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::{self, Reply, bodies};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route};
use shared::model::{AppId, User};
use shared::ports::{AppStore, UserStore};

/// Handles one request: 204 for a delete, 200 with the user for a restore, or the error
/// envelope.
pub async fn handle<S>(store: &S, retention: Duration, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (route, app, id) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    if route == Route::RestoreUser {
        let reply = |user: &User| Reply::user(StatusCode::OK, user);
        return idempotency::run(
            store,
            &app,
            &request,
            &request_id,
            idempotency::on_commit(reply),
            || async { Ok(reply(&users::restore_deleted_user(store, &app, &id).await?)) },
        )
        .await;
    }
    let on_commit = idempotency::on_commit(|_| Reply::no_content());
    idempotency::run(store, &app, &request, &request_id, on_commit, || async {
        users::delete_user(store, &app, &id, retention).await?;
        Ok(Reply::no_content())
    })
    .await
}

/// Authenticates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<(Route, AppId, String), ApiError> {
    let route = routes::of_request(request)?.route;
    // Named, not defaulted: a request routed here by mistake deletes nothing.
    if !matches!(route, Route::DeleteUser | Route::RestoreUser) {
        return Err(ApiError::MethodNotAllowed {
            allow: vec![http::Method::DELETE],
        });
    }
    let app = auth::authenticate(store, request).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    if route == Route::RestoreUser {
        bodies::parse_empty(&api::json_body(request)?).map_err(ApiError::Validation)?;
    }
    Ok((route, app, id))
}
