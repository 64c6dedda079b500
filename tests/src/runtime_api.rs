//! A minimal Lambda Runtime API (the HTTP interface Lambda gives a `provided.al2023` function),
//! enough to run a compiled function binary exactly as Lambda would: the binary polls `/next`,
//! gets an event, posts its response or error back, and polls again. One process handles one
//! invocation at a time, as one Lambda sandbox does.

use std::collections::VecDeque;
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
    /// From handing the event over to receiving the answer (for the first invocation, from
    /// spawning the binary: a cold start plus one invocation).
    pub elapsed: Duration,
}

/// What a function process did with a sequence of events.
#[derive(Debug)]
pub struct Run {
    /// One per event, in order.
    pub invocations: Vec<Invocation>,
    /// The process's peak resident set (VmHWM), in KiB, where `/proc` tells it.
    pub peak_rss_kib: Option<u64>,
}

/// How long each invocation may run, as Lambda's deadline tells the function.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

struct State {
    events: VecDeque<String>,
    budget: Duration,
    handed_at: Instant,
    started: Instant,
    invocations: Vec<Invocation>,
    expected: usize,
    done: Option<oneshot::Sender<()>>,
}

/// Runs `binary` with `env` under a fresh Runtime API, hands it `event`, and returns what it
/// answered. The process is killed afterwards.
pub async fn invoke(binary: &str, env: &[(&str, &str)], event: &str) -> Invocation {
    invoke_within(binary, env, event, DEFAULT_BUDGET).await
}

/// [`invoke`] with a deadline `budget` after the event is handed over.
pub async fn invoke_within(
    binary: &str,
    env: &[(&str, &str)],
    event: &str,
    budget: Duration,
) -> Invocation {
    let mut run = run_within(binary, env, vec![event.to_owned()], budget).await;
    run.invocations.remove(0)
}

/// Runs `binary` with `env` under a fresh Runtime API and hands it `events` one after another
/// (each as soon as the previous one is answered). The process is killed afterwards.
pub async fn run(binary: &str, env: &[(&str, &str)], events: Vec<String>) -> Run {
    run_within(binary, env, events, DEFAULT_BUDGET).await
}

/// [`run`] with each invocation's deadline `budget` after its event is handed over.
pub async fn run_within(
    binary: &str,
    env: &[(&str, &str)],
    events: Vec<String>,
    budget: Duration,
) -> Run {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (done, finished) = oneshot::channel();
    let started = Instant::now();
    let state = Arc::new(Mutex::new(State {
        expected: events.len(),
        events: events.into(),
        budget,
        handed_at: started,
        started,
        invocations: Vec::new(),
        done: Some(done),
    }));
    let server = tokio::spawn(serve(listener, Arc::clone(&state)));

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
    tokio::time::timeout(Duration::from_secs(300), finished)
        .await
        .expect("the function did not answer every event within 300 s")
        .expect("the runtime API closed without an answer");
    let peak_rss_kib = child.id().and_then(peak_rss_kib);
    child.kill().await.ok();
    server.abort();
    let invocations = std::mem::take(&mut state.lock().unwrap().invocations);
    Run {
        invocations,
        peak_rss_kib,
    }
}

/// A process's peak resident set (Linux only).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM")
}

/// A process's resident set now (Linux only).
pub fn current_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// A `kB` figure of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| {
        line.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
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
        let (event, budget) = {
            let mut state = state.lock().unwrap();
            let event = state.events.pop_front();
            if event.is_some() && !state.invocations.is_empty() {
                state.handed_at = Instant::now();
            }
            (event, state.budget)
        };
        let Some(event) = event else {
            // No more events: later polls wait until the caller kills the function.
            std::future::pending::<()>().await;
            unreachable!();
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + budget.as_millis();
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
    let mut state = state.lock().unwrap();
    // The first invocation is timed from the spawn: the cold start is part of it.
    let since = if state.invocations.is_empty() {
        state.started
    } else {
        state.handed_at
    };
    state.invocations.push(Invocation {
        outcome,
        elapsed: since.elapsed(),
    });
    if state.invocations.len() == state.expected
        && let Some(done) = state.done.take()
    {
        done.send(()).ok();
    }
    hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}
