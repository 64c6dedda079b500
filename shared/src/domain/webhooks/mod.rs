//! Webhooks: apps register endpoints and get the events of their users delivered, signed per
//! Standard Webhooks, retried for about a day, and replayable.
//!
//! The path of an event: a committed change -> the table's stream -> [`fanout`] (keep the
//! event, publish it to the bus, enqueue one job per endpoint) -> the delivery queue ->
//! [`delivery`] (sign, POST, record the attempt, retry later or finish).

pub mod delivery;
pub mod destination;
pub mod endpoint;
pub mod fanout;
pub mod manage;
pub mod signature;
pub mod timeline;
