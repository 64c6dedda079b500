//! The API served locally: a small HTTP/1.1 server that routes by the same route table as
//! API Gateway and calls the same handlers the Lambda functions run, with the request shaped
//! as `lambda_http` shapes an API Gateway event (path and query parameters included).

pub mod stream;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::api;
use shared::error::ApiError;
use shared::routes::{self, Route};
use shared::store::DynamoStore;
use tokio::net::TcpListener;

/// Serves the API on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, store: DynamoStore) -> std::io::Result<()> {
    let store = Arc::new(store);
    loop {
        let (stream, _) = listener.accept().await?;
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let store = Arc::clone(&store);
                async move { Ok::<_, Infallible>(handle(&store, request).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

/// Routes one HTTP request to its handler, as API Gateway and Lambda would.
pub async fn handle(
    store: &DynamoStore,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match to_lambda_request(request).await {
        Ok(request) => dispatch(store, request).await,
        Err(error) => api::error_response(&uuid_like(), &error),
    };
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
}

async fn dispatch(store: &DynamoStore, request: Request) -> Response<Body> {
    let resolved = match routes::resolve(request.method(), api::route_path(&request)) {
        Ok(resolved) => resolved,
        Err(_) => return fallback::handle(&request),
    };
    let params: HashMap<String, String> = resolved.params.into_iter().collect();
    let request = request.with_path_parameters(params);
    match resolved.route {
        Route::CreateUser => create_user::handle(store, request).await,
        Route::GetUser | Route::LookupUser => get_user::handle(store, request).await,
        Route::FindOrCreateUser => find_or_create_user::handle(store, request).await,
        Route::AddWallet => add_wallet::handle(store, request).await,
        Route::UpdateUser => update_user::handle(store, request).await,
        Route::LinkAccount => link_account::handle(store, request).await,
        Route::UnlinkAccount => unlink_account::handle(store, request).await,
        Route::ImportUsers => import_users::handle(store, request).await,
        Route::DeleteUser => {
            let default = shared::config::DEFAULT_RETENTION_DAYS * 24 * 60 * 60;
            let retention = shared::config::deleted_user_retention()
                .unwrap_or(std::time::Duration::from_secs(default));
            delete_user::handle(store, retention, request).await
        }
    }
}

/// Reads the body (refusing more than the API's limit without buffering it) and attaches the
/// decoded query parameters, as API Gateway's event does.
async fn to_lambda_request(request: hyper::Request<Incoming>) -> Result<Request, ApiError> {
    let (parts, body) = request.into_parts();
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

fn uuid_like() -> String {
    api::request_id(&http::Request::new(Body::Empty))
}
