//! `bench`: measures and prints; asserts nothing (these machines are noisy, so figures are
//! read, not gated). Needs DynamoDB Local at `DYNAMODB_ENDPOINT` (`scripts/bench.sh` starts
//! one). `--quick` runs a small version.
//!
//! - wallet CPU path: key generation + address + sealing, per second on one core, per chain;
//! - wallet creator with DynamoDB Local: wallets per second of one consumer;
//! - create -> ready: latency through the local API's handlers and stream consumer;
//! - a batch import of 100 users, and a page of the user list, through the handlers;
//! - webhooks: commit -> signed delivery at a receiver on loopback, through the stream, the
//!   event publisher and the delivery queue; and deliveries per second of one delivery
//!   function instance (batches of ten, as the queue's event source gives them).

// A benchmark reports failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use api_tests::TestStack;
use api_tests::receiver::Receiver;
use api_tests::wallets::test_sealer;
use serde_json::json;
use shared::model::{AppId, ChainType, UserId};
use shared::wallets::KeySealer;
use shared::wallets::seal::associated_data;
use shared::webhooks::delivery::{RetrySchedule, Sender};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    println!("{:<44} {:>14}", "measure", "figure");
    wallet_cpu_path(quick).await;
    wallet_creator_throughput(quick).await;
    create_to_ready(quick).await;
    batch_and_list(quick).await;
    webhook_latency(quick).await;
    delivery_throughput(quick).await;
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

async fn webhook_latency(quick: bool) {
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
    latencies.sort();
    println!(
        "{:<44} {:>11.0} ms",
        "commit -> webhook received (local), p50",
        percentile(&latencies, 0.5)
    );
    println!(
        "{:<44} {:>11.0} ms",
        "commit -> webhook received (local), p99",
        percentile(&latencies, 0.99)
    );
}

/// One delivery function instance: batches of ten jobs from the queue, handled as the Lambda
/// handles them (ten at once), against DynamoDB Local and a receiver on loopback.
async fn delivery_throughput(quick: bool) {
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
    let publisher = shared::events::publish::LogPublisher;
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
    println!(
        "{:<44} {:>10.0} /s",
        "webhook deliveries, one instance (DDB Local)",
        users as f64 / elapsed
    );
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
}

async fn batch_and_list(quick: bool) {
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
    batch_times.sort();
    println!(
        "{:<44} {:>11.0} ms",
        "batch import of 100 users, median",
        percentile(&batch_times, 0.5)
    );

    let samples = if quick { 10 } else { 200 };
    let mut pages = Vec::with_capacity(samples);
    for _ in 0..samples {
        let request = api_tests::request("GET", "/v1/users?limit=20", &stack.api_key, None);
        let started = Instant::now();
        let response = get_user::handle(&stack.store, request).await;
        pages.push(started.elapsed());
        assert_eq!(response.status(), 200);
    }
    pages.sort();
    let users = batches * 100;
    println!(
        "{:<44} {:>11.1} ms",
        format!("list page of 20 ({users} users), p50"),
        percentile(&pages, 0.5)
    );
    println!(
        "{:<44} {:>11.1} ms",
        format!("list page of 20 ({users} users), p99"),
        percentile(&pages, 0.99)
    );
}

async fn wallet_cpu_path(quick: bool) {
    let sealer = test_sealer();
    let data_key = sealer.data_key().await.unwrap();
    let (app, user) = (AppId::generate(), UserId::generate());
    let window = Duration::from_millis(if quick { 200 } else { 2000 });
    for chain in ChainType::ALL {
        let aad = associated_data(&app, user, chain);
        let (mut count, started) = (0u64, Instant::now());
        while started.elapsed() < window {
            let key = shared::wallets::generate(chain).unwrap();
            std::hint::black_box(data_key.seal(&key.private_key, &aad).unwrap());
            count += 1;
        }
        let rate = count as f64 / started.elapsed().as_secs_f64();
        println!(
            "{:<44} {:>10.0} /s",
            format!("wallet CPU path, {chain}, one core"),
            rate
        );
    }
}

async fn wallet_creator_throughput(quick: bool) {
    let stack = TestStack::new().await;
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
    let started = Instant::now();
    while let Some(batch) = reader.next_batch().await.unwrap() {
        let (store, sealer) = (&stack.store, &sealer);
        local_api::stream::deliver(|b| create_wallets::handle(store, sealer, b), batch).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
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
    println!(
        "{:<44} {:>10.0} /s",
        "wallet creator + DynamoDB Local, one consumer",
        created as f64 / elapsed
    );
}

async fn create_to_ready(quick: bool) {
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
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{:<44} {:>11.0} ms",
        "create -> ready (local), p50",
        at(0.5).as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>11.0} ms",
        "create -> ready (local), p99",
        at(0.99).as_secs_f64() * 1e3
    );
}
