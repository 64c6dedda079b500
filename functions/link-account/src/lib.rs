//! `POST /v1/users/{id}/linked-accounts`: links one account (a wallet, a phone, a social login)
//! to the user, claiming it for the app (409 if another user holds it). Linking an account the
//! user already has changes nothing (200).

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::domain::users;
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::validation::Violations;
use shared::model::{AppId, LinkedAccount};
use shared::ports::access::AccessStore;
use shared::ports::{AppStore, UserStore};

/// Handles one request: 201 (linked) or 200 (already linked) with the user, or the envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AccessStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, id, account) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    // The only write is a new link (201); an account linked already is read, not written.
    let on_commit = idempotency::on_commit(|user| Reply::user(StatusCode::CREATED, user));
    idempotency::run(store, &app, &request, &request_id, on_commit, || async {
        let (user, linked) = users::link_account(store, &app, &id, &account).await?;
        let status = if linked {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(Reply::user(status, &user))
    })
    .await
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<(AppId, String, LinkedAccount), ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let body = api::json_body(request)?;
    let mut violations = Violations::default();
    match LinkedAccount::parse("", &body, &mut violations) {
        Some(account) if violations.is_empty() => Ok((app, id, account)),
        _ => Err(ApiError::Validation(violations.into_errors())),
    }
}
