//! The HTTP edge: the Lambda runner (deadline, panics), request parsing, the envelope, API-key
//! auth, idempotency, conditional requests, routes, and the one mapping of domain errors to
//! statuses.

pub mod api;
pub mod auth;
pub mod console;
pub mod deadline;
pub mod error;
pub mod idempotency;
pub mod lambda;
pub mod quota;
pub mod routes;
