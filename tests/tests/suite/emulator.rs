//! Every `events/` payload through cargo-lambda's own emulator, as a Rust Lambda developer
//! would run it (`cargo lambda watch --only-lambda-apis`, then `cargo lambda invoke
//! --data-file`): a Runtime API nobody here wrote, answered by the compiled function binaries.
//! Each answer must be the one the same payload gets from the handler in-process, and both the
//! one the table below expects. (cargo-lambda sends the constant deadline `600000`; a function
//! that took it literally answered 503 to everything.)

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use api_tests::TestStack;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use shared::adapters::http_sender::Sender;
use shared::domain::webhooks::delivery::{RetrySchedule, SecretOpener};
use tokio::process::{Child, Command};

/// What an invocation answers: an HTTP status, or a batch's reported failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Status(u16),
    Failures(usize),
}
use Answer::{Failures, Status};

/// Each payload, the function that takes it and what it answers, in the order they run (on a
/// table holding the stack's app; later user events act on the user `create-user` made).
const CASES: &[(&str, &str, Answer)] = &[
    ("create-user", "create-user", Status(201)),
    ("create-user-empty-body", "create-user", Status(201)),
    ("create-user-privy-accounts", "create-user", Status(201)),
    ("create-user-invalid-fields", "create-user", Status(400)),
    ("create-user-malformed-json", "create-user", Status(400)),
    ("create-user-no-auth", "create-user", Status(401)),
    ("create-user-wrong-content-type", "create-user", Status(415)),
    ("find-or-create-user", "find-or-create-user", Status(200)),
    (
        "find-or-create-user-no-identifier",
        "find-or-create-user",
        Status(400),
    ),
    ("get-user", "get-user", Status(200)),
    ("get-user-by-email", "get-user", Status(200)),
    // The address is one of the user's linked wallets.
    ("get-user-by-address", "get-user", Status(200)),
    ("get-user-bad-query", "get-user", Status(400)),
    ("list-users", "get-user", Status(200)),
    ("update-user", "update-user", Status(200)),
    ("link-account", "link-account", Status(201)),
    ("unlink-account", "unlink-account", Status(200)),
    // The user asked for a solana wallet when created: it is pending already.
    ("add-wallet", "add-wallet", Status(200)),
    // Nothing made its wallets (no stream consumer here): signing is `409 wallet_not_ready`,
    // natively and in Privy's words, from the signing function.
    ("wallet-rpc", "wallet-rpc", Status(409)),
    ("disable-user", "update-user", Status(200)),
    ("enable-user", "update-user", Status(200)),
    ("get-settings", "access", Status(200)),
    ("change-settings", "access", Status(200)),
    ("add-allow-entry", "access", Status(201)),
    ("list-allow-entries", "access", Status(200)),
    ("delete-allow-entry", "access", Status(204)),
    ("create-key", "access", Status(201)),
    ("list-keys", "access", Status(200)),
    // No key of the app has this id.
    ("revoke-key", "access", Status(404)),
    ("create-invitation", "access", Status(201)),
    ("list-invitations", "access", Status(200)),
    // The sample id names no invitation (ids are made when inviting).
    ("revoke-invitation", "access", Status(404)),
    ("invite-as-user", "access", Status(201)),
    ("list-user-invitations", "access", Status(200)),
    // The dialects, each on its own function, on the user create-user made.
    ("onboarding-find-or-create", "onboarding", Status(201)),
    ("original-create-user", "original", Status(201)),
    ("original-get-user", "original", Status(200)),
    ("original-get-user-by-email", "original", Status(200)),
    ("privy-create-user", "privy", Status(200)),
    ("privy-get-user", "privy", Status(200)),
    ("privy-list-users", "privy", Status(200)),
    ("privy-get-user-by-email", "privy", Status(200)),
    ("privy-pregenerate-wallets", "privy", Status(200)),
    ("privy-set-custom-metadata", "privy", Status(200)),
    ("privy-unlink-account", "privy", Status(200)),
    ("privy-invite-to-allowlist", "privy", Status(200)),
    ("privy-get-allowlist", "privy", Status(200)),
    ("privy-remove-from-allowlist", "privy", Status(200)),
    ("privy-wallet-rpc", "wallet-rpc", Status(409)),
    ("ost-create-user", "ost", Status(200)),
    ("ost-update-user", "ost", Status(200)),
    ("ost-retrieve-user", "ost", Status(200)),
    ("ost-list-users", "ost", Status(200)),
    ("import-users", "import-users", Status(200)),
    // Its URL is made a documentation address (see `payload`): refused by the SSRF guard.
    ("create-webhook", "webhooks", Status(400)),
    ("list-webhooks", "webhooks", Status(200)),
    ("delete-webhook", "webhooks", Status(404)),
    ("rotate-webhook-secret", "webhooks", Status(404)),
    ("list-deliveries", "webhooks", Status(404)),
    ("redeliver-event", "webhooks", Status(404)),
    ("fallback-not-found", "fallback", Status(404)),
    ("fallback-method-not-allowed", "fallback", Status(405)),
    ("console-page", "console", Status(200)),
    ("console-missing-file", "console", Status(404)),
    ("delete-user", "delete-user", Status(204)),
    ("restore-user", "delete-user", Status(200)),
    ("delete-user", "delete-user", Status(204)),
    // The same user, deleted above.
    ("privy-delete-user", "privy", Status(404)),
    ("create-wallets-insert", "create-wallets", Failures(0)),
    ("create-wallets-duplicate", "create-wallets", Failures(0)),
    ("create-wallets-malformed", "create-wallets", Failures(1)),
    // The deleted user's tombstone expiring: its keys are purged unless it is back.
    (
        "create-wallets-tombstone-removed",
        "create-wallets",
        Failures(0),
    ),
    ("create-wallets-insert", "publish-events", Failures(0)),
    ("deliver-webhooks", "deliver-webhooks", Failures(0)),
];

/// The user id the payloads carry; replaced by the id of the user `create-user` made.
const SAMPLE_USER_ID: &str = "0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b";

/// The dev key-encryption key the binaries seal with.
const LOCAL_KEK: &str = "00000000000000000000000000000000000000000000000000000000000000aa";

/// The sample webhook URL's host, and what stands in for it: whether `hooks.example.com`
/// resolves depends on the machine's DNS, and a registration's answer on what it resolves to;
/// a documentation address (TEST-NET-1) is refused the same everywhere.
const SAMPLE_WEBHOOK_HOST: (&str, &str) = ("https://hooks.example.com/", "https://192.0.2.10/");

/// Payloads with the stack's key (a dialect's: its credentials for `clients`, an OST request
/// signed now), and (HTTP events after the first create) the created user's id; every payload
/// is otherwise exactly as in `events/`, but for the webhook URL's host.
fn payload(stack: &TestStack, clients: &Value, event: &str, user_id: Option<&str>) -> String {
    let dialect = shared::dialects::MOUNTS
        .iter()
        .any(|(mount, _)| event.starts_with(&mount[1..]));
    let text = if dialect {
        api_tests::read_event(event)
    } else {
        stack.event_text(event)
    };
    let text = match user_id {
        Some(id) if text.contains("\"routeKey\"") => text.replace(SAMPLE_USER_ID, id),
        _ => text,
    };
    // A dialect's credentials go in last: OST's signature covers the path, user id and all.
    let text = if dialect {
        let now = shared::clock::now_ms() / 1000;
        api_tests::dialects::sendable(&text, clients, now)
    } else {
        text
    };
    text.replace(SAMPLE_WEBHOOK_HOST.0, SAMPLE_WEBHOOK_HOST.1)
}

fn created_id(answer: &Value) -> Option<String> {
    let body: Value = serde_json::from_str(answer["body"].as_str()?).ok()?;
    body["data"]["id"].as_str().map(str::to_owned)
}

/// The handlers in-process, as the other tests call them.
async fn in_process(stack: &TestStack, function: &str, payload: &str) -> (Answer, Value) {
    let services = stack.services(7);
    match function {
        "create-wallets" => {
            let event: StreamEvent = serde_json::from_str(payload).unwrap();
            let sealer = shared::adapters::sealer::LocalSealer::from_hex(LOCAL_KEK).unwrap();
            let response = create_wallets::handle(&stack.store, &sealer, event).await;
            (Failures(response.batch_item_failures.len()), Value::Null)
        }
        "publish-events" => {
            let event: StreamEvent = serde_json::from_str(payload).unwrap();
            let publisher = shared::adapters::eventbridge::LogPublisher;
            let queue = services.queue.as_ref();
            let response = publish_events::handle(&stack.store, &publisher, queue, event).await;
            (Failures(response.batch_item_failures.len()), Value::Null)
        }
        "deliver-webhooks" => {
            let event: SqsEvent = serde_json::from_str(payload).unwrap();
            let opener = SecretOpener::new(services.sealer.clone());
            let sender = Sender::new(local_api::LOCAL_DESTINATIONS).unwrap();
            let context = deliver_webhooks::Deliveries {
                store: &stack.store,
                opener: &opener,
                sender: &sender,
                queue: services.queue.as_ref(),
                schedule: &RetrySchedule::default(),
            };
            let response = deliver_webhooks::handle(&context, event).await;
            (Failures(response.batch_item_failures.len()), Value::Null)
        }
        "console" => {
            let request = lambda_http::request::from_str(payload).unwrap();
            let response = console::handle(&request);
            let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
            (
                Status(response.status().as_u16()),
                serde_json::json!({"body": body}),
            )
        }
        _ => {
            let request = lambda_http::request::from_str(payload).unwrap();
            let retention = Duration::from_secs(30 * 24 * 3600);
            let response = local_api::dispatch(&services, retention, request).await;
            let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
            let status = response.status().as_u16();
            (Status(status), serde_json::json!({"body": body}))
        }
    }
}

/// cargo-lambda's Runtime API and one process per function binary, each polling it.
struct Emulator {
    port: u16,
    watch: Child,
    functions: Vec<Child>,
    payloads: PathBuf,
}

impl Emulator {
    async fn start(stack: &TestStack) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let watch = Command::new(api_tests::python_tool("cargo-lambda"))
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
            .args(["-P", &port.to_string()])
            .current_dir(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cargo-lambda (scripts/requirements.txt) in the Python tools");
        let ready_by = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < ready_by,
                "cargo lambda watch did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let endpoint = api_tests::endpoint();
        let mut functions = Vec::new();
        let mut names: Vec<&str> = CASES.iter().map(|(_, function, _)| *function).collect();
        names.dedup();
        names.sort();
        names.dedup();
        for name in names {
            let child = Command::new(api_tests::binary(name))
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt/{name}"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("TABLE_NAME", stack.table())
                .env("DYNAMODB_ENDPOINT", &endpoint)
                .env("AWS_REGION", "us-east-1")
                .env("RUST_LOG", "warn")
                .env(
                    shared::adapters::sqs::QUEUE_URL_VAR,
                    "http://127.0.0.1:9/000000000000/emulator-deliveries",
                )
                .env(shared::adapters::sealer::LOCAL_KEK_VAR, LOCAL_KEK)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            functions.push(child);
        }
        let payloads = std::env::temp_dir().join(format!("emulator-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&payloads).unwrap();
        Self {
            port,
            watch,
            functions,
            payloads,
        }
    }

    /// `cargo lambda invoke <function> --data-file <payload>`: the function's answer.
    async fn invoke(&self, function: &str, event: &str, payload: &str) -> (Answer, Value) {
        let file = self.payloads.join(format!("{event}.json"));
        std::fs::write(&file, payload).unwrap();
        let output = Command::new(api_tests::python_tool("cargo-lambda"))
            .args(["lambda", "invoke", function, "--data-file"])
            .arg(&file)
            .args(["-A", "127.0.0.1", "-P", &self.port.to_string()])
            .args(["--output-format", "json"])
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "cargo lambda invoke {function} {event}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        let observed = match answer["statusCode"].as_u64() {
            Some(status) => Status(status as u16),
            None => Failures(answer["batchItemFailures"].as_array().map_or(0, Vec::len)),
        };
        (observed, answer)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.watch.start_kill();
        for function in &mut self.functions {
            let _ = function.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.payloads);
    }
}

#[tokio::test]
async fn every_event_payload_answers_the_same_under_cargo_lambdas_emulator_and_in_process() {
    let mut listed: Vec<String> = std::fs::read_dir(api_tests::events_dir())
        .unwrap()
        .filter_map(|entry| Some(entry.ok()?.path().file_stem()?.to_str()?.to_owned()))
        .collect();
    listed.sort();
    let mut cased: Vec<String> = CASES
        .iter()
        .map(|(event, _, _)| event.to_string())
        .collect();
    cased.sort();
    cased.dedup();
    assert_eq!(
        cased, listed,
        "every events/ payload is in the table, and only those"
    );
    let emulated_stack = TestStack::new().await;
    let handler_stack = TestStack::new().await;
    // Keys whose client secrets each side can open: the binaries with the emulator's dev key,
    // the handlers with the stack's.
    let key_for = |stack: &TestStack, sealer: shared::adapters::sealer::LocalSealer| {
        let (store, app) = (stack.store.clone(), stack.app.clone());
        async move {
            let key = shared::domain::apps::issue_api_key(
                &store,
                &sealer,
                &app,
                &shared::model::Scope::ALL,
            )
            .await
            .unwrap();
            shared::dialects::credentials::clients(&app, &key)
        }
    };
    let emulated_clients = key_for(
        &emulated_stack,
        shared::adapters::sealer::LocalSealer::from_hex(LOCAL_KEK).unwrap(),
    )
    .await;
    let handler_clients = key_for(&handler_stack, api_tests::wallets::stack_sealer()).await;
    let emulator = Emulator::start(&emulated_stack).await;
    let (mut emulated_user, mut handler_user) = (None, None);
    let mut wrong = Vec::new();
    for (event, function, expected) in CASES {
        let text = payload(
            &emulated_stack,
            &emulated_clients,
            event,
            emulated_user.as_deref(),
        );
        let (emulated, answer) = emulator.invoke(function, event, &text).await;
        let text = payload(
            &handler_stack,
            &handler_clients,
            event,
            handler_user.as_deref(),
        );
        let (handled, response) = in_process(&handler_stack, function, &text).await;
        if *event == "create-user" {
            emulated_user = created_id(&answer);
            handler_user = created_id(&response);
        }
        println!("{event:<36} {function:<20} emulator {emulated:?}, handler {handled:?}");
        if emulated != *expected || handled != *expected {
            wrong.push(format!(
                "{event} ({function}): expected {expected:?}, emulator {emulated:?} {answer}, handler {handled:?} {response}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
