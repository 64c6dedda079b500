//! The developer console in a real browser: Debian's chromium, driven by Playwright
//! (`tests/browser/console_flows.py`), against the local API on its own table with the wallet
//! creator, the event publisher and webhook deliveries running, serving the console's build
//! (`scripts/console-build.sh`, which `scripts/test.sh` runs first). The flows, axe-core on
//! every page, the Content Security Policy and the first load's weight are the script's; this
//! test starts the stack, runs it and requires it to pass.
//!
//! `UPDATE_SCREENSHOTS=1` writes the pages' screenshots to `docs/console/` (the README shows
//! them); otherwise they go to the target directory.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use api_tests::TestStack;
use local_api::{LOCAL_DESTINATIONS, workers};
use shared::adapters::http_sender::Sender;
use shared::domain::webhooks::delivery::RetrySchedule;

/// Where Debian's package puts the browser (`CHROMIUM` overrides it).
const CHROMIUM: &str = "/usr/bin/chromium";

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn an_operator_manages_users_webhooks_and_keys_in_a_real_browser() {
    let stack = TestStack::new().await;
    let (base, services) = stack.serve().await;
    let endpoint = api_tests::endpoint();
    tokio::spawn(workers::run_event_publisher(services.clone(), endpoint));
    let sender = Sender::with_timeout(LOCAL_DESTINATIONS, Duration::from_secs(5)).unwrap();
    let schedule = RetrySchedule::new(vec![Duration::from_millis(200); 2]);
    tokio::spawn(workers::run_deliveries(services.clone(), sender, schedule));

    let root = repository();
    let screenshots = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/console")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
    };
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (.ci/run does: apt-get install chromium)"
    );
    let output = tokio::process::Command::new(api_tests::python_tool("python"))
        .arg(root.join("tests/browser/console_flows.py"))
        .env("CONSOLE_BASE", &base)
        .env("API_KEY", &stack.api_key)
        .env("CHROMIUM", &chromium)
        .env(
            "AXE_JS",
            root.join("console/node_modules/axe-core/axe.min.js"),
        )
        .env("SCREENSHOTS", &screenshots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), output)
        .await
        .expect("the browser flows finish within 5 minutes")
        .expect("the browser flows start");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser flows failed (screenshot in {}):\n{stdout}\n{stderr}",
        screenshots.display()
    );
    // The figures the script measured: the first load's weight and each page's axe-core result.
    let figures: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    println!("{figures:#}");
    let gzip = figures["first_load"]["js_gzip_bytes"].as_u64().unwrap();
    assert!(gzip > 0 && gzip <= 200 * 1024, "{gzip}");
    let pages = figures["axe"].as_object().unwrap();
    assert!(pages.len() >= 10, "{pages:?}");
    assert!(pages.values().all(|page| page["violations"] == 0));
}

/// The local server serves the console on the API's origin under its policy, and, like the
/// deployed API (no CORS configuration: `template::the_api_allows_no_cross_origin_caller…`),
/// answers another origin's preflight and requests without any CORS permission.
#[tokio::test]
async fn the_console_is_served_on_the_apis_origin_and_no_other_origin_is_allowed() {
    let stack = TestStack::new().await;
    let (base, _) = stack.serve().await;
    let client = reqwest::Client::new();
    let page = client.get(format!("{base}/console")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        shared::edge::console::CONTENT_SECURITY_POLICY
    );
    assert!(page.text().await.unwrap().contains("/console/app.js"));
    let script = client
        .get(format!("{base}/console/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );

    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{base}/v1/users"))
        .header("Origin", "https://elsewhere.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    let read = client
        .get(format!("{base}/v1/users?limit=1"))
        .header("Origin", "https://elsewhere.example")
        .bearer_auth(&stack.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    for response in [&preflight, &read] {
        let cors: Vec<_> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{cors:?}");
    }
}
