//! A minimal Lambda Runtime API (the HTTP interface Lambda gives a `provided.al2023` function),
//! enough to run a compiled function binary on one event exactly as Lambda would: the binary
//! polls `/next`, gets the event, and posts its response or error back.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// What the function posted back.
#[derive(Debug)]
pub enum Outcome {
    /// The function's response payload (for HTTP functions, the API Gateway response).
    Response(Value),
    /// An invocation or init error the function reported.
    Error(Value),
}

/// One finished invocation.
#[derive(Debug)]
pub struct Invocation {
    pub outcome: Outcome,
    /// From spawning the binary to receiving its answer: a cold start plus one invocation.
    pub elapsed: Duration,
}

struct State {
    event: Option<String>,
    done: Option<oneshot::Sender<Outcome>>,
}

/// Runs `binary` with `env` under a fresh Runtime API, hands it `event`, and returns what it
/// answered. The process is killed afterwards.
pub async fn invoke(binary: &str, env: &[(&str, &str)], event: &str) -> Invocation {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (done, outcome) = oneshot::channel();
    let state = Arc::new(Mutex::new(State {
        event: Some(event.to_owned()),
        done: Some(done),
    }));
    let server = tokio::spawn(serve(listener, Arc::clone(&state)));

    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test-function")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test-function")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {binary}: {e}"));
    let outcome = tokio::time::timeout(Duration::from_secs(60), outcome)
        .await
        .expect("the function did not answer within 60 s")
        .expect("the runtime API closed without an answer");
    let elapsed = started.elapsed();
    child.kill().await.ok();
    server.abort();
    Invocation { outcome, elapsed }
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(route(&state, request).await) }
            });
            http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
                .ok();
        });
    }
}

async fn route(
    state: &Mutex<State>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    let path = request.uri().path().to_owned();
    if path.ends_with("/runtime/invocation/next") {
        let event = state.lock().unwrap().event.take();
        let Some(event) = event else {
            // One event per process: later polls wait until the test kills the function.
            std::future::pending::<()>().await;
            unreachable!();
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        return hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", REQUEST_ID)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test-function",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700",
            )
            .body(Full::new(Bytes::from(event)))
            .unwrap();
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let outcome = if path.ends_with("/response") {
        Outcome::Response(payload)
    } else {
        Outcome::Error(payload)
    };
    if let Some(done) = state.lock().unwrap().done.take() {
        done.send(outcome).ok();
    }
    hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}
