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
        // IP-literal hosts skip DNS, so the resolver cannot refuse them: check here.
        if destination::parse_url(url, self.policy).is_err() {
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
