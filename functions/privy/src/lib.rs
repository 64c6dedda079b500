//! Privy's server API for users, spoken under `/privy` (see `shared::dialects::privy`), on the
//! native domain operations.

use std::time::Duration;

use http::{HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::dialects::credentials;
use shared::dialects::privy::{self, LOOKUPS, PrivyEnvelope};
use shared::domain::access::allowlist;
use shared::domain::users::{self, Lookup};
use shared::edge::api::{self, Reply};
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes;
use shared::model::{AppId, User, WalletStatus};
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
    Pregenerate,
    SetMetadata,
    Unlink,
    GetAllowlist,
    Invite,
    Uninvite,
}

const ROUTES: [(Method, &str, Route); 17] = [
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
    retry_hint(answer(context, request).await)
}

/// `error` in Privy's words.
pub fn refuse(request_id: &str, error: &ApiError) -> Response<Body> {
    retry_hint(api::error_response_in(&ENVELOPE, request_id, error))
}

/// `response`, telling Privy's client not to retry what a retry cannot mend.
fn retry_hint(mut response: Response<Body>) -> Response<Body> {
    if !privy::should_retry(response.status()) {
        response
            .headers_mut()
            .insert("x-should-retry", HeaderValue::from_static("false"));
    }
    response
}

async fn answer<S>(context: &Privy<'_, S>, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let store = context.store;
    let accepted = async {
        let rest = api::route_path(&request)
            .strip_prefix(PREFIX)
            .ok_or(ApiError::NotFound("route"))?;
        let (route, params) = routes::resolve_in(&ROUTES, request.method(), rest)?;
        let app = credentials::privy(store, request.headers()).await?;
        Ok::<_, ApiError>((route, params, app))
    };
    let (route, params, app) = match accepted.await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response_in(&ENVELOPE, &request_id, &error),
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let id = privy::user_id(&param("id")).to_owned();
    let body = || api::json_body(&request);
    match route {
        Route::Create => {
            let new_user = match body().and_then(|b| privy::parse_create(&b)) {
                Ok(new_user) => new_user,
                Err(error) => return api::error_response_in(&ENVELOPE, &request_id, &error),
            };
            let on_commit = idempotency::on_commit_in(&ENVELOPE, privy::user_reply);
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                &request,
                &request_id,
                on_commit,
                || async {
                    let user = users::create_user(store, &app, &new_user).await?;
                    Ok(privy::user_reply(&with_wallets(store, &app, user).await))
                },
            )
            .await
        }
        Route::Pregenerate => {
            let chains = match body().and_then(|b| privy::parse_pregenerate(&b)) {
                Ok(chains) => chains,
                Err(error) => return api::error_response_in(&ENVELOPE, &request_id, &error),
            };
            let on_commit = idempotency::on_commit_in(&ENVELOPE, privy::user_reply);
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                &request,
                &request_id,
                on_commit,
                || async {
                    for chain in chains {
                        users::request_wallet(store, &app, &id, chain).await?;
                    }
                    let user = users::get_user(store, &app, &id).await?;
                    Ok(privy::user_reply(&with_wallets(store, &app, user).await))
                },
            )
            .await
        }
        Route::SetMetadata => {
            let metadata = match body().and_then(|b| privy::parse_custom_metadata(&b)) {
                Ok(metadata) => metadata,
                Err(error) => return api::error_response_in(&ENVELOPE, &request_id, &error),
            };
            let on_commit = idempotency::on_commit_in(&ENVELOPE, privy::user_reply);
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                &request,
                &request_id,
                on_commit,
                || async {
                    let user = users::set_custom_metadata(store, &app, &id, &metadata).await?;
                    Ok(privy::user_reply(&user))
                },
            )
            .await
        }
        Route::Unlink => {
            let (kind, handle) = match body().and_then(|b| privy::parse_unlink(&b)) {
                Ok(unlink) => unlink,
                Err(error) => return api::error_response_in(&ENVELOPE, &request_id, &error),
            };
            let on_commit = idempotency::on_commit_in(&ENVELOPE, privy::user_reply);
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                &request,
                &request_id,
                on_commit,
                || async {
                    let user = users::unlink_account(store, &app, &id, &kind, &handle).await?;
                    Ok(privy::user_reply(&user))
                },
            )
            .await
        }
        Route::Delete => {
            let on_commit = idempotency::on_commit_in(&ENVELOPE, |_| Reply::no_content());
            idempotency::run_in(
                &ENVELOPE,
                store,
                &app,
                &request,
                &request_id,
                on_commit,
                || async {
                    users::delete_user(store, &app, &id, context.retention).await?;
                    Ok(Reply::no_content())
                },
            )
            .await
        }
        Route::Get => {
            let outcome = users::get_user(store, &app, &id)
                .await
                .map(|user| privy::user_reply(&user))
                .map_err(ApiError::from);
            api::respond_in(&ENVELOPE, &request_id, outcome)
        }
        Route::List => api::respond_in(&ENVELOPE, &request_id, list(store, &app, &request).await),
        Route::Lookup(index) => {
            let (_, field, kind) = LOOKUPS[index];
            let outcome = async {
                let identifier = privy::lookup_identifier(kind, field, &body()?)?;
                let user = users::find_user(store, &app, &Lookup(identifier)).await?;
                Ok(privy::user_reply(&user))
            };
            api::respond_in(&ENVELOPE, &request_id, outcome.await)
        }
        Route::GetAllowlist | Route::Invite | Route::Uninvite => {
            let outcome = allowlist_route(store, &app, &param("app_id"), route, &request).await;
            api::respond_in(&ENVELOPE, &request_id, outcome)
        }
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
    let page = users::list_users(store, app, limit, cursor.as_deref(), None).await?;
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
