//! `bench`: one command for every performance figure (`scripts/bench.sh`). Measures, prints a
//! table, writes `bench/results.json` and draws `bench/results.svg` (a `--quick` run writes to
//! `target/bench-quick/` instead); asserts nothing (these machines are noisy, so figures are
//! read, not gated). Every target is judged as a ratio
//! against a floor measured in the same run. Needs DynamoDB Local at `DYNAMODB_ENDPOINT` and
//! the workspace's binaries beside its own (`scripts/bench.sh` provides both). `--quick` runs
//! a small version of everything (CI runs it so the bench never rots).
//!
//! - cold start per function against a bare `lambda_http` floor, warm latency, peak RSS;
//! - handler overhead per route against the SDK calls it makes, and the capacity units charged;
//! - the local HTTP API under load against the store's raw ceiling;
//! - wallets: the CPU path per core, the creator's throughput, create -> ready;
//! - batch import, listing, webhook latency and delivery throughput;
//! - arm64 zip sizes (from `scripts/package.sh`), cost per million users.

// A benchmark reports failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chart;
mod cold_start;
mod cost;
mod dialects;
mod export;
mod load;
mod meter;
mod overhead;
mod report;
mod rpc;
mod soak;

use std::time::{Duration, Instant};

use api_tests::TestStack;
use api_tests::receiver::Receiver;
use api_tests::wallets::test_sealer;
use serde_json::json;
use shared::adapters::http_sender::Sender;
use shared::domain::wallets::KeySealer;
use shared::domain::wallets::seal::associated_data;
use shared::domain::webhooks::delivery::RetrySchedule;
use shared::model::{AppId, ChainType, UserId};

use crate::meter::Meter;
use crate::report::{Report, Stats};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--soak") {
        let seconds = args.get(at + 1).and_then(|s| s.parse().ok()).unwrap_or(600);
        soak::run(Duration::from_secs(seconds), 8).await;
        return;
    }
    let quick = args.iter().any(|arg| arg == "--quick");
    let mut report = Report::new(quick);
    println!(
        "{:<10} {:<52} {:>22}  target",
        "group", "measure", "median / p99"
    );
    // `--overhead`: only each route's handler overhead and capacity (a few minutes, no
    // function binaries needed), e.g. after changing a route. Writes nothing.
    if args.iter().any(|arg| arg == "--overhead") {
        overhead::run(&mut report, if quick { 10 } else { 300 }).await;
        dialects::run(&mut report, if quick { 10 } else { 300 }).await;
        return;
    }
    // `--signing`: only the signing CPU path (no store needed).
    if args.iter().any(|arg| arg == "--signing") {
        signing_cpu_path(
            &mut report,
            Duration::from_millis(if quick { 200 } else { 2000 }),
        );
        return;
    }
    // `--rpc`: only the wallet RPC route's overhead, capacity and cost, and the signing CPU
    // path.
    if args.iter().any(|arg| arg == "--rpc") {
        rpc::run(&mut report, if quick { 10 } else { 300 }).await;
        signing_cpu_path(
            &mut report,
            Duration::from_millis(if quick { 200 } else { 2000 }),
        );
        return;
    }
    // `--export`: only the export's throughput and cost.
    if args.iter().any(|arg| arg == "--export") {
        export::run(&mut report, if quick { 300 } else { 5_000 }).await;
        return;
    }
    // `--dialects`: only each dialect route's overhead next to the native route's.
    if args.iter().any(|arg| arg == "--dialects") {
        dialects::run(&mut report, if quick { 10 } else { 300 }).await;
        return;
    }
    cold_start::run(
        &mut report,
        if quick { 2 } else { 15 },
        if quick { 20 } else { 1000 },
    )
    .await;
    let routes = overhead::run(&mut report, if quick { 10 } else { 300 }).await;
    dialects::run(&mut report, if quick { 10 } else { 300 }).await;
    rpc::run(&mut report, if quick { 10 } else { 300 }).await;
    wallet_cpu_path(&mut report, quick).await;
    let wallet = wallet_creator_throughput(&mut report, quick).await;
    create_to_ready(&mut report, quick).await;
    batch_and_list(&mut report, quick).await;
    export::run(&mut report, if quick { 300 } else { 5_000 }).await;
    webhook_latency(&mut report, quick).await;
    delivery_throughput(&mut report, quick).await;
    // Last: the load writes tens of thousands of items, after which DynamoDB Local (one JVM
    // holding every table and stream in memory) answers the stream readers many times slower.
    let (seconds, connections) = if quick { (1, 8) } else { (20, 32) };
    load::run(&mut report, Duration::from_secs(seconds), connections).await;
    artifact_sizes(&mut report);
    cost::report(&mut report, &routes, wallet);

    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "arch": std::env::consts::ARCH,
    });
    // A quick run's figures mean little: they stay out of the committed results.
    let dir = if quick { "target/bench-quick" } else { "bench" };
    std::fs::create_dir_all(dir).unwrap();
    let results = serde_json::to_string_pretty(&report.to_json(machine)).unwrap();
    std::fs::write(format!("{dir}/results.json"), results + "\n").unwrap();
    chart::draw(&format!("{dir}/results.svg"), &report.ratios()).unwrap();
    println!("\nwrote {dir}/results.json and {dir}/results.svg");
    let unmet = report.unmet();
    if !unmet.is_empty() {
        println!("targets not met in this run:");
        for line in unmet {
            println!("  {line}");
        }
    }
}

/// A binary built beside this one (same profile): the functions, the floor, the local API.
pub fn sibling(name: &str) -> String {
    let me = std::env::current_exe().unwrap();
    me.with_file_name(name).to_string_lossy().into_owned()
}

/// Each function's arm64 deployment zip, if `scripts/package.sh` has built them.
fn artifact_sizes(report: &mut Report) {
    let Ok(dirs) = std::fs::read_dir("target/lambda") else {
        println!("artifacts: no target/lambda (run scripts/package.sh first for zip sizes)");
        return;
    };
    let mut zips: Vec<_> = dirs
        .filter_map(|dir| dir.ok())
        .filter_map(|dir| {
            let zip = dir.path().join("bootstrap.zip");
            let bytes = std::fs::metadata(&zip).ok()?.len();
            Some((dir.file_name().to_string_lossy().into_owned(), bytes))
        })
        .collect();
    zips.sort();
    for (function, bytes) in zips {
        let mb = bytes as f64 / 1024.0 / 1024.0;
        report.figure_with_target(
            "artifacts",
            &format!("{function}: arm64 zip"),
            &format!("{mb:.2} MB"),
            json!({"bytes": bytes}),
            "<= 3 MB",
            mb <= 3.0,
        );
    }
}

/// Starts the local pipeline on `stack`: wallet creator, event publisher, deliveries.
fn start_workers(stack: &TestStack) -> local_api::Services {
    let services = stack.services(7);
    let endpoint = api_tests::endpoint();
    tokio::spawn(local_api::workers::run_wallet_creator(
        services.clone(),
        endpoint.clone(),
        test_sealer(),
    ));
    tokio::spawn(local_api::workers::run_event_publisher(
        services.clone(),
        endpoint,
    ));
    let sender = Sender::new(local_api::LOCAL_DESTINATIONS).unwrap();
    tokio::spawn(local_api::workers::run_deliveries(
        services.clone(),
        sender,
        RetrySchedule::default(),
    ));
    services
}

async fn register(stack: &TestStack, services: &local_api::Services, url: &str) {
    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: local_api::LOCAL_DESTINATIONS,
    };
    let body = json!({"url": url, "events": ["user.created"]});
    let request = api_tests::request("POST", "/v1/webhooks", &stack.api_key, Some(&body));
    assert_eq!(webhooks::handle(&context, request).await.status(), 201);
}

async fn webhook_latency(report: &mut Report, quick: bool) {
    let stack = TestStack::new().await;
    let services = start_workers(&stack);
    let receiver = Receiver::start(vec![]).await;
    register(&stack, &services, &receiver.url).await;
    let samples = if quick { 5 } else { 60 };
    let mut latencies = Vec::with_capacity(samples);
    for sample in 0..samples {
        let body = json!({"wallets": []});
        let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
        let started = Instant::now();
        assert_eq!(
            create_user::handle(&stack.store, request).await.status(),
            201
        );
        let received = receiver.wait_for(sample + 1, Duration::from_secs(30)).await;
        latencies.push(received[sample].at - started);
    }
    report.timing(
        "webhooks",
        "commit -> signed webhook at a local receiver",
        Stats::of(&mut latencies),
    );
}

/// One delivery function instance: batches of ten jobs from the queue, handled as the Lambda
/// handles them (ten at once), against DynamoDB Local and a receiver on loopback.
async fn delivery_throughput(report: &mut Report, quick: bool) {
    let stack = TestStack::new().await;
    let services = stack.services(7);
    let receiver = Receiver::start(vec![]).await;
    register(&stack, &services, &receiver.url).await;
    let users = if quick { 20 } else { 300 };
    for _ in 0..users {
        let body = json!({"wallets": []});
        let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
        create_user::handle(&stack.store, request).await;
    }
    // Publish every event first (queue only), then time the deliveries alone.
    let mut reader = local_api::stream::StreamReader::new(&stack.store, &api_tests::endpoint())
        .await
        .unwrap();
    let publisher = shared::adapters::eventbridge::LogPublisher;
    while let Some(batch) = reader.next_batch().await.unwrap() {
        let (store, queue) = (&stack.store, services.queue.as_ref());
        local_api::stream::deliver(
            |b| publish_events::handle(store, &publisher, queue, b),
            batch,
        )
        .await;
    }
    assert_eq!(services.queue.len(), users);
    let sender = Sender::new(local_api::LOCAL_DESTINATIONS).unwrap();
    let started = Instant::now();
    let worker = tokio::spawn(local_api::workers::run_deliveries(
        services.clone(),
        sender,
        RetrySchedule::default(),
    ));
    receiver.wait_for(users, Duration::from_secs(120)).await;
    let elapsed = started.elapsed().as_secs_f64();
    worker.abort();
    assert_eq!(receiver.received().len(), users);
    let rate = users as f64 / elapsed;
    report.figure(
        "webhooks",
        "deliveries, one instance (batches of 10)",
        &format!("{rate:.0}/s"),
        json!({"per_second": rate, "deliveries": users}),
    );
}

async fn batch_and_list(report: &mut Report, quick: bool) {
    let stack = TestStack::new().await;
    let batches = if quick { 1 } else { 5 };
    let mut batch_times = Vec::new();
    for batch in 0..batches {
        let users: Vec<_> = (0..100)
            .map(|i| json!({"email": format!("b{batch}-{i}@example.com")}))
            .collect();
        let body = json!({ "users": users });
        let request = api_tests::request("POST", "/v1/users/batch", &stack.api_key, Some(&body));
        let started = Instant::now();
        let response = import_users::handle(&stack.store, request).await;
        batch_times.push(started.elapsed());
        assert_eq!(response.status(), 200);
    }
    report.timing(
        "batch",
        "batch import of 100 users",
        Stats::of(&mut batch_times),
    );
}

async fn wallet_cpu_path(report: &mut Report, quick: bool) {
    let sealer = test_sealer();
    let (app, user) = (AppId::generate(), UserId::generate());
    let data_key = sealer
        .data_key(&shared::domain::wallets::seal::KeyContext::wallet(
            &app, user,
        ))
        .await
        .unwrap();
    let window = Duration::from_millis(if quick { 200 } else { 2000 });
    for chain in ChainType::ALL {
        let aad = associated_data(&app, user, chain);
        let (mut count, started) = (0u64, Instant::now());
        while started.elapsed() < window {
            let key = shared::domain::wallets::generate(chain).unwrap();
            std::hint::black_box(data_key.seal(&key.private_key, &aad).unwrap());
            count += 1;
        }
        let rate = count as f64 / started.elapsed().as_secs_f64();
        let target = match chain {
            ChainType::Ethereum => 15_000.0,
            ChainType::Solana => 40_000.0,
        };
        report.figure_with_target(
            "wallets",
            &format!("CPU path (key + address + seal), {chain}, one core"),
            &format!("{rate:.0}/s"),
            json!({"per_second": rate}),
            &format!(">= {target:.0}/s"),
            rate >= target,
        );
    }
    signing_cpu_path(report, window);
}

/// Signing on one core, with a key already opened (issue 19's primitives): ethereum
/// `personal_sign` of a 100-byte message, solana `signMessage` of the same, and an EIP-1559
/// transfer's signing and encoding.
fn signing_cpu_path(report: &mut Report, window: Duration) {
    transaction_signing(report, window);
    use shared::domain::wallets::sign::{personal_sign, solana_sign_message};
    let message = [0x61u8; 100];
    for chain in ChainType::ALL {
        let key = shared::domain::wallets::generate(chain).unwrap();
        let (mut count, started) = (0u64, Instant::now());
        while started.elapsed() < window {
            match chain {
                ChainType::Ethereum => {
                    std::hint::black_box(personal_sign(&key.private_key, &message).unwrap());
                }
                ChainType::Solana => {
                    std::hint::black_box(solana_sign_message(&key.private_key, &message).unwrap());
                }
            }
            count += 1;
        }
        let rate = count as f64 / started.elapsed().as_secs_f64();
        let (method, target) = match chain {
            ChainType::Ethereum => ("personal_sign", 10_000.0),
            ChainType::Solana => ("signMessage", 20_000.0),
        };
        report.figure_with_target(
            "wallets",
            &format!("signing CPU path, {chain} {method}, one core"),
            &format!("{rate:.0}/s"),
            json!({"per_second": rate}),
            &format!(">= {target:.0}/s"),
            rate >= target,
        );
    }
}

/// The wallet creator on one consumer; its time and capacity units per wallet feed the cost.
async fn wallet_creator_throughput(report: &mut Report, quick: bool) -> cost::WalletCost {
    let meter = Meter::default();
    let stack = overhead::metered_stack(&meter).await;
    let users = if quick { 20 } else { 300 };
    for _ in 0..users {
        let body = json!({});
        let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
        create_user::handle(&stack.store, request).await;
    }
    let sealer = test_sealer();
    let mut reader = local_api::stream::StreamReader::new(&stack.store, &api_tests::endpoint())
        .await
        .unwrap();
    meter.take();
    let started = Instant::now();
    while let Some(batch) = reader.next_batch().await.unwrap() {
        let (store, sealer) = (&stack.store, &sealer);
        local_api::stream::deliver(|b| create_wallets::handle(store, sealer, b), batch).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let usage = meter.take();
    let created = stack
        .items()
        .await
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk.starts_with("WALLETKEY#"))
        })
        .count();
    assert_eq!(created, users, "every wallet was created");
    let rate = created as f64 / elapsed;
    report.figure(
        "wallets",
        "wallet creator + DynamoDB Local, one consumer",
        &format!("{rate:.0}/s"),
        json!({"per_second": rate, "write_units_per_wallet": usage.write_units / users as f64}),
    );
    cost::WalletCost {
        ms_per_wallet: elapsed * 1e3 / users as f64,
        write_units: usage.write_units / users as f64,
        read_units: usage.read_units / users as f64,
    }
}

async fn create_to_ready(report: &mut Report, quick: bool) {
    let stack = TestStack::new().await;
    let consumer = local_api::workers::run_wallet_creator(
        stack.services(7),
        api_tests::endpoint(),
        test_sealer(),
    );
    let consumer = tokio::spawn(consumer);
    let samples = if quick { 5 } else { 60 };
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let body = json!({});
        let request = api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
        let (_, created) = api_tests::parts(&create_user::handle(&stack.store, request).await);
        let id = created["data"]["id"].as_str().unwrap().to_owned();
        loop {
            let request =
                api_tests::request("GET", &format!("/v1/users/{id}"), &stack.api_key, None);
            let (_, user) = api_tests::parts(&get_user::handle(&stack.store, request).await);
            if user["data"]["wallets"][0]["status"] == "ready" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(started.elapsed());
    }
    consumer.abort();
    let stats = Stats::of(&mut latencies);
    report.timing_with_target(
        "wallets",
        "create -> wallet ready (local stream consumer)",
        stats,
        "p50 <= 500 ms, p99 <= 1.5 s",
        stats.median_ms() <= 500.0 && stats.p99_ms() <= 1500.0,
    );
}

/// An EIP-1559 transfer with calldata signed and encoded on one core (alloy-consensus's
/// encoding and signing hash, our signature).
fn transaction_signing(report: &mut Report, window: Duration) {
    use shared::model::rpc::{EthTransaction, TransactionKind};
    let key = shared::domain::wallets::generate(ChainType::Ethereum).unwrap();
    let tx = EthTransaction {
        kind: TransactionKind::Eip1559,
        chain_id: 1,
        to: Some(alloy_primitives::Address::repeat_byte(0x70)),
        value: alloy_primitives::U256::from(10u64.pow(16)),
        data: vec![0xab; 68],
        nonce: Some(7),
        gas_limit: Some(60_000),
        gas_price: None,
        max_fee_per_gas: Some(30_000_000_000),
        max_priority_fee_per_gas: Some(1_000_000_000),
    };
    let (mut count, started) = (0u64, Instant::now());
    while started.elapsed() < window {
        std::hint::black_box(
            shared::domain::wallets::transaction::sign_transaction(&key.private_key, &tx).unwrap(),
        );
        count += 1;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    report.figure_with_target(
        "wallets",
        "signing CPU path, ethereum eth_signTransaction (EIP-1559), one core",
        &format!("{rate:.0}/s"),
        json!({"per_second": rate}),
        ">= 5000/s",
        rate >= 5000.0,
    );
}
