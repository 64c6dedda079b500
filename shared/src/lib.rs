//! What every function shares, in layers whose imports point one way:
//! [`model`] (validated types) <- [`ports`] (the traits the domain needs) <- [`domain`] (the
//! operations) <- [`adapters`] (DynamoDB, KMS, SQS, EventBridge, in memory) and [`edge`] (HTTP:
//! parsing, auth, idempotency, the envelope) <- the functions, which wire them in [`config`].
//! `import_graph` holds the rule.

pub mod adapters;
pub mod clock;
pub mod config;
pub mod dialects;
pub mod domain;
pub mod edge;
pub mod model;
pub mod ports;
pub mod telemetry;
pub mod tls;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod import_graph;
