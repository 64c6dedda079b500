//! The integration suite, one test binary: every cross-function test and every function's
//! tests on its `events/` payloads, against DynamoDB Local. One binary links the AWS SDK once,
//! instead of once per test file.

mod access;
mod batch;
mod break_glass;
mod confusables;
mod console;
mod contract;
mod create_user_binary;
mod create_user_events;
mod create_wallets_events;
mod custody;
mod dialects;
mod emulator;
mod events;
mod exports;
mod fallback_events;
mod faults;
mod find_or_create_user_events;
mod get_user_events;
mod guard_invariant;
mod hostile;
mod idempotency;
mod keys;
mod least_privilege;
mod lifecycle;
mod listing;
mod local_server;
mod secrets;
mod signing;
mod status;
mod store_restart;
mod template;
mod users;
mod wallet_rpc;
mod wallets;
mod webhook_endpoint_events;
mod webhook_rotation;
mod webhooks;
