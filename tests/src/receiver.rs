//! A webhook receiver for tests: an HTTP server on loopback that records every request and
//! answers from a script (a status, a slow status, or no answer at all), and verification of
//! what it received with the reference Standard Webhooks library (`standardwebhooks` from
//! PyPI, a verifier nobody here wrote; `scripts/test.sh` installs it).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// The status after a delay.
    Slow(Duration, u16),
    /// Never answers (holds the connection open).
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    /// `x-redelivery-of`: the event a redelivery re-sends (empty on a first delivery).
    pub redelivery_of: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub at: Instant,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver answering from `script` in order, then 200 to everything.
    pub async fn start(script: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (log, answers) = (Arc::clone(&received), script);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (log, answers) = (Arc::clone(&log), Arc::clone(&answers));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let (log, answers) = (Arc::clone(&log), Arc::clone(&answers));
                        async move { Ok::<_, Infallible>(answer(request, &log, &answers).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, received }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `within`) until `count` requests have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    log: &Mutex<Vec<Received>>,
    script: &Mutex<VecDeque<Answer>>,
) -> hyper::Response<Full<Bytes>> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let redelivery_of = header("x-redelivery-of");
    let body = request.into_body().collect().await.unwrap().to_bytes();
    log.lock().unwrap().push(Received {
        id,
        redelivery_of,
        timestamp,
        signature,
        body: String::from_utf8(body.to_vec()).unwrap(),
        at: Instant::now(),
    });
    let next = script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Answer::Status(200));
    let status = match next {
        Answer::Status(status) => status,
        Answer::Slow(delay, status) => {
            tokio::time::sleep(delay).await;
            status
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            200
        }
    };
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response
}

/// The Python with the reference library.
fn reference_python() -> std::path::PathBuf {
    crate::python_tool("python")
}

/// Whether the reference library accepts `received` as signed with `secret`.
pub fn reference_verifies(secret: &str, received: &Received) -> bool {
    const SCRIPT: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
case = json.load(sys.stdin)
try:
    Webhook(case["secret"]).verify(case["body"], case["headers"])
    print("ok")
except Exception as error:
    print("refused:", error)
"#;
    let case = json!({
        "secret": secret,
        "body": received.body,
        "headers": {
            "webhook-id": received.id,
            "webhook-timestamp": received.timestamp,
            "webhook-signature": received.signature,
        },
    });
    let mut child = std::process::Command::new(reference_python())
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(case.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        answer == "ok" || answer.starts_with("refused"),
        "the reference verifier did not run: {answer} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    answer == "ok"
}
