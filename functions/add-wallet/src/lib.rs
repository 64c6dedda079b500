//! `POST /v1/users/{id}/wallets` `{"chain_type":"solana"}`: adds a wallet the user lacks or
//! re-queues a failed one (202, created asynchronously); a ready or pending wallet is returned
//! unchanged (200).

use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::domain::users::{self, WalletRequest};
use shared::edge::api::{self, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::model::new_user::parse_wallet_request;
use shared::model::{AppId, ChainType, User};
use shared::ports::{AppStore, UserStore};

/// Handles one request: the wallet with 202 or 200, or the error envelope.
pub async fn handle<S>(store: &S, request: Request) -> Response<Body>
where
    S: UserStore + AppStore + IdempotencyStore,
{
    let request_id = api::request_id(&request);
    let (app, id, chain) = match accept(store, &request).await {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response(&request_id, &error),
    };
    // The only write queues the wallet (202); a ready or pending one is read, not written.
    let queued = move |user: &User| {
        let wallet = user.wallets.iter().find(|w| w.chain_type == chain);
        Reply::with_status(StatusCode::ACCEPTED, wallet)
    };
    idempotency::run(
        store,
        &app,
        &request,
        &request_id,
        idempotency::on_commit(queued),
        || async {
            let (wallet, outcome) = users::request_wallet(store, &app, &id, chain).await?;
            Ok(match outcome {
                WalletRequest::Queued => Reply::with_status(StatusCode::ACCEPTED, wallet),
                WalletRequest::Unchanged => Reply::ok(wallet),
            })
        },
    )
    .await
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(
    store: &S,
    request: &Request,
) -> Result<(AppId, String, ChainType), ApiError> {
    api::require_method(request, &[Method::POST])?;
    let app = auth::authenticate(store, request).await?;
    let id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let body = api::json_body(request)?;
    let chain = parse_wallet_request(&body).map_err(ApiError::Validation)?;
    Ok((app, id, chain))
}
