//! `POST /v1/users`: creates a user; its wallets are provisioned asynchronously.

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::api::{self, Reply};
use shared::auth;
use shared::error::ApiError;
use shared::model::NewUser;
use shared::store::{AppStore, UserStore};
use shared::users;

/// Handles one request: 201 with the new user, or the error envelope.
pub async fn handle<S: UserStore + AppStore>(store: &S, request: Request) -> Response<Body> {
    let request_id = api::request_id(&request);
    api::respond(&request_id, create(store, &request).await)
}

async fn create<S: UserStore + AppStore>(store: &S, request: &Request) -> Result<Reply, ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request.headers()).await?;
    let body = api::json_body(request)?;
    let new_user = NewUser::parse(&body).map_err(ApiError::Validation)?;
    let user = users::create_user(store, &app, &new_user).await?;
    Ok(Reply::created(user))
}
