//! `local-api`: the whole API on your machine, against DynamoDB Local.
//!
//! Ensures the table exists, optionally creates a demo app and key (printed as JSON and saved
//! to `.local/api-key`), then serves the API and runs what Lambda runs in AWS: the wallet
//! creator and the event publisher on the table's stream, and webhook deliveries from an
//! in-memory queue (sealing keys and secrets with the dev-only key-encryption key in
//! `LOCAL_KEY_ENCRYPTION_KEY`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use local_api::private_files::write_private;
use local_api::queue::LocalQueue;
use local_api::{LOCAL_CHAIN_VAR, Services, workers};
use shared::adapters::DynamoStore;
use shared::adapters::export_files::DirectoryFiles;
use shared::adapters::http_sender::Sender;
use shared::adapters::sealer::LOCAL_KEK_VAR;
use shared::adapters::sealer::LocalSealer;
use shared::config;
use shared::domain::access::settings::SettingsChange;
use shared::domain::webhooks::delivery::RetrySchedule;
use tokio::net::TcpListener;

const DEFAULT_TABLE: &str = "wallet-users-local";
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8000";
const DEFAULT_ADDR: &str = "127.0.0.1:3000";
const API_KEY_FILE: &str = ".local/api-key";
const APP_ID_FILE: &str = ".local/app-id";
/// Where the local stack says which table and endpoint it runs on: the admin CLI reads it.
const STACK_FILE: &str = ".local/local-stack.env";
/// Where the demo key's credentials for each dialect's client are saved.
const CLIENTS_FILE: &str = ".local/clients.json";

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("local-api: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let demo_app = std::env::args().any(|arg| arg == "--demo-app");
    // The bench's load test measures the API alone against the store's own ceiling.
    let api_only = std::env::args().any(|arg| arg == "--api-only");
    let table = std::env::var(config::TABLE_NAME_VAR).unwrap_or_else(|_| DEFAULT_TABLE.into());
    let endpoint =
        std::env::var(config::DYNAMODB_ENDPOINT_VAR).unwrap_or_else(|_| DEFAULT_ENDPOINT.into());
    let addr: SocketAddr = std::env::var("LISTEN_ADDR")
        .unwrap_or_else(|_| DEFAULT_ADDR.into())
        .parse()
        .map_err(|e| format!("LISTEN_ADDR: {e}"))?;
    local_api::listen::check_listen_addr(addr, local_api::listen::non_loopback_allowed())
        .map_err(|e| e.to_string())?;

    let client = config::dynamodb_client(Some(&endpoint)).await;
    let store = DynamoStore::new(client, table.clone())
        .with_rate_limit(config::app_rate_limit().map_err(|e| e.to_string())?);
    ensure_table_when_reachable(&store).await?;
    let sealer =
        LocalSealer::from_hex(&std::env::var(LOCAL_KEK_VAR).map_err(|_| {
            format!("{LOCAL_KEK_VAR} is not set (scripts/run-local.sh generates one)")
        })?)
        .map_err(|e| e.to_string())?;
    let schedule = RetrySchedule::from_env()?;
    let services = Services {
        store: store.clone(),
        sealer: sealer.clone(),
        queue: Arc::new(LocalQueue::new(schedule.attempts())),
        node: local_api::local_node(),
        exports: DirectoryFiles::new(local_api::export_runs::LOCAL_EXPORT_DIR)
            .map_err(|e| e.to_string())?,
    };
    if !api_only {
        let wallets = workers::run_wallet_creator(services.clone(), endpoint.clone(), sealer);
        tokio::spawn(async move {
            if let Err(error) = wallets.await {
                tracing::error!(%error, "the wallet creator stopped");
            }
        });
        let events = workers::run_event_publisher(services.clone(), endpoint.clone());
        tokio::spawn(async move {
            if let Err(error) = events.await {
                tracing::error!(%error, "the event publisher stopped");
            }
        });
        let sender = Sender::new(local_api::LOCAL_DESTINATIONS)?;
        tokio::spawn(workers::run_deliveries(services.clone(), sender, schedule));
    }

    if demo_app {
        let (app, key) = shared::domain::apps::create_app(&store, &services.sealer, "demo")
            .await
            .map_err(|e| format!("creating the demo app: {e}"))?;
        if let Ok(url) = std::env::var(LOCAL_CHAIN_VAR) {
            let networks = local_api::demo_networks(&url);
            let change = SettingsChange {
                networks: Some(networks),
                ..SettingsChange::default()
            };
            shared::domain::access::settings::change_settings(&store, &app.app_id, &change)
                .await
                .map_err(|e| format!("the demo app's networks: {e}"))?;
        }
        let write = |path: &str, contents: &[u8]| {
            write_private(Path::new(path), contents).map_err(|e| format!("{path}: {e}"))
        };
        write(API_KEY_FILE, key.token.as_bytes())?;
        write(APP_ID_FILE, app.app_id.as_str().as_bytes())?;
        let stack = format!("TABLE_NAME={table}\nDYNAMODB_ENDPOINT={endpoint}\n");
        write(STACK_FILE, stack.as_bytes())?;
        let clients = shared::dialects::credentials::clients(&app.app_id, &key);
        write(CLIENTS_FILE, format!("{clients:#}\n").as_bytes())?;
        println!(
            "{}",
            serde_json::json!({
                "app_id": app.app_id,
                "api_key": key.token,
                "key_id": key.record.key_id,
                "clients": clients,
            })
        );
        println!(
            "demo API key saved to {API_KEY_FILE}, its app id to {APP_ID_FILE}, what each \
             dialect's client is configured with to {CLIENTS_FILE}"
        );
    }

    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("binding {addr}: {e}"))?;
    let workers = if api_only {
        "workers off (--api-only)"
    } else {
        "wallet creator, event publisher and webhook deliveries running"
    };
    println!("API listening on http://{addr} (table {table}, DynamoDB at {endpoint}); {workers}");
    local_api::serve(listener, services)
        .await
        .map_err(|e| e.to_string())
}

/// DynamoDB Local takes a few seconds to start: retry the table set-up for up to 30 s.
async fn ensure_table_when_reachable(store: &DynamoStore) -> Result<(), String> {
    let mut last_error = String::new();
    for _ in 0..60 {
        match shared::adapters::dynamo::schema::ensure_table(store.client(), store.table()).await {
            Ok(()) => return Ok(()),
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("DynamoDB is not reachable: {last_error}"))
}
