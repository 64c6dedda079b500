//! Original's user API, spoken under `/original` (see `shared::dialects::original`): create,
//! get by uid, and look up by email or external id, on the native domain operations.

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::dialects::credentials::{self, ClientSecrets};
use shared::dialects::original::{self, OriginalEnvelope};
use shared::domain::users::{self, UsersError};
use shared::edge::api::bodies::UsersQuery;
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route as NativeRoute};
use shared::model::Scope;
use shared::ports::access::AccessStore;
use shared::ports::sealer::KeySealer;
use shared::ports::{AppStore, UserStore};

/// Where the dialect is mounted.
pub const PREFIX: &str = "/original";

static ENVELOPE: OriginalEnvelope = OriginalEnvelope;

/// `error` in the dialect's words.
pub fn refuse(request_id: &str, error: &ApiError) -> Response<Body> {
    api::error_response_in(&ENVELOPE, request_id, error)
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Create,
    Get,
    Lookup,
}

impl Route {
    /// The scope a key needs here: that of the native route doing the same.
    fn scope(self) -> Scope {
        match self {
            Self::Create => NativeRoute::CreateUser.scope(),
            Self::Get | Self::Lookup => NativeRoute::GetUser.scope(),
        }
    }
}

const ROUTES: [(Method, &str, Route); 3] = [
    (Method::POST, "/v1/user", Route::Create),
    (Method::GET, "/v1/user", Route::Lookup),
    (Method::GET, "/v1/user/{uid}", Route::Get),
];

/// What the function runs on: the store, and the key service that opens client secrets.
pub struct Original<'a, S, K> {
    pub store: &'a S,
    pub secrets: &'a ClientSecrets<K>,
}

/// Every route of the dialect: method and path template, under its prefix.
pub fn routes() -> Vec<(Method, String)> {
    ROUTES
        .iter()
        .map(|(method, template, _)| (method.clone(), format!("{PREFIX}{template}")))
        .collect()
}

/// Handles one request under [`PREFIX`].
pub async fn handle<S, K>(context: &Original<'_, S, K>, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
    K: KeySealer,
{
    let request_id = api::request_id(&request);
    match serve(context, &request, &request_id).await {
        Ok(response) => response,
        Err(error) => api::error_response_in(&ENVELOPE, &request_id, &error),
    }
}

/// Routes, authenticates and reads the request, then answers it; what is refused before the
/// operation runs is the error (and claims no idempotency key).
async fn serve<S, K>(
    context: &Original<'_, S, K>,
    request: &Request,
    request_id: &str,
) -> Result<Response<Body>, ApiError>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
    K: KeySealer,
{
    let rest = api::route_path(request)
        .strip_prefix(PREFIX)
        .ok_or(ApiError::NotFound("route"))?;
    let (route, params) = routes::resolve_in(&ROUTES, request.method(), rest)?;
    let store = context.store;
    let app =
        credentials::original(store, context.secrets, request.headers(), route.scope()).await?;
    Ok(match route {
        Route::Create => {
            let new_user = original::parse_create(&api::json_body(request)?)?;
            let on_commit = idempotency::on_commit_in(&ENVELOPE, original::created);
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                request,
                request_id,
                on_commit,
                || async {
                    let user = users::create_user(store, &app, &new_user)
                        .await
                        .map_err(|error| original::in_its_words(error.into()))?;
                    Ok(original::created(&user))
                },
            )
            .await
        }
        Route::Get => {
            let uid = params.first().map(|(_, v)| v.as_str()).unwrap_or_default();
            let outcome = users::get_user(store, &app, uid)
                .await
                .map(|user| original::found(Some(&user)))
                .map_err(ApiError::from);
            api::respond_in(&ENVELOPE, request_id, outcome)
        }
        Route::Lookup => api::respond_in(&ENVELOPE, request_id, lookup(store, &app, request).await),
    })
}

/// A lookup that finds nobody is a success saying so, as Original answers it.
async fn lookup<S: UserStore>(
    store: &S,
    app: &shared::model::AppId,
    request: &Request,
) -> Result<Reply, ApiError> {
    let (name, value) = original::lookup_query(&api::query_params(request)?)?;
    let query = UsersQuery::from_query(&[(name, value)])
        .map_err(|errors| original::in_its_words(ApiError::Validation(errors)))?;
    let UsersQuery::Lookup(lookup) = query else {
        return Err(ApiError::NotFound("route"));
    };
    match users::find_user(store, app, &lookup).await {
        Ok(user) => Ok(original::found(Some(&user))),
        Err(UsersError::NotFound) => Ok(original::found(None)),
        Err(error) => Err(error.into()),
    }
}
