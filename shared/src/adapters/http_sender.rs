//! The HTTP client of webhook deliveries: rustls, no redirects, a timeout per attempt, and a
//! DNS resolver that refuses destinations the policy does not allow.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::webhooks::delivery::{ATTEMPT_TIMEOUT, LEASE_MARGIN};
use crate::domain::webhooks::destination::{self, DestinationPolicy};
use crate::ports::sender::{Answer, WebhookSender};

/// The HTTP client of deliveries: resolves only to allowed addresses, follows no redirect
/// (a redirect could point inside), and gives each attempt [`ATTEMPT_TIMEOUT`].
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: DestinationPolicy,
    timeout: Duration,
}

impl Sender {
    /// A client for `policy`. Built once per cold start: it keeps connections alive.
    pub fn new(policy: DestinationPolicy) -> Result<Self, String> {
        Self::with_timeout(policy, ATTEMPT_TIMEOUT)
    }

    /// A client whose attempts time out after `timeout` (tests use a short one).
    pub fn with_timeout(policy: DestinationPolicy, timeout: Duration) -> Result<Self, String> {
        let client = crate::tls::reqwest_builder()
            // A proxy (`HTTPS_PROXY`...) would connect for us, past the guarded resolver.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(policy)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("wallet-users-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }
}

impl WebhookSender for Sender {
    fn lease(&self) -> Duration {
        self.timeout + LEASE_MARGIN
    }

    async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let started = Instant::now();
        // IP-literal hosts skip DNS, so the resolver cannot refuse them: check here. The port
        // too: the endpoint may have been stored before the deployment narrowed its ports.
        let allowed = destination::parse_url(url, self.policy)
            .and_then(|url| destination::check_webhook_port(&url, self.policy));
        if allowed.is_err() {
            return Answer {
                status: None,
                error: Some("destination_refused"),
                duration: started.elapsed(),
            };
        }
        let mut request = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let (status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) if error.is_timeout() => (None, Some("timeout")),
            Err(error) if is_refusal(&error) => (None, Some("destination_refused")),
            Err(_) => (None, Some("connection_failed")),
        };
        Answer {
            status,
            error,
            duration: started.elapsed(),
        }
    }
}

pub(crate) fn is_refusal(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<destination::DestinationError>()
            .is_some()
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The HTTP client's resolver: resolves as the system does, then refuses any name with an
/// address the policy does not allow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver(pub(crate) DestinationPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        Box::pin(async move {
            let addresses = destination::resolve(name.as_str(), 0, policy).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::adapters::chain_node::HttpNode;
    use crate::ports::signing::ChainNode;

    const LOCAL: DestinationPolicy = DestinationPolicy {
        allow_loopback: true,
        webhook_ports: &[],
    };
    const CHILD: &str = "adapters::http_sender::tests::child_sends_past_a_proxy_variable";

    /// A proxy variable would send every request to the proxy, which connects wherever it is
    /// told: past the resolver that guards destinations. The variables are process-wide, so
    /// the clients are tried in a child process that has them set, pointing at a port where
    /// nothing listens: a client that honours them fails to connect.
    #[test]
    fn the_delivery_and_node_clients_ignore_proxy_variables() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap();
        let proxy = format!("http://{closed}");
        let output = Command::new(std::env::current_exe().unwrap())
            .args([CHILD, "--exact", "--ignored", "--nocapture"])
            .envs([
                ("HTTP_PROXY", &proxy),
                ("HTTPS_PROXY", &proxy),
                ("ALL_PROXY", &proxy),
                ("http_proxy", &proxy),
                ("https_proxy", &proxy),
                ("all_proxy", &proxy),
            ])
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{printed}\n{errors}");
        assert!(printed.contains("1 passed"), "{printed}");
    }

    #[tokio::test]
    async fn a_stored_url_on_a_port_not_allowed_is_refused_at_delivery() {
        // An endpoint registered before the port rule (or before the deployment narrowed its
        // ports) is refused when its delivery comes, without a connection.
        let deployed = DestinationPolicy::default();
        let sender = Sender::with_timeout(deployed, Duration::from_secs(1)).unwrap();
        let answer = sender
            .post("https://8.8.8.8:8443/hooks", &[], b"{}".to_vec())
            .await;
        assert_eq!(
            (answer.status, answer.error),
            (None, Some("destination_refused"))
        );
    }

    #[tokio::test]
    #[ignore = "run by the_delivery_and_node_clients_ignore_proxy_variables, with proxy variables"]
    async fn child_sends_past_a_proxy_variable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let body = r#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        let sender = Sender::with_timeout(LOCAL, Duration::from_secs(5)).unwrap();
        let answer = sender.post(&url, &[], b"{}".to_vec()).await;
        assert_eq!((answer.status, answer.error), (Some(200), None));
        let node = HttpNode::new(LOCAL).unwrap();
        assert_eq!(
            node.call(&url, "eth_chainId", serde_json::json!([]))
                .await
                .ok(),
            Some(serde_json::json!("0x1"))
        );
    }
}
