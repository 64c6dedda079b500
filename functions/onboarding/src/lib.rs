//! The find-or-create onboarding API, spoken under `/onboarding`: its one route,
//! `POST /onboarding/v1/users/find-or-create`, in its own words (see
//! `shared::dialects::onboarding`), on the same domain operation as the native route.

use std::borrow::Cow;

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::dialects::credentials;
use shared::dialects::onboarding::{self, FIND_OR_CREATE, OnboardingEnvelope};
use shared::domain::users;
use shared::edge::api;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route as NativeRoute};
use shared::model::{AppId, NewUser};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Where the dialect is mounted.
pub const PREFIX: &str = "/onboarding";

#[derive(Debug, Clone, Copy)]
enum Route {
    FindOrCreate,
}

const ROUTES: [(Method, &str, Route); 1] = [(
    Method::POST,
    "/v1/users/find-or-create",
    Route::FindOrCreate,
)];

/// Every route of the dialect: method and path template, under its prefix.
pub fn routes() -> Vec<(Method, String)> {
    ROUTES
        .iter()
        .map(|(method, template, _)| (method.clone(), format!("{PREFIX}{template}")))
        .collect()
}

/// Handles one request under [`PREFIX`].
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let path = api::route_path(&request);
    let route = path
        .strip_prefix(PREFIX)
        .ok_or(ApiError::NotFound("route"))
        .and_then(|rest| routes::resolve_in(&ROUTES, request.method(), rest));
    match route {
        Ok((Route::FindOrCreate, _)) => find_or_create(store, &request, &request_id).await,
        Err(error) => refuse(path, &request_id, &error),
    }
}

/// `error` in the API's words, for a request to `path`.
pub fn refuse(path: &str, request_id: &str, error: &ApiError) -> Response<Body> {
    if path.strip_prefix(PREFIX) == Some(ROUTES[0].1) {
        return api::error_response_in(&FIND_OR_CREATE, request_id, error);
    }
    let envelope = OnboardingEnvelope {
        path: Cow::Owned(path.trim_start_matches('/').to_owned()),
    };
    api::error_response_in(&envelope, request_id, error)
}

async fn find_or_create<S>(store: &S, request: &Request, request_id: &str) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let (app, new_user) = match accept(store, request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response_in(&FIND_OR_CREATE, request_id, &error),
    };
    let on_commit = idempotency::on_commit_noted_in(&FIND_OR_CREATE, |user, notes| {
        onboarding::reply(user, true, notes.on_allowlist)
    });
    idempotency::run_in(
        &FIND_OR_CREATE,
        store,
        &app,
        request,
        request_id,
        on_commit,
        || async {
            let found = users::find_or_create_user(store, &app, &new_user)
                .await
                .map_err(|error| onboarding::in_its_words(error.into(), &new_user))?;
            Ok(onboarding::reply(
                &found.user,
                found.created,
                found.on_allowlist,
            ))
        },
    )
    .await
}

/// Authenticates and reads the body; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<(AppId, NewUser), ApiError> {
    let scope = NativeRoute::FindOrCreateUser.scope();
    let app = credentials::onboarding(store, request.headers(), scope).await?;
    let body = api::json_body(request)?;
    Ok((app, onboarding::parse(&body)?))
}
