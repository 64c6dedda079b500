//! The domain: the operations on users, apps, wallets, events and webhooks, on the ports
//! alone. No HTTP type and no SDK type appears here.

pub mod access;
pub mod apps;
pub mod events;
pub mod exports;
pub mod paging;
pub mod rate_limit;
pub mod recent;
pub mod retry;
pub mod users;
pub mod wallets;
pub mod webhooks;
