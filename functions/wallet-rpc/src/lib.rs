//! `POST /v1/users/{id}/wallets/{chain_type}/rpc` `{"method": …, "params": …}`: signs with the
//! user's wallet (and, for sends, broadcasts) under the app's signing policy. Also Privy's
//! `POST /privy/v1/wallets/{wallet_id}/rpc` (see `shared::dialects::privy::wallets`): the one
//! function that may open wallet keys (`kms:Decrypt` in the wallet context, in
//! `template.yaml`) serves both.

use http::Method;
use lambda_http::{Body, Request, Response};
use shared::dialects::credentials;
use shared::dialects::privy::{self, PrivyEnvelope, wallets as privy_wallets};
use shared::domain::wallets::KeySealer;
use shared::domain::wallets::rpc::{Caller, Signed};
use shared::edge::api::{self, Envelope, Reply};
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, IdempotencyStore};
use shared::edge::routes::Route;
use shared::model::rpc::{RpcRequest, parse_rpc};
use shared::model::{AppId, ChainType};
use shared::ports::AppStore;
use shared::ports::signing::{ChainNode, SigningStore};

/// What the function runs on: the store, the key service that opens wallet keys, the nodes
/// (the signing path's own context).
pub use shared::domain::wallets::rpc::Wallets as WalletRpc;

/// A request that passed authentication and validation.
struct Accepted {
    app: AppId,
    key_id: String,
    user_id: String,
    chain: ChainType,
    request: RpcRequest,
}

static PRIVY: PrivyEnvelope = PrivyEnvelope;

/// Handles one request: `{"data": {signature…}}`, or the error envelope (Privy's `{method,
/// data}` and errors on its path).
pub async fn handle<S, K, N>(context: &WalletRpc<'_, S, K, N>, request: Request) -> Response<Body>
where
    S: SigningStore + AppStore + IdempotencyStore,
    K: KeySealer,
    N: ChainNode,
{
    if let Some(wallet_id) = privy_wallets::rpc_wallet_id(api::route_path(&request)) {
        let wallet_id = wallet_id.to_owned();
        return privy::with_retry_hint(handle_privy(context, &wallet_id, request).await);
    }
    let accepted = accept(context.store, &request).await;
    sign_in(&api::Native, context, &request, accepted, |signed, _| {
        // A send its node did not confirm is 202: accepted, outcome unknown, the signed
        // transaction in the answer (and replayed under the idempotency key).
        let status = if signed.unconfirmed {
            http::StatusCode::ACCEPTED
        } else {
            http::StatusCode::OK
        };
        Reply::with_status(status, signed)
    })
    .await
}

/// Privy's wallet RPC: the same signing, named by Privy's wallet id, answered in its words.
async fn handle_privy<S, K, N>(
    context: &WalletRpc<'_, S, K, N>,
    wallet_id: &str,
    request: Request,
) -> Response<Body>
where
    S: SigningStore + AppStore + IdempotencyStore,
    K: KeySealer,
    N: ChainNode,
{
    let accepted = accept_privy(context.store, wallet_id, &request).await;
    sign_in(&PRIVY, context, &request, accepted, |signed, chain| {
        Reply::ok(privy_wallets::answer(&signed, chain))
    })
    .await
}

/// Signs what was accepted (or answers why not) in `envelope`'s words, `answer` making the
/// success. A retried send under the same idempotency key replays the first answer: it never
/// signs or broadcasts twice.
async fn sign_in<E, S, K, N>(
    envelope: &E,
    context: &WalletRpc<'_, S, K, N>,
    request: &Request,
    accepted: Result<Accepted, ApiError>,
    answer: impl Fn(Signed, ChainType) -> Reply,
) -> Response<Body>
where
    E: Envelope,
    S: SigningStore + AppStore + IdempotencyStore,
    K: KeySealer,
    N: ChainNode,
{
    let request_id = api::request_id(request);
    let accepted = match accepted {
        Ok(accepted) => accepted,
        Err(error) => return api::error_response_in(envelope, &request_id, &error),
    };
    idempotency::run_in(
        envelope,
        context.store,
        &accepted.app,
        request,
        &request_id,
        idempotency::commit::OnCommit::Nothing,
        || async {
            let caller = Caller {
                app: &accepted.app,
                key_id: &accepted.key_id,
            };
            let signed = context
                .call(caller, &accepted.user_id, accepted.chain, accepted.request)
                .await?;
            Ok(answer(signed, accepted.chain))
        },
    )
    .await
}

/// Privy's request: its credentials, its wallet id (whose chain the body's `chain_type`, when
/// given, must agree with), the native body.
async fn accept_privy<S: AppStore>(
    store: &S,
    wallet_id: &str,
    request: &Request,
) -> Result<Accepted, ApiError> {
    api::require_method(request, &[Method::POST])?;
    let scope = Route::WalletRpc.scope();
    let (app, key_id) = credentials::privy_key(store, request.headers(), scope).await?;
    let (user_id, chain) =
        privy_wallets::parse_wallet_id(wallet_id).ok_or(ApiError::NotFound("wallet"))?;
    let body = api::json_body(request)?;
    if let Some(named) = body.get("chain_type").and_then(|value| value.as_str())
        && named != chain.as_str()
    {
        return Err(ApiError::Validation(vec![
            shared::model::validation::FieldError::new(
                "chain_type",
                format!("the wallet is a {chain} wallet"),
            ),
        ]));
    }
    let request = parse_rpc(chain, &body).map_err(ApiError::Validation)?;
    Ok(Accepted {
        app,
        key_id,
        user_id: user_id.to_owned(),
        chain,
        request,
    })
}

/// Authenticates and validates; a request refused here claims no idempotency key.
async fn accept<S: AppStore>(store: &S, request: &Request) -> Result<Accepted, ApiError> {
    api::require_method(request, &[Method::POST])?;
    let token = auth::presented_key(request.headers())?;
    let app = auth::authenticate_key(store, token, Route::WalletRpc.scope()).await?;
    let key_id = auth::key_id_of(token).unwrap_or_default().to_owned();
    let user_id = api::path_param(request, "id").ok_or(ApiError::NotFound("user"))?;
    let chain = api::path_param(request, "chain_type")
        .as_deref()
        .and_then(ChainType::parse)
        .ok_or(ApiError::NotFound("wallet"))?;
    let body = api::json_body(request)?;
    let request = parse_rpc(chain, &body).map_err(ApiError::Validation)?;
    Ok(Accepted {
        app,
        key_id,
        user_id,
        chain,
        request,
    })
}
