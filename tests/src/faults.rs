//! A fault-injecting proxy between the SDK and DynamoDB Local: requests pass through unchanged
//! until a test injects a fault for an operation (`x-amz-target`), which then hits the next
//! `times` matching requests: throttling or an internal error answered by the proxy (the store
//! never sees the request), a reset before forwarding (never applied), a reset after
//! forwarding (applied, but the caller never hears so), or added latency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use shared::adapters::DynamoStore;
use tokio::net::TcpListener;

/// What happens to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 400 `ThrottlingException`, as DynamoDB answers when a partition is over its limit.
    Throttle,
    /// 500 `InternalServerError`.
    InternalError,
    /// The connection closes before the request is forwarded: nothing was applied.
    ResetBefore,
    /// The request is forwarded and applied, then the connection closes unanswered.
    ResetAfter,
    /// The request waits this long, then is forwarded.
    Delay(Duration),
    /// A transaction cancelled because another was writing the same items, as DynamoDB
    /// answers a collision: `TransactionCanceledException`, each reason `TransactionConflict`.
    TransactionConflict,
}

impl Fault {
    /// The fault's name, what [`FaultyStore::applied`] counts by.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Throttle => "Throttle",
            Self::InternalError => "InternalError",
            Self::ResetBefore => "ResetBefore",
            Self::ResetAfter => "ResetAfter",
            Self::Delay(_) => "Delay",
            Self::TransactionConflict => "TransactionConflict",
        }
    }
}

#[derive(Debug)]
struct Rule {
    operation: Option<String>,
    fault: Fault,
    remaining: u32,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    /// Requests seen per operation (faulted or not).
    seen: HashMap<String, u32>,
    /// Faults applied per kind.
    applied: HashMap<&'static str, u32>,
}

/// The proxy; its `endpoint` takes the place of DynamoDB Local's.
pub struct FaultyStore {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyStore {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultyStore {
    /// A proxy to `upstream` (DynamoDB Local's URL) on a free loopback port.
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let client = shared::tls::reqwest_builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        let server = tokio::spawn(serve(
            listener,
            Arc::clone(&state),
            client,
            upstream.trim_end_matches('/').to_owned(),
        ));
        Self {
            endpoint,
            state,
            server,
        }
    }

    /// `fault` hits the next `times` requests of `operation` (any operation if `None`).
    pub fn inject(&self, operation: Option<&str>, fault: Fault, times: u32) {
        self.state.lock().unwrap().rules.push(Rule {
            operation: operation.map(str::to_owned),
            fault,
            remaining: times,
        });
    }

    /// Drops every pending fault.
    pub fn heal(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// Requests of `operation` that reached the proxy.
    pub fn seen(&self, operation: &str) -> u32 {
        let state = self.state.lock().unwrap();
        state.seen.get(operation).copied().unwrap_or(0)
    }

    /// Faults applied so far, by kind (`Throttle`, `ResetAfter`, ...).
    pub fn applied(&self) -> HashMap<&'static str, u32> {
        self.state.lock().unwrap().applied.clone()
    }

    /// A store on `table` whose every call goes through the proxy, with the SDK configuration
    /// the functions use (its retries and timeouts).
    pub async fn store(&self, table: &str) -> DynamoStore {
        let client = shared::config::dynamodb_client(Some(&self.endpoint)).await;
        DynamoStore::new(client, table)
    }
}

async fn serve(
    listener: TcpListener,
    state: Arc<Mutex<State>>,
    client: reqwest::Client,
    upstream: String,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let (state, client, upstream) = (Arc::clone(&state), client.clone(), upstream.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (state, client, upstream) =
                    (Arc::clone(&state), client.clone(), upstream.clone());
                async move { handle(&state, &client, &upstream, request).await }
            });
            // A service error makes hyper drop the connection unanswered: the reset.
            http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
                .ok();
        });
    }
}

#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected connection reset")
    }
}

impl std::error::Error for Reset {}

async fn handle(
    state: &Mutex<State>,
    client: &reqwest::Client,
    upstream: &str,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Reset> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.split_once('.'))
        .map(|(_, operation)| operation.to_owned())
        .unwrap_or_default();
    let fault = {
        let mut state = state.lock().unwrap();
        *state.seen.entry(operation.clone()).or_default() += 1;
        let rule = state.rules.iter_mut().find(|rule| {
            rule.remaining > 0 && rule.operation.as_ref().is_none_or(|op| *op == operation)
        });
        let fault = rule.map(|rule| {
            rule.remaining -= 1;
            rule.fault
        });
        if let Some(fault) = fault {
            *state.applied.entry(fault.kind()).or_default() += 1;
        }
        state.rules.retain(|rule| rule.remaining > 0);
        fault
    };
    match fault {
        Some(Fault::Throttle) => {
            return Ok(error_answer(
                400,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ));
        }
        Some(Fault::InternalError) => {
            return Ok(error_answer(
                500,
                "InternalServerError",
                "Internal server error",
            ));
        }
        Some(Fault::TransactionConflict) => {
            let body = request
                .into_body()
                .collect()
                .await
                .map_err(|_| Reset)?
                .to_bytes();
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let items = request["TransactItems"].as_array().map_or(1, Vec::len);
            let reasons = vec![
                serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"});
                items
            ];
            let body = serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                "CancellationReasons": reasons,
            });
            return Ok(hyper::Response::builder()
                .status(400)
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amzn-requestid", "FAULT")
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap());
        }
        Some(Fault::ResetBefore) => return Err(Reset),
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::ResetAfter) | None => {}
    }
    let forwarded = forward(client, upstream, request).await;
    if fault == Some(Fault::ResetAfter) {
        return Err(Reset);
    }
    forwarded
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Reset> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Reset)?.to_bytes();
    let url = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut outbound = client.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            outbound = outbound.header(name, value);
        }
    }
    let answer = outbound.send().await.map_err(|_| Reset)?;
    let mut response = hyper::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let body = answer.bytes().await.map_err(|_| Reset)?;
    Ok(response.body(Full::new(body)).unwrap())
}

fn error_answer(status: u16, code: &str, message: &str) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": message,
    });
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "FAULT")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
