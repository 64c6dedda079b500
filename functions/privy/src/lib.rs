//! Privy's server API for users, spoken under `/privy` (see `shared::dialects::privy`), on the
//! native domain operations.

use std::time::Duration;

use http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::dialects::credentials;
use shared::dialects::privy::{self, HANDLE_LOOKUPS, LOOKUPS, PrivyEnvelope};
use shared::domain::access::allowlist;
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Route as NativeRoute};
use shared::model::{AppId, Scope, User, WalletStatus};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Where the dialect is mounted: its client's `apiUrl` is `<api>/privy`.
pub const PREFIX: &str = "/privy";
/// How long a create or pregenerate that asks for wallets waits for them to be made (from the
/// table's stream, a quarter of a second locally) before answering without them. Privy's own
/// API answers with its wallets; ours come a moment after the user, so the answer waits a
/// little, bounded, and never hangs: a wallet still pending is left out, and shows on the
/// next read.
pub const WALLET_WAIT: Duration = Duration::from_secs(2);
const WALLET_POLL: Duration = Duration::from_millis(100);

static ENVELOPE: PrivyEnvelope = PrivyEnvelope;

#[derive(Debug, Clone, Copy)]
enum Route {
    Create,
    List,
    Get,
    Delete,
    Lookup(usize),
    HandleLookup(usize),
    Pregenerate,
    SetMetadata,
    Unlink,
    GetAllowlist,
    Invite,
    Uninvite,
}

impl Route {
    /// The scope a key needs here: that of the native route doing the same.
    fn scope(self) -> Scope {
        let native = match self {
            Self::Create => NativeRoute::CreateUser,
            Self::List | Self::Get | Self::Lookup(_) | Self::HandleLookup(_) => {
                NativeRoute::GetUser
            }
            Self::Delete => NativeRoute::DeleteUser,
            Self::Pregenerate => NativeRoute::AddWallet,
            Self::SetMetadata => NativeRoute::UpdateUser,
            Self::Unlink => NativeRoute::UnlinkAccount,
            Self::GetAllowlist => NativeRoute::ListAllowEntries,
            Self::Invite => NativeRoute::AddAllowEntry,
            Self::Uninvite => NativeRoute::DeleteAllowEntry,
        };
        native.scope()
    }
}

const ROUTES: [(Method, &str, Route); 21] = [
    (Method::POST, "/v1/users", Route::Create),
    (Method::GET, "/v1/users", Route::List),
    (Method::GET, "/v1/users/{id}", Route::Get),
    (Method::DELETE, "/v1/users/{id}", Route::Delete),
    (Method::POST, LOOKUPS[0].0, Route::Lookup(0)),
    (Method::POST, LOOKUPS[1].0, Route::Lookup(1)),
    (Method::POST, LOOKUPS[2].0, Route::Lookup(2)),
    (Method::POST, LOOKUPS[3].0, Route::Lookup(3)),
    (Method::POST, LOOKUPS[4].0, Route::Lookup(4)),
    (Method::POST, LOOKUPS[5].0, Route::Lookup(5)),
    (Method::POST, LOOKUPS[6].0, Route::Lookup(6)),
    (Method::POST, HANDLE_LOOKUPS[0].0, Route::HandleLookup(0)),
    (Method::POST, HANDLE_LOOKUPS[1].0, Route::HandleLookup(1)),
    (Method::POST, HANDLE_LOOKUPS[2].0, Route::HandleLookup(2)),
    (Method::POST, HANDLE_LOOKUPS[3].0, Route::HandleLookup(3)),
    (Method::POST, "/v1/users/{id}/wallets", Route::Pregenerate),
    (
        Method::POST,
        "/v1/users/{id}/custom_metadata",
        Route::SetMetadata,
    ),
    (
        Method::POST,
        "/v1/users/{id}/accounts/unlink",
        Route::Unlink,
    ),
    (
        Method::GET,
        "/v1/apps/{app_id}/allowlist",
        Route::GetAllowlist,
    ),
    (Method::POST, "/v1/apps/{app_id}/allowlist", Route::Invite),
    (
        Method::DELETE,
        "/v1/apps/{app_id}/allowlist",
        Route::Uninvite,
    ),
];

/// What the function runs on: the store, and how long deleted users are kept.
pub struct Privy<'a, S> {
    pub store: &'a S,
    pub retention: Duration,
}

/// Every route of the dialect: method and path template, under its prefix.
pub fn routes() -> Vec<(Method, String)> {
    ROUTES
        .iter()
        .map(|(method, template, _)| (method.clone(), format!("{PREFIX}{template}")))
        .collect()
}

/// Handles one request under [`PREFIX`]. Errors a retry cannot mend carry
/// `x-should-retry: false`, so Privy's client raises them at once.
pub async fn handle<S>(context: &Privy<'_, S>, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    privy::with_retry_hint(answer(context, request).await)
}

/// `error` in Privy's words.
pub fn refuse(request_id: &str, error: &ApiError) -> Response<Body> {
    privy::with_retry_hint(api::error_response_in(&ENVELOPE, request_id, error))
}

async fn answer<S>(context: &Privy<'_, S>, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    match serve(context, &request, &request_id).await {
        Ok(response) => response,
        Err(error) => api::error_response_in(&ENVELOPE, &request_id, &error),
    }
}

/// Routes, authenticates and reads the request, then answers it; what is refused before the
/// operation runs is the error (and claims no idempotency key).
async fn serve<S>(
    context: &Privy<'_, S>,
    request: &Request,
    request_id: &str,
) -> Result<Response<Body>, ApiError>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let store = context.store;
    let rest = api::route_path(request)
        .strip_prefix(PREFIX)
        .ok_or(ApiError::NotFound("route"))?;
    let (route, params) = routes::resolve_in(&ROUTES, request.method(), rest)?;
    let app = credentials::privy(store, request.headers(), route.scope()).await?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let id = privy::user_id(&param("id")).to_owned();
    let body = || api::json_body(request);
    let write = Write {
        store,
        app: &app,
        request,
        request_id,
    };
    let answered = |outcome| api::respond_in(&ENVELOPE, request_id, outcome);
    Ok(match route {
        Route::Create => {
            let new_user = privy::parse_create(&body()?)?;
            write
                .run(privy::user_reply, || async {
                    let user = users::create_user(store, &app, &new_user).await?;
                    Ok(privy::user_reply(&with_wallets(store, &app, user).await))
                })
                .await
        }
        Route::Pregenerate => {
            let chains = privy::parse_pregenerate(&body()?)?;
            write
                .run(privy::user_reply, || async {
                    for chain in chains {
                        users::request_wallet(store, &app, &id, chain).await?;
                    }
                    let user = users::get_user(store, &app, &id).await?;
                    Ok(privy::user_reply(&with_wallets(store, &app, user).await))
                })
                .await
        }
        Route::SetMetadata => {
            let metadata = privy::parse_custom_metadata(&body()?)?;
            write
                .run(privy::user_reply, || async {
                    let user = users::set_custom_metadata(store, &app, &id, &metadata).await?;
                    Ok(privy::user_reply(&user))
                })
                .await
        }
        Route::Unlink => {
            let (kind, handle) = privy::parse_unlink(&body()?)?;
            write
                .run(privy::user_reply, || async {
                    let user = users::unlink_account(store, &app, &id, &kind, &handle).await?;
                    Ok(privy::user_reply(&user))
                })
                .await
        }
        Route::Delete => {
            write
                .run(
                    |_| Reply::no_content(),
                    || async {
                        users::delete_user(store, &app, &id, context.retention).await?;
                        Ok(Reply::no_content())
                    },
                )
                .await
        }
        Route::Get => answered(
            users::get_user(store, &app, &id)
                .await
                .map(|user| privy::user_reply(&user))
                .map_err(ApiError::from),
        ),
        Route::List => answered(list(store, &app, request).await),
        Route::Lookup(index) => {
            let (_, field, kind) = LOOKUPS[index];
            let lookup = privy::lookup(kind, field, &body()?)?;
            answered(
                users::find_user(store, &app, &lookup)
                    .await
                    .map(|user| privy::user_reply(&user))
                    .map_err(ApiError::from),
            )
        }
        Route::HandleLookup(index) => {
            let handle = privy::lookup_handle(HANDLE_LOOKUPS[index].1, &body()?)?;
            answered(
                users::find_by_handle(store, &app, &handle)
                    .await
                    .map(|user| privy::user_reply(&user))
                    .map_err(ApiError::from),
            )
        }
        Route::GetAllowlist | Route::Invite | Route::Uninvite => {
            answered(allowlist_route(store, &app, &param("app_id"), route, request).await)
        }
    })
}

/// A write, run under the request's `privy-idempotency-key` (if any).
struct Write<'a, S> {
    store: &'a S,
    app: &'a AppId,
    request: &'a Request,
    request_id: &'a str,
}

impl<S: IdempotencyStore> Write<'_, S> {
    /// Runs `operation`; `reply` is the success its write commits with the key.
    async fn run<F, Fut>(
        &self,
        reply: impl Fn(&User) -> Reply + Send + Sync + 'static,
        operation: F,
    ) -> Response<Body>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Reply, ApiError>>,
    {
        let on_commit = idempotency::on_commit_in(&ENVELOPE, reply);
        let (store, app, request) = (self.store, self.app, self.request);
        idempotency::run_in(
            &ENVELOPE,
            store,
            app,
            request,
            self.request_id,
            on_commit,
            operation,
        )
        .await
    }
}

/// `user` once the wallets it waits for are made, or as it is after [`WALLET_WAIT`].
async fn with_wallets<S: UserStore>(store: &S, app: &AppId, mut user: User) -> User {
    let pending = |user: &User| {
        user.wallets
            .iter()
            .any(|w| w.status == WalletStatus::Pending)
    };
    let started = std::time::Instant::now();
    while pending(&user) && started.elapsed() < WALLET_WAIT {
        tokio::time::sleep(WALLET_POLL).await;
        match users::get_user(store, app, user.id.to_string().as_str()).await {
            Ok(latest) => user = latest,
            // The user is made; a failed re-read only leaves its wallets out of this answer.
            Err(_) => break,
        }
    }
    user
}

async fn list<S: UserStore>(store: &S, app: &AppId, request: &Request) -> Result<Reply, ApiError> {
    let (default, max) = privy::PAGE_LIMITS;
    let mut limit = default;
    let mut cursor = None;
    for (name, value) in api::query_params(request)? {
        match name.as_str() {
            "limit" => {
                limit = shared::domain::paging::parse_limit(&value, max)
                    .map_err(|e| ApiError::Validation(vec![e]))?
            }
            "cursor" => cursor = Some(value),
            other => {
                return Err(ApiError::Validation(vec![
                    shared::model::validation::FieldError::new(
                        other,
                        "unknown query parameter; expected limit or cursor",
                    ),
                ]));
            }
        }
    }
    let page = users::list_users(store, app, limit, cursor.as_deref(), &Default::default()).await?;
    Ok(privy::page_reply(&page.users, page.next_cursor.as_deref()))
}

/// The app's allowlist, as Privy's `apps().allowlist` sees it: the whole list, an added entry,
/// or the removal of one named by type and value.
async fn allowlist_route<S: AccessStore>(
    store: &S,
    app: &AppId,
    app_in_path: &str,
    route: Route,
    request: &Request,
) -> Result<Reply, ApiError> {
    if app_in_path != app.as_str() {
        return Err(ApiError::NotFound("app"));
    }
    match route {
        Route::Invite => {
            let named = privy::parse_allow_entry(&api::json_body(request)?)?;
            let (entry, _) = allowlist::add_entry(store, app, &named).await?;
            Ok(Reply::ok(privy::allow_entry_view(app.as_str(), &entry)))
        }
        Route::Uninvite => {
            let named = privy::parse_allow_entry(&api::json_body(request)?)?;
            let id = shared::model::access::allow_entry_id(&named.key);
            allowlist::delete_entry(store, app, &id).await?;
            Ok(Reply::ok(
                json!({"message": "Successfully removed from allowlist"}),
            ))
        }
        _ => {
            let mut entries = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = allowlist::list_entries(store, app, 100, cursor.as_deref()).await?;
                entries.extend(
                    page.entries
                        .iter()
                        .map(|e| privy::allow_entry_view(app.as_str(), e)),
                );
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Ok(Reply::ok(serde_json::Value::Array(entries)))
        }
    }
}
