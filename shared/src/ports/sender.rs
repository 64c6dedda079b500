//! The webhook sender port: POSTs one signed delivery and reports the receiver's answer. The
//! HTTP client that does it (refusing private destinations) is
//! [`crate::adapters::http_sender`].

use std::future::Future;
use std::time::Duration;

/// The receiver's answer to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Option<u16>,
    pub error: Option<&'static str>,
    pub duration: Duration,
}

/// Sends deliveries.
pub trait WebhookSender: Send + Sync {
    /// How long a delivery lease lasts: longer than any attempt this sender makes.
    fn lease(&self) -> Duration;

    /// POSTs `body` to `url` with `headers`.
    fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> impl Future<Output = Answer> + Send;
}
