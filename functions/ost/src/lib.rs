//! OST KIT's user API, spoken under `/ost/v1` (see `shared::dialects::ost`): create, update,
//! retrieve and list, signed requests only, on the native domain operations.

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::dialects::credentials::{self, ClientSecrets, OstSigned};
use shared::dialects::ost::{self, ListQuery, OstEnvelope};
use shared::domain::users::{self, Precondition, UserPage, UsersError};
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route as NativeRoute};
use shared::model::{AppId, Scope, User};
use shared::ports::access::AccessStore;
use shared::ports::sealer::KeySealer;
use shared::ports::{AppStore, UserStore};

/// Its clients' base URL is `<api>/ost/v1`.
pub const PREFIX: &str = "/ost/v1";

static ENVELOPE: OstEnvelope = OstEnvelope;

/// `error` in the dialect's words.
pub fn refuse(request_id: &str, error: &ApiError) -> Response<Body> {
    api::error_response_in(&ENVELOPE, request_id, error)
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Create,
    Update,
    Retrieve,
    List,
}

impl Route {
    /// The scope a key needs here: that of the native route doing the same.
    fn scope(self) -> Scope {
        match self {
            Self::Create => NativeRoute::CreateUser.scope(),
            Self::Update => NativeRoute::UpdateUser.scope(),
            Self::Retrieve | Self::List => NativeRoute::GetUser.scope(),
        }
    }
}

const ROUTES: [(Method, &str, Route); 4] = [
    (Method::POST, "/users", Route::Create),
    (Method::GET, "/users", Route::List),
    (Method::POST, "/users/{id}", Route::Update),
    (Method::GET, "/users/{id}", Route::Retrieve),
];

/// What the function runs on: the store, and the key service that opens client secrets.
pub struct Ost<'a, S, K> {
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

/// Handles one request under [`PREFIX`]. Every answer is JSON: OST's client reads each body.
pub async fn handle<S, K>(context: &Ost<'_, S, K>, request: Request) -> Response<Body>
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

/// Authenticates and reads the request, then answers it; what is refused before the operation
/// runs is the error (and claims no idempotency key).
async fn serve<S, K>(
    context: &Ost<'_, S, K>,
    request: &Request,
    request_id: &str,
) -> Result<Response<Body>, ApiError>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
    K: KeySealer,
{
    let store = context.store;
    let (app, route, id, params) = accept(context, request).await?;
    let app = &app;
    Ok(match route {
        Route::Create => {
            let new_user = ost::parse_create(&params)?;
            write(store, app, request, request_id, || {
                users::create_user(store, app, &new_user)
            })
            .await
        }
        Route::Update => {
            let patch = ost::parse_update(&params)?;
            write(store, app, request, request_id, || {
                users::update_user(store, app, &id, &patch, Precondition::None)
            })
            .await
        }
        Route::Retrieve => {
            let outcome = users::get_user(store, app, &id)
                .await
                .map(|user| ost::user_reply(&user))
                .map_err(ApiError::from);
            api::respond_in(&ENVELOPE, request_id, outcome)
        }
        Route::List => {
            let query = ost::parse_list(&params)?;
            api::respond_in(&ENVELOPE, request_id, list(store, app, &query).await)
        }
    })
}

/// Runs a write of a user under the request's idempotency key (if any), answering the user.
async fn write<S, F, Fut>(
    store: &S,
    app: &AppId,
    request: &Request,
    request_id: &str,
    operation: F,
) -> Response<Body>
where
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<User, UsersError>>,
{
    let on_commit = idempotency::on_commit_in(&ENVELOPE, ost::user_reply);
    idempotency::run_in(
        &ENVELOPE,
        store,
        app,
        request,
        request_id,
        on_commit,
        || async {
            let user = operation()
                .await
                .map_err(|error| ost::named(error.into()))?;
            Ok(ost::user_reply(&user))
        },
    )
    .await
}

/// Routes and authenticates: the app, the route, its `{id}` and the signed parameters.
async fn accept<S, K>(
    context: &Ost<'_, S, K>,
    request: &Request,
) -> Result<(AppId, Route, String, Vec<(String, String)>), ApiError>
where
    S: AppStore,
    K: KeySealer,
{
    // The client signs the path after its base URL, trailing slash as sent.
    let endpoint = api::route_path(request)
        .strip_prefix(PREFIX)
        .filter(|rest| rest.starts_with('/'))
        .ok_or(ApiError::NotFound("route"))?;
    let (route, path_params) = routes::resolve_in(&ROUTES, request.method(), endpoint)?;
    let params = ost::params(request).await?;
    let signed = OstSigned {
        endpoint,
        params: &params,
    };
    let app = credentials::ost(
        context.store,
        context.secrets,
        &signed,
        now_secs(),
        route.scope(),
    )
    .await?;
    let id = path_params
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default();
    Ok((app, route, id, params))
}

fn now_secs() -> u64 {
    shared::clock::now_ms() / 1000
}

/// The page asked for: after the cursor a `next_page_payload` carries, or `page_no`, walked
/// to a page at a time (bounded by `MAX_PAGED_USERS`).
async fn list<S: UserStore>(store: &S, app: &AppId, query: &ListQuery) -> Result<Reply, ApiError> {
    if query.airdropped_only {
        let nobody = UserPage {
            users: Vec::new(),
            next_cursor: None,
        };
        return Ok(ost::page_reply(query, &nobody));
    }
    let mut cursor = query.cursor.clone();
    let walk = if cursor.is_some() {
        0
    } else {
        query.page_no - 1
    };
    let every = users::UserFilter::default();
    for _ in 0..walk {
        let page = users::list_users(store, app, query.limit, cursor.as_deref(), &every).await?;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                let beyond = UserPage {
                    users: Vec::new(),
                    next_cursor: None,
                };
                return Ok(ost::page_reply(query, &beyond));
            }
        }
    }
    let page = users::list_users(store, app, query.limit, cursor.as_deref(), &every)
        .await
        .map_err(|error| {
            shared::dialects::renamed(error.into(), &[("cursor", "pagination_identifier")])
        })?;
    Ok(ost::page_reply(query, &page))
}
