//! The test harness: an isolated table in DynamoDB Local per test (so tests run in parallel),
//! apps and API keys, the `events/` payloads as requests, and a Lambda Runtime API that runs
//! a compiled function binary the way Lambda does.
//!
//! Tests need `DYNAMODB_ENDPOINT` (`scripts/test.sh` starts DynamoDB Local and sets it).

// A harness reports failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod anvil;
pub mod backend;
pub mod dialects;
pub mod faults;
pub mod raw_http;
pub mod receiver;
pub mod runtime_api;
pub mod secrets;
pub mod signatures;
pub mod wallets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use shared::adapters::{DynamoStore, MemoryStore};
use shared::model::AppId;

pub use aws_sdk_dynamodb;
pub use backend::Backend;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The variable naming the directory where tests capture their log lines, one file per test
/// process (`scripts/test.sh` sets it, and scans the lines after the suite).
pub const TEST_LOG_DIR_VAR: &str = "TEST_LOG_DIR";

/// What captured logs keep: our crates at DEBUG (the functions, the local server, the shared
/// crate, this harness and the tests), everything else at INFO.
const CAPTURED_LOG_FILTER: &str = "info,shared=debug,api_tests=debug,local_api=debug,\
    create_user=debug,get_user=debug,find_or_create_user=debug,fallback=debug,\
    create_wallets=debug,add_wallet=debug,update_user=debug,delete_user=debug,\
    import_users=debug,link_account=debug,unlink_account=debug,webhooks=debug,\
    publish_events=debug,deliver_webhooks=debug";

/// A layer writing JSON log lines (the deployed functions' format, [`shared::telemetry`]) at
/// [`CAPTURED_LOG_FILTER`] to `<dir>/<process id>.log`, appending.
pub fn log_file_layer<S>(
    dir: &Path,
) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static + use<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let path = dir.join(format!("{}.log", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    shared::telemetry::json_layer(Arc::new(file)).with_filter(
        CAPTURED_LOG_FILTER
            .parse::<tracing_subscriber::filter::Targets>()
            .unwrap(),
    )
}

/// [`log_file_layer`] into `$TEST_LOG_DIR`, if it is set.
pub fn captured_log_layer<S>() -> Option<impl tracing_subscriber::Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let dir = std::env::var_os(TEST_LOG_DIR_VAR).filter(|dir| !dir.is_empty())?;
    Some(log_file_layer(Path::new(&dir)))
}

/// Installs, once per process, the global subscriber that captures this test process's log
/// lines into `$TEST_LOG_DIR` (nothing if it is not set). [`TestStack::new`] calls it.
pub fn init_captured_logs() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        if let Some(layer) = captured_log_layer() {
            // A test that installed its own subscriber keeps it.
            drop(tracing_subscriber::registry().with(layer).try_init());
        }
    });
}

/// A store of its own (by default a table of its own in DynamoDB Local), with one app and its
/// API key.
pub struct TestStack<S = DynamoStore> {
    pub store: S,
    pub app: AppId,
    pub api_key: String,
}

/// A program of the Python tools `scripts/test.sh` installs (`PYTHON_TOOLS_BIN`): the reference
/// webhook verifier's Python, `cfn-lint`, `sam`.
pub fn python_tool(name: &str) -> PathBuf {
    let bin = std::env::var("PYTHON_TOOLS_BIN").expect(
        "PYTHON_TOOLS_BIN is not set: run the tests with scripts/test.sh, which installs scripts/requirements.txt",
    );
    PathBuf::from(bin).join(name)
}

/// A binary of the workspace (`scripts/test.sh` builds them all), in the target directory this
/// test executable runs from.
pub fn binary(name: &str) -> String {
    let me = std::env::current_exe().expect("the test executable's path");
    let dir = me
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    dir.join(name).to_string_lossy().into_owned()
}

/// The DynamoDB Local endpoint the tests use.
pub fn endpoint() -> String {
    std::env::var(shared::config::DYNAMODB_ENDPOINT_VAR).expect(
        "DYNAMODB_ENDPOINT is not set: run the tests with scripts/test.sh, which starts DynamoDB Local",
    )
}

/// The rate limit of the stacks tests make: more than any test sends in a second, so that
/// only the tests of the limit itself (which set their own) meet it.
pub const UNTHROTTLED: shared::model::rate_limit::RateLimit =
    shared::model::rate_limit::RateLimit {
        per_second: 1_000_000,
    };

impl TestStack {
    /// A fresh table with one app.
    pub async fn new() -> Self {
        Self::limited(UNTHROTTLED).await
    }

    /// A fresh table with one app, each app limited to `limit`.
    pub async fn limited(limit: shared::model::rate_limit::RateLimit) -> Self {
        let client = shared::config::dynamodb_client(Some(&endpoint())).await;
        let table = format!("test-{}", uuid::Uuid::new_v4().simple());
        shared::adapters::dynamo::schema::ensure_table(&client, &table)
            .await
            .unwrap();
        Self::on(DynamoStore::new(client, table).with_rate_limit(limit)).await
    }
}

impl TestStack<MemoryStore> {
    /// A fresh in-memory store with one app.
    pub async fn memory() -> Self {
        Self::on(MemoryStore::new()).await
    }
}

impl<S: Backend> TestStack<S> {
    /// `store` with one app.
    pub async fn on(store: S) -> Self {
        init_captured_logs();
        let (app, key) = shared::domain::apps::create_app(&store, &wallets::stack_sealer(), "test")
            .await
            .unwrap();
        Self {
            store,
            app: app.app_id,
            api_key: key.token,
        }
    }

    /// Another app in the same store, with its key.
    pub async fn other_app(&self) -> (AppId, String) {
        let (app, key) =
            shared::domain::apps::create_app(&self.store, &wallets::stack_sealer(), "other")
                .await
                .unwrap();
        (app.app_id, key.token)
    }

    /// Every item of the store, one line each, sorted: what a refused request must leave
    /// unchanged.
    pub async fn snapshot(&self) -> Vec<String> {
        self.store.snapshot().await
    }

    /// An `events/` payload as a request, authenticated with this stack's key (an event
    /// without credentials stays without).
    pub fn event(&self, name: &str) -> Request {
        with_api_key(load_event(name), &self.api_key)
    }

    /// How many users the store holds (every app's).
    pub async fn user_count(&self) -> usize {
        self.store.all_users().await.len()
    }

    /// How many identifier guards the store holds.
    pub async fn guard_count(&self) -> usize {
        self.store.all_guards().await.len()
    }

    /// Asserts the guard invariant: every guard belongs to an existing user of its app who
    /// holds that identifier, and every identifier a user holds has its guard.
    pub async fn assert_guards_match_users(&self) {
        let mut expected: Vec<String> = Vec::new();
        for (app, user) in self.store.all_users().await {
            for identifier in user.identifiers() {
                let guard = shared::adapters::dynamo::keys::guard_pk(&app, &identifier);
                expected.push(format!("{guard} -> {}", user.id));
            }
        }
        let mut actual: Vec<String> = self
            .store
            .all_guards()
            .await
            .into_iter()
            .map(|(guard, holder)| format!("{guard} -> {holder}"))
            .collect();
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected, "guards and users' identifiers differ");
    }
}

impl TestStack {
    /// Where this stack's exports are written: a directory of its own, under the system's
    /// temporary directory.
    pub fn export_files(&self) -> shared::adapters::export_files::DirectoryFiles {
        let dir = std::env::temp_dir()
            .join("wallet-users-exports")
            .join(self.table());
        shared::adapters::export_files::DirectoryFiles::new(dir)
            .unwrap_or_else(|e| panic!("the exports directory: {e}"))
    }

    /// The local stack's services on this table: a fresh dev key-encryption key, and a
    /// delivery queue that gives a job `attempts` receives.
    pub fn services(&self, attempts: u32) -> local_api::Services {
        local_api::Services {
            store: self.store.clone(),
            sealer: wallets::stack_sealer(),
            queue: std::sync::Arc::new(local_api::queue::LocalQueue::new(attempts)),
            node: local_api::local_node(),
            exports: self.export_files(),
        }
    }

    /// The local API on a free port of this table, with the wallet creator on its stream: its
    /// address (`http://127.0.0.1:<port>`) and services.
    pub async fn serve(&self) -> (String, local_api::Services) {
        let services = self.services(7);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(local_api::serve(listener, services.clone()));
        // One key-encryption key for every purpose, as a local stack has: the wallets it
        // creates are the ones the signing route opens.
        tokio::spawn(local_api::workers::run_wallet_creator(
            services.clone(),
            endpoint(),
            services.sealer.clone(),
        ));
        (address, services)
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        self.store.table()
    }

    /// An `events/` payload as JSON text, with this stack's key in its `authorization` header.
    pub fn event_text(&self, name: &str) -> String {
        let mut event: Value = serde_json::from_str(&read_event(name)).unwrap();
        if let Some(headers) = event["headers"].as_object_mut()
            && headers.contains_key("authorization")
        {
            headers.insert(
                "authorization".into(),
                Value::String(format!("Bearer {}", self.api_key)),
            );
        }
        event.to_string()
    }

    /// Every item in the table: what a rejected request must leave unchanged. API keys' last-use
    /// marks and the apps' request counters are left out: any authenticated request may
    /// refresh the one (once an hour) and counts in the other, refused or not.
    pub async fn items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let items = secrets::scan_table(self.store.client(), self.table())
            .await
            .unwrap();
        items
            .into_iter()
            .filter(|item| {
                item.get("sk")
                    .and_then(|sk| sk.as_s().ok())
                    .map(String::as_str)
                    != Some(shared::adapters::dynamo::keys::SK_REQUEST_COUNTER)
            })
            .map(|mut item| {
                item.remove("last_used_at");
                item
            })
            .collect()
    }

    /// Puts a stream record's new image into the table, as the write that produced the record
    /// would have: for tests that feed `events/` stream batches to the wallet creator.
    pub async fn put_image(&self, image: &serde_dynamo::Item) {
        let item: HashMap<String, AttributeValue> = image.clone().into();
        self.store
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }

    /// The items whose sort key starts with `prefix`.
    pub async fn items_with_sk(&self, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.items()
            .await
            .into_iter()
            .filter(|item| item["sk"].as_s().is_ok_and(|sk| sk.starts_with(prefix)))
            .collect()
    }

    /// How many items have a partition key starting with `prefix`.
    pub async fn items_with_prefix_pk(&self, prefix: &str) -> usize {
        self.items()
            .await
            .iter()
            .filter(|item| item["pk"].as_s().is_ok_and(|pk| pk.starts_with(prefix)))
            .count()
    }

    /// The user items in the table.
    pub async fn user_items(&self) -> Vec<Item> {
        self.items()
            .await
            .into_iter()
            .filter(|item| {
                item.get("entity")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some("user")
            })
            .collect()
    }
}

/// The repository's `events/` directory.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The text of `events/<name>.json`.
pub fn read_event(name: &str) -> String {
    let path = events_dir().join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `events/<name>.json` as the request `lambda_http` gives a handler.
pub fn load_event(name: &str) -> Request {
    lambda_http::request::from_str(&read_event(name)).unwrap()
}

/// Replaces the request's `Authorization` header (if it has one) with `api_key`.
pub fn with_api_key(mut request: Request, api_key: &str) -> Request {
    if request.headers().contains_key(http::header::AUTHORIZATION) {
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            format!("Bearer {api_key}").parse().unwrap(),
        );
    }
    request
}

/// Sets the request's `{id}` path parameter.
pub fn with_id(request: Request, id: &str) -> Request {
    request.with_path_parameters(HashMap::from([("id".to_owned(), id.to_owned())]))
}

/// A request as an app's backend would send it, for tests that need no `events/` file.
pub fn request(method: &str, path: &str, api_key: &str, body: Option<&Value>) -> Request {
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {api_key}"));
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    let mut query_map: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        query_map
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    let request = builder
        .body(body)
        .unwrap()
        .with_query_string_parameters(query_map);
    // Path parameters as API Gateway would set them, from the same route table.
    match shared::edge::routes::resolve(request.method(), path_only) {
        Ok(resolved) => {
            let params: HashMap<String, String> = resolved.params.into_iter().collect();
            request.with_path_parameters(params)
        }
        Err(_) => request,
    }
}

/// A response's status and parsed JSON body.
pub fn parts(response: &Response<Body>) -> (u16, Value) {
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

/// Asserts a response is the error envelope with `status` and `code`; returns its body.
pub fn assert_error(response: &Response<Body>, status: u16, code: &str) -> Value {
    let (actual, body) = parts(response);
    assert_eq!(actual, status, "unexpected status; body: {body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    assert!(body["error"]["details"].is_array(), "{body}");
    body
}

/// Every string anywhere in a JSON value, for scanning responses for material that must not be
/// there.
pub fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(text) => vec![text],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(fields) => fields.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}
