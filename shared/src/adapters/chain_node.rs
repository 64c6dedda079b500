//! The chains' JSON-RPC nodes over HTTP: the same guarded client as webhook deliveries (no
//! redirects, only destinations the policy allows), since an app chooses its `rpc_url`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::http_sender::{GuardedResolver, is_refusal};
use crate::domain::webhooks::destination::{self, DestinationPolicy};
use crate::ports::signing::{ChainNode, NodeError};

/// How long a node call may take: a send makes at most five, within the function's 30 s.
/// Calls are not retried: a broadcast that timed out may have reached the node, so the
/// signing path answers it as unconfirmed (`202`, the signed transaction kept under the
/// idempotency key) rather than as a failure.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from a node (a block header is a few kilobytes).
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A JSON-RPC client. Built once per cold start: it keeps connections to the node alive.
#[derive(Debug)]
pub struct HttpNode {
    client: reqwest::Client,
    policy: DestinationPolicy,
    ids: AtomicU64,
}

impl HttpNode {
    pub fn new(policy: DestinationPolicy) -> Result<Self, String> {
        let client = crate::tls::reqwest_builder()
            // A proxy (`HTTPS_PROXY`...) would connect for us, past the guarded resolver.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(policy)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(NODE_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("wallet-users/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            ids: AtomicU64::new(1),
        })
    }
}

impl ChainNode for HttpNode {
    async fn call(&self, url: &str, method: &str, params: Value) -> Result<Value, NodeError> {
        // IP-literal hosts skip DNS, so the resolver cannot refuse them: check here.
        if destination::parse_url(url, self.policy).is_err() {
            return Err(NodeError::Refused);
        }
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| {
                if is_refusal(&error) {
                    NodeError::Refused
                } else {
                    NodeError::Unreachable(format!("{method}: {}", without_url(&error)))
                }
            })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| {
            NodeError::Unreachable(format!("{method}: {}", without_url(&error)))
        })?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(NodeError::Unreachable(format!(
                "{method}: answer too large"
            )));
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
            NodeError::Unreachable(format!("{method}: HTTP {status}, not JSON-RPC"))
        })?;
        if let Some(error) = answer.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the node refused the call");
            return Err(NodeError::Rejected(message.chars().take(300).collect()));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| NodeError::Unreachable(format!("{method}: no result")))
    }
}

/// An error's text without its URL (an RPC URL often carries an API key).
fn without_url(error: &reqwest::Error) -> String {
    let text = error.to_string();
    match error.url() {
        Some(url) => text.replace(url.as_str(), "<rpc_url>"),
        None => text,
    }
}
