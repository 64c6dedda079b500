//! Cold start per function: from exec of the release binary to its first completed invocation
//! under a local Lambda Runtime API, client construction and the warm-up read included,
//! against a bare `lambda_http` hello-world built with the same profile in the same run. Before
//! that, one process of each function answers a run of invocations, one at a time as a Lambda
//! sandbox does: its warm latency and its peak resident memory.
//!
//! The warm runs come first because DynamoDB Local is a JVM: its transaction path stays slow
//! for hundreds to a thousand calls, until compiled. Measured first on a fresh DynamoDB Local,
//! `create-user`'s cold start was 39.9 ms, against 10.7 ms once the JVM had seen 2,000
//! creates: the store's warm-up, not the function's (a symbolised profile put `create_user`'s
//! own frames at about 0.35 ms of it). `create-user` also gets fresh identifiers for every
//! invocation, so that it is measured creating users (201), not refusing a repeat (409).

use api_tests::TestStack;
use api_tests::runtime_api::{self, Outcome};
use serde_json::json;

use crate::report::{Report, Stats, Target};

/// Each function and the `events/` payload that invokes it.
const FUNCTIONS: &[(&str, &str)] = &[
    ("create-user", "create-user"),
    ("get-user", "get-user"),
    ("find-or-create-user", "find-or-create-user"),
    ("update-user", "update-user"),
    ("add-wallet", "add-wallet"),
    ("link-account", "link-account"),
    ("unlink-account", "unlink-account"),
    ("delete-user", "delete-user"),
    ("import-users", "import-users"),
    ("webhooks", "list-webhooks"),
    ("fallback", "fallback-not-found"),
    ("create-wallets", "create-wallets-insert"),
    ("publish-events", "create-wallets-insert"),
    ("deliver-webhooks", "deliver-webhooks"),
];

/// Where Amazon Linux and Debian keep the CA bundle.
const CA_BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
];

/// The floor: a hello-world with the same profile (`bench/src/bin/bare-lambda.rs`).
const FLOOR: &str = "bare-lambda";

/// Measures every function; adds cold start, warm latency and memory rows to `report`.
pub async fn run(report: &mut Report, cold_samples: usize, warm_invocations: usize) {
    let stack = TestStack::new().await;
    let endpoint = api_tests::endpoint();
    let env = [
        ("TABLE_NAME", stack.table()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("RUST_LOG", "warn"),
        // The queue functions need a queue URL to start; no event here sends to it. Without
        // EVENT_BUS_NAME events go to the log, without KMS_KEY_ID keys are sealed locally.
        (
            shared::adapters::sqs::QUEUE_URL_VAR,
            "http://127.0.0.1:9/000000000000/bench-deliveries",
        ),
        (
            shared::adapters::sealer::LOCAL_KEK_VAR,
            "00000000000000000000000000000000000000000000000000000000000000aa",
        ),
    ];

    // As in the template: the functions read the CA bundle alone (this machine's path), and no
    // certificate directory (an empty SSL_CERT_DIR names none, overriding an inherited one).
    let bundle = CA_BUNDLES
        .iter()
        .find(|path| std::path::Path::new(path).exists());
    let env: Vec<(&str, &str)> = env
        .into_iter()
        .chain(bundle.map(|path| ("SSL_CERT_FILE", *path)))
        .chain([("SSL_CERT_DIR", "")])
        .collect();
    let mut fresh = 1..;
    let mut events = |function: &str, event: &str, count: usize| -> Vec<String> {
        let template = stack.event_text(event);
        (0..count)
            .map(|_| match function {
                "create-user" => with_fresh_identifiers(&template, fresh.next().unwrap_or(0)),
                _ => template.clone(),
            })
            .collect()
    };
    for (function, event) in FUNCTIONS {
        let run = runtime_api::run(
            &crate::sibling(function),
            &env,
            events(function, event, warm_invocations + 1),
        )
        .await;
        if *function == "create-user" {
            // Measured creating users: every invocation a 201, none a conflict with another.
            for invocation in &run.invocations {
                match &invocation.outcome {
                    Outcome::Response(response) => {
                        assert_eq!(response["statusCode"], 201, "{response}")
                    }
                    Outcome::Error(error) => panic!("create-user failed: {error}"),
                }
            }
        }
        let mut warm: Vec<_> = run.invocations[1..].iter().map(|i| i.elapsed).collect();
        report.timing(
            "warm",
            &format!("{function}: one invocation, warm"),
            Stats::of(&mut warm),
        );
        let rss = run.peak_rss_kib.unwrap_or(0);
        report.figure_with_target(
            "memory",
            &format!("{function}: peak RSS after {warm_invocations} invocations"),
            &format!("{:.1} MB", rss as f64 / 1024.0),
            json!({"peak_rss_kib": rss, "invocations": warm_invocations + 1}),
            "<= 40 MB",
            rss <= 40 * 1024,
        );
    }
    let floor_event = stack.event_text("get-user");
    let floor = cold_starts(FLOOR, &env, &[floor_event], cold_samples).await;
    report.timing("cold start", "bare lambda_http hello-world (floor)", floor);
    for (function, event) in FUNCTIONS {
        let samples = events(function, event, cold_samples + 1);
        let cold = cold_starts(function, &env, &samples, cold_samples).await;
        let ratio = cold.median_ms() / floor.median_ms();
        report.timing(
            "cold start",
            &format!("{function}: exec -> first answer"),
            cold,
        );
        report.ratio(
            "cold start",
            &format!("{function}: cold start / floor, medians"),
            ratio,
            Target::AtMost(1.5),
        );
    }
}

/// `create-user`'s event with identifiers no other invocation used (number `n`): a user it
/// creates rather than a conflict with the one before.
fn with_fresh_identifiers(event: &str, n: usize) -> String {
    let mut event: serde_json::Value = serde_json::from_str(event).unwrap();
    let body = json!({
        "external_id": format!("bench-{n}"),
        "email": format!("bench-{n}@example.com"),
        "username": "ada",
        "linked_accounts": [
            {"type": "wallet", "chain_type": "ethereum", "address": format!("0x{n:040x}")},
            {"type": "twitter", "subject": format!("bench-{n}"), "username": "ada_l"}
        ],
        "custom_metadata": {"plan": "pro"},
        "wallets": [{"chain_type": "ethereum"}, {"chain_type": "solana"}]
    })
    .to_string();
    event["headers"]["content-length"] = json!(body.len().to_string());
    event["body"] = json!(body);
    event.to_string()
}

/// `samples` fresh processes of `function`, each timed from exec to its first answer, after one
/// untimed: sample `i` answers `events[i + 1]`, or the only event if there is one.
async fn cold_starts(
    function: &str,
    env: &[(&str, &str)],
    events: &[String],
    samples: usize,
) -> Stats {
    let binary = crate::sibling(function);
    let event = |i: usize| events.get(i).or(events.first()).map_or("", String::as_str);
    // One untimed run first (the page cache, the binary's first exec).
    runtime_api::invoke(&binary, env, event(0)).await;
    let mut times = Vec::with_capacity(samples);
    for i in 1..=samples {
        let invocation = runtime_api::invoke(&binary, env, event(i)).await;
        if let Outcome::Error(error) = &invocation.outcome {
            // A function that cannot start locally is reported, not timed.
            println!("{function}: answered with an error: {error}");
        }
        times.push(invocation.elapsed);
    }
    Stats::of(&mut times)
}
