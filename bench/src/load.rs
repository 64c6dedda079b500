//! The local HTTP API under a bounded closed-loop load (a fixed number of connections, each
//! sending its next request when the last is answered), against the ceiling of the same
//! DynamoDB operations sent straight through the SDK at the same concurrency: the API's cost
//! is what it loses against that ceiling.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use api_tests::TestStack;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde_json::json;

use crate::report::{Report, Stats, Target};

/// What one load run did.
pub struct Outcome {
    pub requests: usize,
    pub errors: usize,
    pub stats: Stats,
    pub elapsed: Duration,
}

impl Outcome {
    /// Requests a second, median and p99, as the table shows them.
    fn figure(&self) -> String {
        format!(
            "{:.0}/s {:.1}/{:.1} ms",
            self.rate(),
            self.stats.median_ms(),
            self.stats.p99_ms()
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({"requests_per_s": self.rate(), "requests": self.requests, "errors": self.errors, "median_ms": self.stats.median_ms(), "p99_ms": self.stats.p99_ms()})
    }

    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `step` from `connections` tasks for `duration`; a step answers whether it succeeded.
pub async fn closed_loop<F, Fut>(connections: usize, duration: Duration, step: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let step = Arc::new(step);
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (step, counter) = (Arc::clone(&step), Arc::clone(&counter));
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            while started.elapsed() < duration {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                if !step(n).await {
                    errors += 1;
                }
                latencies.push(sent.elapsed());
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    Outcome {
        requests: latencies.len(),
        errors,
        stats: Stats::of(&mut latencies),
        elapsed,
    }
}

/// Makes the `n`th request of a load run.
type BuildRequest = Box<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;

/// The local API as a process of its own, on `stack`'s table.
pub struct LocalApi {
    child: tokio::process::Child,
    pub url: String,
}

impl LocalApi {
    /// Starts it; `api_only` leaves the stream workers and deliveries off.
    pub async fn start(stack: &TestStack, api_only: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = crate::sibling("local-api");
        let mut command = tokio::process::Command::new(&binary);
        if api_only {
            command.arg("--api-only");
        }
        let child = command
            .env("TABLE_NAME", stack.table())
            .env("DYNAMODB_ENDPOINT", api_tests::endpoint())
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env(shared::adapters::sealer::LOCAL_KEK_VAR, "00".repeat(32))
            // The bench measures the API, not the per-app limit (which would answer 429 past
            // its default of 100 requests a second); the limiter's own cost is in `overhead`.
            .env(
                shared::config::APP_RATE_LIMIT_VAR,
                api_tests::UNTHROTTLED.per_second.to_string(),
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {binary}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the local API did not start");
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        self.child
            .id()
            .and_then(api_tests::runtime_api::peak_rss_kib)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// Runs the three load tests and their raw ceilings; adds the rows to `report`.
pub async fn run(report: &mut Report, duration: Duration, connections: usize) {
    let stack = TestStack::new().await;
    let api = LocalApi::start(&stack, true).await;
    let http = shared::tls::reqwest_builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let key = format!("Bearer {}", stack.api_key);

    // Users to read and find: 1,000 made through the API.
    let mut ids = Vec::new();
    for i in 0..1000 {
        let body = json!({"email": format!("load{i}@example.com"), "wallets": []});
        let answer: serde_json::Value = http
            .post(format!("{}/v1/users", api.url))
            .header("authorization", &key)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(answer["data"]["id"].as_str().unwrap().to_owned());
    }
    let ids = Arc::new(ids);
    let run_tag = uuid::Uuid::new_v4().simple().to_string();

    let cases: [(&str, BuildRequest); 3] = [
        ("GET /v1/users/{id}", {
            let (http, url, key, ids) =
                (http.clone(), api.url.clone(), key.clone(), Arc::clone(&ids));
            Box::new(move |n| {
                http.get(format!("{url}/v1/users/{}", ids[n % ids.len()]))
                    .header("authorization", &key)
            })
        }),
        ("POST /v1/users", {
            let (http, url, key, tag) =
                (http.clone(), api.url.clone(), key.clone(), run_tag.clone());
            Box::new(move |n| {
                http.post(format!("{url}/v1/users"))
                    .header("authorization", &key)
                    .json(&json!({"email": format!("c{n}-{tag}@example.com"), "wallets": []}))
            })
        }),
        ("POST /v1/users/find-or-create", {
            let (http, url, key) = (http.clone(), api.url.clone(), key.clone());
            Box::new(move |n| {
                http.post(format!("{url}/v1/users/find-or-create"))
                    .header("authorization", &key)
                    .json(&json!({"email": format!("load{}@example.com", n % 1000)}))
            })
        }),
    ];

    let raw = RawOperations::new(&stack, &ids).await;
    for (name, build) in cases {
        let build = Arc::new(build);
        let api_outcome = closed_loop(connections, duration, move |n| {
            let request = build(n);
            async move {
                match request.send().await {
                    Ok(response) => response.status().is_success(),
                    Err(_) => false,
                }
            }
        })
        .await;
        let raw = raw.clone();
        let name_owned = name.to_owned();
        let raw_outcome = closed_loop(connections, duration, move |n| {
            let (raw, name) = (raw.clone(), name_owned.clone());
            async move { raw.request(&name, n).await }
        })
        .await;
        let label = |what: &str| format!("{name}, {connections} conns: {what}");
        report.figure_with_target(
            "load",
            &label("API"),
            &api_outcome.figure(),
            api_outcome.json(),
            &format!("0 errors (got {})", api_outcome.errors),
            api_outcome.errors == 0,
        );
        report.figure(
            "load",
            &label("raw SDK ceiling"),
            &raw_outcome.figure(),
            raw_outcome.json(),
        );
        let ratio = api_outcome.rate() / raw_outcome.rate();
        report.ratio(
            "load",
            &format!("{name}: API / ceiling, requests/s"),
            ratio,
            Target::AtLeast(0.8),
        );
    }
    let rss = api.peak_rss_kib().unwrap_or(0);
    report.figure(
        "memory",
        "local-api (every route in one process), peak RSS",
        &format!("{:.1} MB", rss as f64 / 1024.0),
        json!({"peak_rss_kib": rss}),
    );
}

/// The DynamoDB operations each API request makes, sent straight through the SDK: the route's
/// own reads or transaction, on copies of real items.
#[derive(Clone)]
struct RawOperations {
    client: aws_sdk_dynamodb::Client,
    table: String,
    users: Arc<Vec<HashMap<String, AttributeValue>>>,
    guards: Arc<Vec<HashMap<String, AttributeValue>>>,
    user_template: Arc<HashMap<String, AttributeValue>>,
    guard_template: Arc<HashMap<String, AttributeValue>>,
}

type Item = HashMap<String, AttributeValue>;

impl RawOperations {
    async fn new(stack: &TestStack, ids: &[String]) -> Self {
        let items = stack.items().await;
        let sk = |item: &Item| item["sk"].as_s().unwrap().clone();
        let users: Vec<Item> = items
            .iter()
            .filter(|i| sk(i) == "USER")
            .map(key_of)
            .collect();
        let guards: Vec<Item> = items
            .iter()
            .filter(|i| sk(i) == "GUARD")
            .map(key_of)
            .collect();
        let user_template = items.iter().find(|i| sk(i) == "USER").unwrap().clone();
        let guard_template = items.iter().find(|i| sk(i) == "GUARD").unwrap().clone();
        assert_eq!(users.len(), ids.len());
        Self {
            client: stack.store.client().clone(),
            table: stack.table().to_owned(),
            users: Arc::new(users),
            guards: Arc::new(guards),
            user_template: Arc::new(user_template),
            guard_template: Arc::new(guard_template),
        }
    }

    async fn get(&self, key: Item) -> bool {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .is_ok()
    }

    /// One API request's worth of operations for the route `name`. The API key's record is
    /// not read: a warm function has it cached (`shared::edge::auth::cache`), as the meter shows.
    async fn request(&self, name: &str, n: usize) -> bool {
        match name {
            "GET /v1/users/{id}" => self.get(self.users[n % self.users.len()].clone()).await,
            "POST /v1/users/find-or-create" => {
                self.get(self.guards[n % self.guards.len()].clone()).await
                    && self.get(self.users[n % self.users.len()].clone()).await
            }
            _ => self.create(n).await,
        }
    }

    /// A user item and its email guard, both new, in one conditional transaction.
    async fn create(&self, n: usize) -> bool {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let mut user = (*self.user_template).clone();
        user.insert("pk".into(), AttributeValue::S(format!("RAW#{tag}#{n}")));
        let mut guard = (*self.guard_template).clone();
        guard.insert("pk".into(), AttributeValue::S(format!("RAWID#{tag}#{n}")));
        let put = |item: Item| {
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build()
        };
        self.client
            .transact_write_items()
            .transact_items(put(user))
            .transact_items(put(guard))
            .send()
            .await
            .is_ok()
    }
}

fn key_of(item: &Item) -> Item {
    HashMap::from([
        ("pk".to_owned(), item["pk"].clone()),
        ("sk".to_owned(), item["sk"].clone()),
    ])
}
