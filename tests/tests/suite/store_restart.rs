//! DynamoDB Local killed (SIGKILL) in the middle of a bounded load of creates and
//! find-or-creates, restarted on the same files (`-dbPath`), and the load finished: every answer
//! is 2xx, 409 or 503 in the envelope; every user that got a 201 exists; every identifier guard
//! belongs to an existing user; and the stream consumer then creates every pending wallet.

// A test reports failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use api_tests::TestStack;
use api_tests::wallets::test_sealer;
use serde_json::json;
use tokio::sync::Mutex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(args: &[&str]) {
    let status = std::process::Command::new(root().join("scripts/dynamodb-local.sh"))
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "dynamodb-local.sh {args:?}");
}

/// Sends `signal` to the instance on `port`.
fn kill(port: u16, signal: &str) {
    let pid = std::fs::read_to_string(root().join(format!(".local/dynamodb-{port}.pid"))).unwrap();
    let status = std::process::Command::new("kill")
        .args([signal, pid.trim()])
        .status()
        .unwrap();
    assert!(status.success());
}

struct Local {
    port: u16,
}

impl Drop for Local {
    fn drop(&mut self) {
        script(&["stop", &self.port.to_string()]);
    }
}

#[tokio::test]
async fn a_store_crash_mid_load_loses_nothing_and_duplicates_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("ddb-restart-{}", uuid::Uuid::new_v4().simple()));
    let dir_text = dir.to_string_lossy().into_owned();
    script(&["start", &port.to_string(), &dir_text]);
    let local = Local { port };
    let endpoint = format!("http://127.0.0.1:{port}");

    let client = shared::config::dynamodb_client(Some(&endpoint)).await;
    let table = "restart";
    shared::adapters::dynamo::schema::ensure_table(&client, table)
        .await
        .unwrap();
    let store = shared::adapters::DynamoStore::new(client, table);
    let (app, key) =
        shared::domain::apps::create_app(&store, &api_tests::wallets::stack_sealer(), "restart")
            .await
            .unwrap();
    let stack = Arc::new(TestStack {
        store,
        app: app.app_id,
        api_key: key.token,
    });

    // Four clients, 60 requests each: a new user, then a find-or-create of one of 20 emails.
    let answers = Arc::new(Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (stack, answers) = (Arc::clone(&stack), Arc::clone(&answers));
        clients.push(tokio::spawn(async move {
            for n in 0..60 {
                let (route, response) = if n % 2 == 0 {
                    let body = json!({"email": format!("c{client}-{n}@example.com")});
                    let request =
                        api_tests::request("POST", "/v1/users", &stack.api_key, Some(&body));
                    ("create", create_user::handle(&stack.store, request).await)
                } else {
                    let body = json!({"email": format!("shared{}@example.com", n % 20)});
                    let request = api_tests::request(
                        "POST",
                        "/v1/users/find-or-create",
                        &stack.api_key,
                        Some(&body),
                    );
                    (
                        "find-or-create",
                        find_or_create_user::handle(&stack.store, request).await,
                    )
                };
                let retry_after = response.headers().contains_key("retry-after");
                let (status, body) = api_tests::parts(&response);
                answers
                    .lock()
                    .await
                    .push((route, status, body, retry_after));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    // Let the load run, then crash the store and bring it back on the same files.
    tokio::time::sleep(Duration::from_millis(600)).await;
    kill(port, "-TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    script(&["start", &port.to_string(), &dir_text]);
    for client in clients {
        client.await.unwrap();
    }

    let answers = answers.lock().await;
    let unavailable = answers.iter().filter(|a| a.1 == 503).count();
    for (route, status, body, retry_after) in answers.iter() {
        assert!(
            matches!(status, 200 | 201 | 409 | 503),
            "{route}: {status} {body}"
        );
        assert!(
            body["success"].is_boolean(),
            "{route}: not the envelope: {body}"
        );
        if *status == 503 {
            assert_eq!(body["error"]["code"], "service_unavailable");
            assert!(retry_after, "a 503 without Retry-After");
        }
    }
    assert!(unavailable > 0, "the crash was not noticed: no 503 at all");
    assert!(
        answers.iter().filter(|a| a.1 / 100 == 2).count() > unavailable,
        "the load did not finish after the restart"
    );

    // Every user that got a 201 exists; every guard is its user's.
    for (_, status, body, _) in answers.iter().filter(|a| a.1 == 201) {
        let user = if body["data"]["user"].is_object() {
            &body["data"]["user"]
        } else {
            &body["data"]
        };
        let id = user["id"].as_str().unwrap();
        let request = api_tests::request("GET", &format!("/v1/users/{id}"), &stack.api_key, None);
        let (status_now, _) = api_tests::parts(&get_user::handle(&stack.store, request).await);
        assert_eq!(status_now, 200, "user {id} answered {status} and is gone");
    }
    stack.assert_guards_match_users().await;
    // One user per shared email however many find-or-creates raced or were retried.
    let users = stack.user_items().await;
    for i in 0..20 {
        let email = format!("shared{i}@example.com");
        let count = users
            .iter()
            .filter(|u| u.get("email").and_then(|e| e.as_s().ok()) == Some(&email))
            .count();
        assert!(count <= 1, "{email}: {count} users");
    }

    // The stream consumer catches up with every pending wallet.
    let services = local_api::Services {
        store: stack.store.clone(),
        sealer: test_sealer(),
        queue: Arc::new(local_api::queue::LocalQueue::new(3)),
        node: local_api::local_node(),
        exports: stack.export_files(),
    };
    let consumer = tokio::spawn(local_api::workers::run_wallet_creator(
        services,
        endpoint.clone(),
        test_sealer(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let users = stack.user_items().await;
        let pending = users
            .into_iter()
            .map(|item| serde_dynamo::from_item::<_, serde_json::Value>(item).unwrap())
            .flat_map(|user| user["wallets"].as_array().cloned().unwrap_or_default())
            .filter(|wallet| wallet["status"] != "ready")
            .count();
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} wallets still not ready after the restart"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    consumer.abort();
    drop(local);
    std::fs::remove_dir_all(&dir).ok();
}
