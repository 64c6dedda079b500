//! Who may come in and who brought them:
//! - `GET`/`PATCH /v1/app/settings`: `{"allowlist_required": bool, "networks": [...],
//!   "signing_policy": {...}}`.
//! - `GET`/`PUT`/`DELETE /v1/users/{id}/signing-policy`: a user's override of the app's
//!   signing policy (the rules it sets replace the app's for this user).
//! - `POST /v1/allowlist` `{"type": …, "value": …}` (201, or 200 with the entry already there),
//!   `GET /v1/allowlist?limit=&cursor=`, `DELETE /v1/allowlist/{id}`.
//! - `POST /v1/invitations` and `POST /v1/users/{id}/invitations` (from that user)
//!   `{"identifier": {"type": …, "value": …}, "campaign": …}`; `GET` of both lists them, newest
//!   first; `DELETE /v1/invitations/{id}` revokes an open one.
//! - `GET`/`POST /v1/keys`, `DELETE /v1/keys/{id}`: the app's API keys ([`keys`]).
//!
//! `Idempotency-Key` makes a retried write safe, but for issuing a key: its response carries
//! the key, which is never stored in plain text, so it could not be replayed (the header is
//! ignored, as registering a webhook endpoint ignores it; a retry issues a second key).

pub mod keys;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use shared::domain::access::settings::SettingsChange;
use shared::domain::access::{allowlist, invitations, settings};
use shared::domain::paging;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::{self, Resolved, Route};
use shared::model::ApiKeyRecord;
use shared::model::access::{self, AccessKind, INVITABLE, Named};
use shared::model::validation::{FieldError, expect_str, json_type};
use shared::model::{network, policy};
use shared::ports::access::AccessStore;
use shared::ports::sealer::KeySealer;
use shared::ports::{AppAdmin, AppStore, UserStore};

/// The default and largest page sizes.
const PAGE_LIMITS: (usize, usize) = (20, 100);

/// Handles one request to an access route; `sealer` seals the client secrets of the keys it
/// issues (the client-secret purpose).
pub async fn handle<S, K>(store: &S, sealer: &K, request: Request) -> Response<Body>
where
    S: AccessStore + UserStore + AppStore + AppAdmin + IdempotencyStore,
    K: KeySealer,
{
    let request_id = api::request_id(&request);
    let resolved = match routes::of_request(&request) {
        Ok(resolved) => resolved,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let caller = match auth::authenticate_as(store, &request).await {
        Ok(caller) => caller,
        Err(error) => return api::error_response(&request_id, &error),
    };
    let operation = || serve(store, sealer, &request, &resolved, &caller);
    match resolved.route {
        Route::GetSettings
        | Route::GetUserPolicy
        | Route::ListAllowEntries
        | Route::ListInvitations
        | Route::ListUserInvitations
        | Route::ListApiKeys
        // Its response carries the new key: storing it for a replay would store the key.
        | Route::CreateApiKey => api::respond(&request_id, operation().await),
        _ => {
            let on_commit = idempotency::commit::OnCommit::Nothing;
            let app = &caller.app_id;
            idempotency::run(store, app, &request, &request_id, on_commit, operation).await
        }
    }
}

async fn serve<S, K>(
    store: &S,
    sealer: &K,
    request: &Request,
    resolved: &Resolved,
    caller: &ApiKeyRecord,
) -> Result<Reply, ApiError>
where
    S: AccessStore + UserStore + AppAdmin,
    K: KeySealer,
{
    let app = &caller.app_id;
    let id = || {
        resolved
            .params
            .iter()
            .find(|(name, _)| name == "id")
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    Ok(match resolved.route {
        Route::GetSettings => Reply::ok(settings::get_settings(store, app).await?),
        Route::ChangeSettings => {
            let change = parse_settings(&api::json_body(request)?)?;
            Reply::ok(settings::change_settings(store, app, &change).await?)
        }
        Route::AddAllowEntry => {
            let named = access::parse_named("", &api::json_body(request)?, &AccessKind::ALL)
                .map_err(ApiError::Validation)?;
            let (entry, created) = allowlist::add_entry(store, app, &named).await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Reply::with_status(status, entry)
        }
        Route::ListAllowEntries => {
            let (limit, cursor) = page_query(request)?;
            Reply::ok(allowlist::list_entries(store, app, limit, cursor.as_deref()).await?)
        }
        Route::DeleteAllowEntry => {
            allowlist::delete_entry(store, app, &id()).await?;
            Reply::no_content()
        }
        Route::CreateInvitation | Route::InviteAsUser => {
            let (named, campaign) = parse_invitation(&api::json_body(request)?)?;
            let inviter = (resolved.route == Route::InviteAsUser).then(id);
            let invitation =
                invitations::invite(store, app, inviter.as_deref(), &named, campaign.as_deref())
                    .await?;
            Reply::created(invitation)
        }
        Route::ListInvitations | Route::ListUserInvitations => {
            let (limit, cursor) = page_query(request)?;
            let inviter = (resolved.route == Route::ListUserInvitations).then(id);
            Reply::ok(
                invitations::list_invitations(
                    store,
                    app,
                    inviter.as_deref(),
                    limit,
                    cursor.as_deref(),
                )
                .await?,
            )
        }
        Route::RevokeInvitation => Reply::ok(invitations::revoke(store, app, &id()).await?),
        Route::GetUserPolicy => Reply::ok(settings::user_policy(store, app, &id()).await?),
        Route::SetUserPolicy => {
            let policy = policy::parse_policy("signing_policy", &api::json_body(request)?)
                .map_err(ApiError::Validation)?;
            Reply::ok(settings::set_user_policy(store, app, &id(), &policy).await?)
        }
        Route::DeleteUserPolicy => {
            settings::clear_user_policy(store, app, &id()).await?;
            Reply::no_content()
        }
        Route::ListApiKeys => keys::list(store, caller).await?,
        Route::CreateApiKey => {
            keys::create(store, sealer, caller, &api::json_body(request)?).await?
        }
        Route::RevokeApiKey => keys::revoke(store, caller, &id()).await?,
        _ => return Err(ApiError::NotFound("route")),
    })
}

/// `limit` (1-100, default 20) and `cursor`.
fn page_query(request: &Request) -> Result<(usize, Option<String>), ApiError> {
    let (default, max) = PAGE_LIMITS;
    let mut limit = default;
    let mut cursor = None;
    for (name, value) in api::query_params(request)? {
        match name.as_str() {
            "limit" => {
                limit = paging::parse_limit(&value, max)
                    .map_err(|error| ApiError::Validation(vec![error]))?
            }
            "cursor" => cursor = Some(value),
            _ => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    name,
                    "unknown query parameter; expected limit or cursor",
                )]));
            }
        }
    }
    Ok((limit, cursor))
}

/// `{"allowlist_required": bool, "networks": [...], "signing_policy": {...}}`: each field given
/// replaces the current setting.
fn parse_settings(body: &Value) -> Result<SettingsChange, ApiError> {
    let object = object_of(body)?;
    let mut change = SettingsChange::default();
    let mut errors = Vec::new();
    for (name, value) in object {
        match (name.as_str(), value) {
            ("allowlist_required", Value::Bool(required)) => {
                change.allowlist_required = Some(*required)
            }
            ("allowlist_required", other) => errors.push(FieldError::new(
                name,
                format!("must be true or false, got {}", json_type(other)),
            )),
            ("networks", value) => match network::parse_networks(value) {
                Ok(networks) => change.networks = Some(networks),
                Err(mut more) => errors.append(&mut more),
            },
            ("signing_policy", value) => match policy::parse_policy(name, value) {
                Ok(policy) => change.signing_policy = Some(policy),
                Err(mut more) => errors.append(&mut more),
            },
            _ => errors.push(FieldError::new(
                name,
                "unknown setting; expected allowlist_required, networks or signing_policy",
            )),
        }
    }
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `{"identifier": {"type": …, "value": …}, "campaign": …}`.
fn parse_invitation(body: &Value) -> Result<(Named, Option<String>), ApiError> {
    let object = object_of(body)?;
    if let Some(key) = object
        .keys()
        .find(|key| !matches!(key.as_str(), "identifier" | "campaign"))
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            key,
            "unknown field; expected identifier and campaign",
        )]));
    }
    let identifier = object.get("identifier").ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "identifier",
            "is required: {\"type\": …, \"value\": …}",
        )])
    })?;
    let named =
        access::parse_named("identifier", identifier, &INVITABLE).map_err(ApiError::Validation)?;
    let campaign = match object.get("campaign") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            expect_str("campaign", value)
                .map_err(|error| ApiError::Validation(vec![error]))?
                .to_owned(),
        ),
    };
    Ok((named, campaign))
}

fn object_of(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            "",
            format!("the body must be a JSON object, got {}", json_type(body)),
        )])
    })
}
