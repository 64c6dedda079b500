//! `DELETE /v1/users/{id}/linked-accounts/{type}/{value}`: unlinks an account and frees its
//! identifier for the app (404 if the user has no such account). `value` is what makes the
//! account unique: the address of a wallet (any hex case), the number of a phone, the fid of a
//! farcaster account, the subject of the others; URL-encode it (`+` as `%2B`).

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::{AppId, User};
use shared::ports::{AppStore, UserStore};

/// Handles one request: 200 with the user, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, [id, kind, value]) = match accept(store, &request).await {
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
            let user = users::unlink_account(store, &app, &id, &kind, &value).await?;
            Ok(reply(&user))
        },
    )
    .await
}

/// Authenticates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<(AppId, [String; 3]), ApiError> {
    api::require_method(request, &[Method::DELETE])?;
    let app = auth::authenticate(store, request).await?;
    let param = |name| api::path_param(request, name).ok_or(ApiError::NotFound("linked account"));
    Ok((app, [param("id")?, param("type")?, param("value")?]))
}
