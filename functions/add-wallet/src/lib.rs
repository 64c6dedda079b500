//! `POST /v1/users/{id}/wallets` `{"chain_type":"solana"}`: adds a wallet the user lacks or
//! re-queues a failed one (202, created asynchronously); a ready or pending wallet is returned
//! unchanged (200).

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::api::{self, Reply};
use shared::auth;
use shared::error::ApiError;
use shared::model::new_user::parse_wallet_request;
use shared::store::{AppStore, UserStore, WalletStore};
use shared::users::{self, WalletRequest};

/// Handles one request: the wallet with 202 or 200, or the error envelope.
pub async fn handle<S: UserStore + AppStore + WalletStore>(
    store: &S,
    request: Request,
) -> Response<Body> {
    let request_id = api::request_id(&request);
    api::respond(&request_id, add(store, &request).await)
}

async fn add<S: UserStore + AppStore + WalletStore>(
    store: &S,
    request: &Request,
) -> Result<Reply, ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request.headers()).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let body = api::json_body(request)?;
    let chain = parse_wallet_request(&body).map_err(ApiError::Validation)?;
    let (wallet, outcome) = users::request_wallet(store, &app, &id, chain).await?;
    Ok(match outcome {
        WalletRequest::Queued => Reply::with_status(StatusCode::ACCEPTED, wallet),
        WalletRequest::Unchanged => Reply::ok(wallet),
    })
}
