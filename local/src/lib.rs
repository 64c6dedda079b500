//! The API served locally: a small HTTP/1.1 server that routes by the same route table as
//! API Gateway and calls the same handlers the Lambda functions run, with the request shaped
//! as `lambda_http` shapes an API Gateway event (path and query parameters included).

pub mod docs;
pub mod export_runs;
pub mod listen;
pub mod private_files;
pub mod queue;
pub mod request_log;
pub mod stream;
pub mod workers;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::adapters::DynamoStore;
use shared::adapters::chain_node::HttpNode;
use shared::adapters::sealer::LocalSealer;
use shared::dialects::credentials::ClientSecrets;
use shared::domain::webhooks::destination::DestinationPolicy;
use shared::edge::api;
use shared::edge::error::ApiError;
use shared::edge::routes::{self, Route};
use tokio::net::TcpListener;

use crate::queue::LocalQueue;

/// Local mode: webhooks may go to loopback (a receiver on this machine).
pub const LOCAL_DESTINATIONS: DestinationPolicy = DestinationPolicy {
    allow_loopback: true,
    webhook_ports: &[],
};

/// What the local stack runs on: the store, the dev-only key service, the delivery queue.
#[derive(Clone)]
pub struct Services {
    pub store: DynamoStore,
    /// Seals webhook secrets (locally the one dev key-encryption key serves every purpose).
    pub sealer: LocalSealer,
    pub queue: Arc<LocalQueue>,
    /// The chains' nodes (sends, and filling transactions); loopback allowed, for anvil.
    pub node: Arc<HttpNode>,
    /// Where exports are written (the S3 bucket's stand-in).
    pub exports: shared::adapters::export_files::DirectoryFiles,
}

/// The variable naming the local chain's node (anvil, which `scripts/run-local.sh` starts):
/// the demo app sends through it.
pub const LOCAL_CHAIN_VAR: &str = "LOCAL_CHAIN_RPC_URL";

/// The demo app's networks: Ethereum (the default), and the local node as chain 31337.
pub fn demo_networks(rpc_url: &str) -> Vec<shared::model::network::Network> {
    let mut networks = shared::model::network::default_networks();
    networks.push(shared::model::network::Network {
        chain_type: shared::model::ChainType::Ethereum,
        chain_id: Some(31337),
        cluster: None,
        name: "Anvil (local)".to_owned(),
        // A local chain has no explorer; `.invalid` names none, plainly.
        explorer_url: "https://explorer.invalid/address/{address}".to_owned(),
        rpc_url: Some(rpc_url.to_owned()),
    });
    networks
}

/// The local stack's client of the chains' nodes: a node on this machine is allowed.
pub fn local_node() -> Arc<HttpNode> {
    match HttpNode::new(LOCAL_DESTINATIONS) {
        Ok(node) => Arc::new(node),
        // Building a TLS client fails only without any root certificate provider: a broken
        // build, not a request.
        Err(error) => panic!("the node client: {error}"),
    }
}

/// What every request needs: the services, and the settings each Lambda reads at cold start.
struct Context {
    services: Services,
    retention: Duration,
}

/// Serves the API on `listener` until the task is dropped. Settings are read once, here: an
/// invalid one stops the server at start rather than a request later. Webhook URLs may point
/// at loopback: this is local mode.
pub async fn serve(listener: TcpListener, services: Services) -> std::io::Result<()> {
    let retention = shared::config::deleted_user_retention().map_err(std::io::Error::other)?;
    let context = Arc::new(Context {
        services,
        retention,
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let context = Arc::clone(&context);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let context = Arc::clone(&context);
                async move { Ok::<_, Infallible>(handle(&context, request).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

/// Routes one HTTP request to its handler, as API Gateway and Lambda would.
async fn handle(
    context: &Context,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = if method == http::Method::GET
        && let Some(page) = docs::serve(&path)
    {
        page
    } else if method == http::Method::GET
        && let Some(page) = shared::edge::console::serve(&path, console_file)
    {
        page
    } else {
        match to_lambda_request(request).await {
            // A panic is an enveloped 500, as under Lambda (`shared::edge::lambda::serve`).
            Ok(request) => {
                let route = |request| dispatch(&context.services, context.retention, request);
                shared::edge::lambda::catch_panics(&route, request).await
            }
            Err(error) => refuse(&path, &api::new_request_id(), &error),
        }
    };
    // The route's template, not the path: paths carry emails, phone numbers and other
    // identifiers (`/v1/users/{id}/linked-accounts/email/ada@example.com`).
    let route = request_log::logged_route(&method, &path);
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
}

/// The console's build, from the repository this server was built in (`CONSOLE_DIR` overrides
/// it): read at each request, so a rebuilt console needs no restart.
const CONSOLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../console/dist");

fn console_file(name: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    let dir = std::env::var("CONSOLE_DIR").unwrap_or_else(|_| CONSOLE_DIR.to_owned());
    std::fs::read(std::path::Path::new(&dir).join(name))
        .ok()
        .map(std::borrow::Cow::Owned)
}

/// A request refused before its function runs (a body over the limit), in the words of the
/// surface its path belongs to, as that function would have refused it.
fn refuse(path: &str, request_id: &str, error: &ApiError) -> Response<Body> {
    match shared::dialects::function_of(path) {
        Some("onboarding") => onboarding::refuse(path, request_id, error),
        Some("original") => original::refuse(request_id, error),
        Some("privy") | Some("wallet-rpc") => privy::refuse(request_id, error),
        Some("ost") => ost::refuse(request_id, error),
        _ => api::error_response(request_id, error),
    }
}

/// The signing function's context on the local services.
fn wallet_rpc_of(
    services: &Services,
) -> wallet_rpc::WalletRpc<'_, DynamoStore, LocalSealer, HttpNode> {
    wallet_rpc::WalletRpc {
        store: &services.store,
        sealer: &services.sealer,
        node: services.node.as_ref(),
    }
}

/// Routes one request (shaped as `lambda_http` shapes an API Gateway event) to the handler
/// its function runs, as API Gateway would; `retention` is the deleted-user retention.
pub async fn dispatch(
    services: &Services,
    retention: Duration,
    request: Request,
) -> Response<Body> {
    let store = &services.store;
    // Opening a secret under the local key is microseconds: no cache across requests.
    let secrets = || ClientSecrets::new(services.sealer.clone());
    match shared::dialects::function_of(api::route_path(&request)) {
        Some("onboarding") => return onboarding::handle(store, request).await,
        Some("original") => {
            let secrets = secrets();
            let context = original::Original {
                store,
                secrets: &secrets,
            };
            return original::handle(&context, request).await;
        }
        Some("privy") => {
            let context = privy::Privy { store, retention };
            return privy::handle(&context, request).await;
        }
        Some("ost") => {
            let secrets = secrets();
            let context = ost::Ost {
                store,
                secrets: &secrets,
            };
            return ost::handle(&context, request).await;
        }
        // Privy's wallet RPC, which API Gateway routes to the signing function.
        Some("wallet-rpc") => return wallet_rpc::handle(&wallet_rpc_of(services), request).await,
        _ => {}
    }
    let resolved = match routes::resolve(request.method(), api::route_path(&request)) {
        Ok(resolved) => resolved,
        Err(_) => return fallback::handle(&request),
    };
    let params: HashMap<String, String> = resolved.params.into_iter().collect();
    let request = request.with_path_parameters(params);
    match resolved.route {
        Route::CreateUser => create_user::handle(store, request).await,
        Route::GetUser | Route::LookupUser | Route::LookupUserByBody => {
            get_user::handle(store, request).await
        }
        Route::FindOrCreateUser => find_or_create_user::handle(store, request).await,
        Route::AddWallet => add_wallet::handle(store, request).await,
        Route::WalletRpc => wallet_rpc::handle(&wallet_rpc_of(services), request).await,
        Route::UpdateUser | Route::DisableUser | Route::EnableUser => {
            update_user::handle(store, request).await
        }
        Route::LinkAccount => link_account::handle(store, request).await,
        Route::UnlinkAccount => unlink_account::handle(store, request).await,
        Route::ImportUsers => import_users::handle(store, request).await,
        Route::StartExport | Route::GetExport => {
            let runs = export_runs::LocalRuns {
                store: store.clone(),
                files: services.exports.clone(),
            };
            let context = exports::Services {
                store,
                files: &services.exports,
                runs: &runs,
            };
            exports::handle(&context, request).await
        }
        Route::DeleteUser | Route::RestoreUser => {
            delete_user::handle(store, retention, request).await
        }
        Route::CreateWebhook
        | Route::ListWebhooks
        | Route::DeleteWebhook
        | Route::RotateWebhookSecret
        | Route::ListDeliveries
        | Route::ListUserEvents
        | Route::RedeliverEvent => {
            let webhooks = webhooks::Webhooks {
                store,
                sealer: &services.sealer,
                queue: services.queue.as_ref(),
                policy: LOCAL_DESTINATIONS,
            };
            webhooks::handle(&webhooks, request).await
        }
        Route::GetSettings
        | Route::ChangeSettings
        | Route::AddAllowEntry
        | Route::ListAllowEntries
        | Route::DeleteAllowEntry
        | Route::CreateInvitation
        | Route::ListInvitations
        | Route::RevokeInvitation
        | Route::GetUserPolicy
        | Route::SetUserPolicy
        | Route::DeleteUserPolicy
        | Route::InviteAsUser
        | Route::ListUserInvitations
        | Route::ListApiKeys
        | Route::CreateApiKey
        | Route::RevokeApiKey => access::handle(store, &services.sealer, request).await,
    }
}

/// Reads the body (refusing more than the API's limit without buffering it, and a
/// `Content-Length` over it before reading any) and attaches the decoded query parameters, as
/// API Gateway's event does.
async fn to_lambda_request(request: hyper::Request<Incoming>) -> Result<Request, ApiError> {
    let (parts, body) = request.into_parts();
    if body.size_hint().lower() > api::MAX_BODY_BYTES as u64 {
        return Err(ApiError::PayloadTooLarge {
            limit: api::MAX_BODY_BYTES,
        });
    }
    let bytes = Limited::new(body, api::MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.downcast_ref::<LengthLimitError>().is_some() {
                ApiError::PayloadTooLarge {
                    limit: api::MAX_BODY_BYTES,
                }
            } else {
                ApiError::MalformedJson("the request body could not be read".to_owned())
            }
        })?
        .to_bytes();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut query_map: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in pairs {
        query_map.entry(name).or_default().push(value);
    }
    Ok(http::Request::from_parts(parts, body).with_query_string_parameters(query_map))
}
