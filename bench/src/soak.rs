//! The soak: the whole local stack (API, wallet creator, event publisher, deliveries) under a
//! mixed load for a long while, reporting requests, errors and the resident memory of each
//! process at the start and the end. Flat memory means no leak. Not in CI: `scripts/soak.sh`.

use std::time::{Duration, Instant};

use api_tests::TestStack;
use serde_json::json;

use api_tests::runtime_api::current_rss_kib;

use crate::load::{LocalApi, closed_loop};

/// Runs the soak for `duration` with `connections` clients.
pub async fn run(duration: Duration, connections: usize) {
    let stack = TestStack::new().await;
    let api = LocalApi::start(&stack, false).await;
    let store_pid = store_pid();
    let http = shared::tls::reqwest_builder()
        .build()
        .expect("an HTTP client");
    let key = format!("Bearer {}", stack.api_key);
    let rss = |label: &str| {
        let api_rss = api.pid().and_then(current_rss_kib).unwrap_or(0);
        let store_rss = store_pid.and_then(current_rss_kib).unwrap_or(0);
        println!(
            "{label:<6} local-api RSS {:>7.1} MB   DynamoDB Local RSS {:>7.1} MB",
            api_rss as f64 / 1024.0,
            store_rss as f64 / 1024.0
        );
        (api_rss, store_rss)
    };
    // A minute of load before the first reading, so start-up allocation is not counted as growth.
    let warm_up = Duration::from_secs(60).min(duration / 10);
    let started = Instant::now();
    // Answers by status (0: no answer), to tell a conflict the mix provokes from a failure.
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        u16,
        usize,
    >::new()));
    let mix = {
        let (http, url, key) = (http.clone(), api.url.clone(), key.clone());
        let statuses = std::sync::Arc::clone(&statuses);
        move |n: usize| {
            let (http, url, key) = (http.clone(), url.clone(), key.clone());
            let statuses = std::sync::Arc::clone(&statuses);
            async move {
                let request = match n % 5 {
                    0 => http
                        .post(format!("{url}/v1/users"))
                        .json(&json!({"email": format!("soak{n}@example.com")})),
                    1 => http
                        .post(format!("{url}/v1/users/find-or-create"))
                        .json(&json!({"email": format!("soak{}@example.com", n / 10 * 5)})),
                    2 => http.get(format!("{url}/v1/users?limit=20")),
                    3 => http.get(format!(
                        "{url}/v1/users?email=soak{}%40example.com",
                        n / 10 * 5
                    )),
                    _ => http
                        .post(format!("{url}/v1/users/find-or-create"))
                        .json(&json!({"external_id": format!("ext-{}", n % 500)})),
                };
                let status = match request.header("authorization", key).send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                };
                *statuses.lock().unwrap().entry(status).or_default() += 1;
                (200..300).contains(&status)
            }
        }
    };
    let first = closed_loop(connections, warm_up, mix.clone()).await;
    let start = rss("start");
    let rest = closed_loop(connections, duration.saturating_sub(warm_up), mix).await;
    let end = rss("end");
    let requests = first.requests + rest.requests;
    let errors = first.errors + rest.errors;
    println!(
        "soak: {:.0} s, {requests} requests ({:.0}/s), {errors} errors, p50 {:.1} ms, p99 {:.1} ms (after the warm-up)",
        started.elapsed().as_secs_f64(),
        requests as f64 / started.elapsed().as_secs_f64(),
        rest.stats.median_ms(),
        rest.stats.p99_ms(),
    );
    println!(
        "answers by status (0: none): {:?}",
        statuses.lock().unwrap()
    );
    println!(
        "growth after the warm-up: local-api {:+.1} MB, DynamoDB Local {:+.1} MB",
        (end.0 as f64 - start.0 as f64) / 1024.0,
        (end.1 as f64 - start.1 as f64) / 1024.0
    );
}

/// DynamoDB Local's process, from the pid file `scripts/dynamodb-local.sh` writes.
fn store_pid() -> Option<u32> {
    let endpoint = api_tests::endpoint();
    let port = endpoint.rsplit(':').next()?;
    std::fs::read_to_string(format!(".local/dynamodb-{port}.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}
