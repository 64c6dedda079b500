//! The domain shared by every function: models and validated newtypes, API-key auth,
//! the user store (a trait and its DynamoDB implementation), the user operations, and the
//! HTTP edge that turns requests into domain calls and outcomes into the JSON envelope.

pub mod adapters;
pub mod api;
pub mod apps;
pub mod auth;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod lambda;
pub mod model;
pub mod paging;
pub mod ports;
pub mod routes;
pub mod telemetry;
pub mod tls;
pub mod updates;
pub mod users;
pub mod validation;
pub mod wallets;
pub mod webhooks;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod import_graph;
