//! `GET /v1/users/{id}` (by id), `GET /v1/users?email=|external_id=|address=` and
//! `POST /v1/users/lookup` `{"email": …}` (by one unique identifier; the body keeps it out of
//! URLs and access logs), and `GET /v1/users?limit=&cursor=&status=&username=` (a page of the
//! app's users, newest first).

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::bodies::{self, UsersQuery};
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::routes::{self, Route};
use shared::ports::{AppStore, UserStore};

/// Handles one request: 200 with the user, 404, or the error envelope.
pub async fn handle<S: UserStore + AppStore>(store: &S, request: Request) -> Response<Body> {
    let request_id = api::request_id(&request);
    api::respond(&request_id, get(store, &request).await)
}

async fn get<S: UserStore + AppStore>(store: &S, request: &Request) -> Result<Reply, ApiError> {
    let route = routes::of_request(request)?.route;
    let method = if route == Route::LookupUserByBody {
        Method::POST
    } else {
        Method::GET
    };
    api::require_method(request, &[method])?;
    let app = auth::authenticate(store, request).await?;
    if route == Route::LookupUserByBody {
        let lookup =
            bodies::parse_lookup_body(&api::json_body(request)?).map_err(ApiError::Validation)?;
        let user = users::find_user(store, &app, &lookup).await?;
        return Ok(Reply::user(http::StatusCode::OK, &user));
    }
    if let Some(id) = api::path_param(request, "id") {
        let user = users::get_user(store, &app, &id).await?;
        return Ok(Reply::user(http::StatusCode::OK, &user));
    }
    let query =
        UsersQuery::from_query(&api::query_params(request)?).map_err(ApiError::Validation)?;
    Ok(match query {
        UsersQuery::Lookup(lookup) => Reply::user(
            http::StatusCode::OK,
            &users::find_user(store, &app, &lookup).await?,
        ),
        UsersQuery::List {
            limit,
            cursor,
            filter,
        } => Reply::ok(users::list_users(store, &app, limit, cursor.as_deref(), &filter).await?),
    })
}
