//! Cost per million users created and per million reads, from the capacity units each
//! operation was charged and the handler durations measured in this run, at list prices.

use serde_json::json;

use crate::overhead::RouteCost;
use crate::report::Report;

/// List prices, us-east-1, as checked on 2026-11-24 (AWS pricing pages and AWS announcements;
/// see the README's Performance section for sources). Free tiers left out.
pub mod prices {
    /// API Gateway HTTP API, per request (first 300 M a month).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// Lambda, per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Lambda arm64, per GB-second (first tier), billed per 1 ms.
    pub const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
    /// DynamoDB on-demand, per write request unit (Standard table class, since 2024-11-01).
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand, per read request unit.
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    /// KMS, per symmetric request (GenerateDataKey, Decrypt).
    pub const KMS_REQUEST: f64 = 0.03 / 10_000.0;
    /// EventBridge custom bus, per event published.
    pub const EVENTBRIDGE_EVENT: f64 = 1.00 / 1e6;
}

/// The functions' memory (template.yaml, `Globals.Function.MemorySize`).
pub const MEMORY_MB: f64 = 256.0;

/// What creating one user's wallet costs, measured by the wallet creator bench.
#[derive(Debug, Clone, Copy)]
pub struct WalletCost {
    /// Consumer time per wallet, in milliseconds (a batch's duration over its wallets).
    pub ms_per_wallet: f64,
    pub write_units: f64,
    pub read_units: f64,
}

pub fn lambda(ms: f64) -> f64 {
    // Lambda rounds each invocation's duration up to the next millisecond.
    prices::LAMBDA_REQUEST + ms.ceil() * 1e-3 * MEMORY_MB / 1024.0 * prices::LAMBDA_ARM_GB_SECOND
}

fn lambda_duration(ms: f64) -> f64 {
    ms * 1e-3 * MEMORY_MB / 1024.0 * prices::LAMBDA_ARM_GB_SECOND
}

pub fn dynamodb(read_units: f64, write_units: f64) -> f64 {
    read_units * prices::DYNAMODB_READ_UNIT + write_units * prices::DYNAMODB_WRITE_UNIT
}

/// Adds the cost rows: per million users created (API call, user write, wallet creation and
/// its events) and per million reads.
pub fn report(report: &mut Report, routes: &[RouteCost], wallet: WalletCost) {
    let route = |name: &str| routes.iter().find(|r| r.route == name).unwrap();
    let create = route("POST /v1/users");
    let read = route("GET /v1/users/{id}");

    let create_api = prices::HTTP_API_REQUEST + lambda(create.handler.median_ms());
    let create_store = dynamodb(create.read_units, create.write_units);
    // One stream batch (up to 100 records) invokes the creator once and asks KMS for one data
    // key: at low traffic that is one invocation and one KMS request per user, the worst case.
    let wallet_compute = prices::LAMBDA_REQUEST + lambda_duration(wallet.ms_per_wallet);
    let wallet_store = dynamodb(wallet.read_units, wallet.write_units);
    let wallet_kms = prices::KMS_REQUEST;
    // user.created and user.wallet_created reach the bus, each kept once (a 1 KB put).
    let events = 2.0 * (prices::EVENTBRIDGE_EVENT + prices::DYNAMODB_WRITE_UNIT);
    let per_user = create_api + create_store + wallet_compute + wallet_store + wallet_kms + events;
    let per_read = prices::HTTP_API_REQUEST
        + lambda(read.handler.median_ms())
        + dynamodb(read.read_units, read.write_units);

    let million = |x: f64| x * 1e6;
    report.figure(
        "cost",
        "per million users created (one wallet each), USD",
        &format!("${:.2}", million(per_user)),
        json!({
            "usd_per_million": million(per_user),
            "api_gateway_and_lambda": million(create_api),
            "dynamodb_user_write": million(create_store),
            "wallet_lambda": million(wallet_compute),
            "wallet_dynamodb": million(wallet_store),
            "kms": million(wallet_kms),
            "events": million(events),
            "memory_mb": MEMORY_MB,
        }),
    );
    report.figure(
        "cost",
        "per million reads (GET /v1/users/{id}), USD",
        &format!("${:.2}", million(per_read)),
        json!({"usd_per_million": million(per_read), "memory_mb": MEMORY_MB}),
    );
}
