//! `GET /v1/users/{id}` (by id) and `GET /v1/users?…` (by one unique identifier).

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::api::{self, Reply};
use shared::auth;
use shared::error::ApiError;
use shared::store::{AppStore, UserStore};
use shared::users::{self, Lookup};

/// Handles one request: 200 with the user, 404, or the error envelope.
pub async fn handle<S: UserStore + AppStore>(store: &S, request: Request) -> Response<Body> {
    let request_id = api::request_id(&request);
    api::respond(&request_id, get(store, &request).await)
}

async fn get<S: UserStore + AppStore>(store: &S, request: &Request) -> Result<Reply, ApiError> {
    api::require_method(request, &[Method::GET])?;
    let app = auth::authenticate(store, request.headers()).await?;
    let user = match api::path_param(request, "id") {
        Some(id) => users::get_user(store, &app, &id).await?,
        None => {
            let lookup =
                Lookup::from_query(&api::query_params(request)?).map_err(ApiError::Validation)?;
            users::find_user(store, &app, &lookup).await?
        }
    };
    Ok(Reply::ok(user))
}
