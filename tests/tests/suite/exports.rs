//! Exports of every user: `POST /v1/exports`, `GET /v1/exports/{id}`, the runs that write
//! them and the admin CLI's `export-users`, against DynamoDB Local. Each user is in an export
//! once, in a state it had; users created after the export began are not; a run stopped
//! anywhere is resumed without writing a user twice, even by two runs racing.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use api_tests::faults::{Fault, FaultyStore};
use api_tests::{TestStack, parts, request};
use serde_json::{Value, json};
use shared::domain::exports::{self, ExportLimits};
use shared::domain::users;
use shared::model::AppId;
use shared::model::UserId;
use shared::ports::export::{ExportFilesError, ExportJob, ExportRuns, ExportStatus, ExportStore};

/// `count` users through the batch import (`tag` in their emails; an ethereum wallet each if
/// `wallets`); every seventh disabled, so the export reads the disabled users' partition of
/// the listing too. Their ids.
async fn users(stack: &TestStack, tag: &str, count: usize, wallets: bool) -> Vec<String> {
    let chains = if wallets {
        json!([{"chain_type": "ethereum"}])
    } else {
        json!([])
    };
    let mut ids = Vec::new();
    for start in (0..count).step_by(100) {
        let batch: Vec<Value> = (start..count.min(start + 100))
            .map(|n| json!({"email": format!("u{n}-{tag}@example.com"), "custom_metadata": {"n": n}, "wallets": chains}))
            .collect();
        let body = json!({ "users": batch });
        let request = request("POST", "/v1/users/batch", &stack.api_key, Some(&body));
        let (status, body) = parts(&import_users::handle(&stack.store, request).await);
        assert_eq!(status, 200, "{body}");
        for result in body["data"]["results"].as_array().unwrap() {
            assert_eq!(result["status"], 201, "{result}");
            ids.push(result["user"]["id"].as_str().unwrap().to_owned());
        }
    }
    for id in ids.iter().step_by(7) {
        users::disable_user(&stack.store, &stack.app, id, Some("export test"))
            .await
            .unwrap();
    }
    ids
}

/// Every line of the job's parts, as written, in order.
fn lines(stack: &TestStack, job: &ExportJob) -> Vec<Value> {
    let files = stack.export_files();
    let mut lines = Vec::new();
    for part in &job.parts {
        let text = std::fs::read_to_string(files.path(&stack.app, &job.id, &part.name)).unwrap();
        let count = text.lines().count() as u64;
        assert_eq!(count, part.users, "{}: lines vs recorded users", part.name);
        assert_eq!(text.len() as u64, part.bytes, "{}: bytes", part.name);
        lines.extend(
            text.lines()
                .map(|line| serde_json::from_str::<Value>(line).unwrap()),
        );
    }
    lines
}

/// The export's lines by user id, asserting that none repeats.
fn by_id(lines: &[Value]) -> HashMap<String, Value> {
    let mut seen = HashMap::new();
    for line in lines {
        let id = line["id"].as_str().unwrap().to_owned();
        assert!(
            seen.insert(id.clone(), line.clone()).is_none(),
            "user {id} exported twice"
        );
    }
    seen
}

/// The user as the API shows it now.
async fn current(stack: &TestStack, id: &str) -> Value {
    serde_json::to_value(users::get_user(&stack.store, &stack.app, id).await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_stopped_export_resumes_and_holds_each_user_once_while_users_change() {
    let stack = TestStack::new().await;
    let ids = users(&stack, "resume", 400, false).await;
    let (other_app, _) = stack.other_app().await;
    let files = stack.export_files();
    // Small parts and pages: many parts, pages that cut across the listing's partitions.
    let limits = ExportLimits {
        part_users: 60,
        page_users: 25,
    };

    let job = exports::start_export(&stack.store, &stack.app)
        .await
        .unwrap();
    // A run that runs out of time after two parts.
    let left = Cell::new(2u32);
    let stopped = exports::run_export(&stack.store, &files, &stack.app, &job.id, limits, || {
        left.replace(left.get().saturating_sub(1)) > 0
    })
    .await
    .unwrap();
    assert_eq!(stopped.status, ExportStatus::Running);
    assert_eq!(stopped.parts.len(), 2);
    assert!(stopped.users >= 120, "{} users in two parts", stopped.users);

    // While two runs race to finish it, users change: some are disabled or enabled (moving
    // between the listing's partitions), some edited, some deleted, and new ones arrive.
    let changed: Vec<String> = ids.iter().skip(3).step_by(5).cloned().collect();
    let deleted: Vec<String> = ids.iter().skip(4).step_by(11).cloned().collect();
    let writer = {
        let (store, app, changed, deleted) = (
            stack.store.clone(),
            stack.app.clone(),
            changed.clone(),
            deleted.clone(),
        );
        tokio::spawn(async move {
            for (n, id) in changed.iter().enumerate() {
                let user = users::get_user(&store, &app, id).await.unwrap();
                if user.status == shared::model::UserStatus::Disabled {
                    users::enable_user(&store, &app, id).await.unwrap();
                } else if n % 2 == 0 {
                    users::disable_user(&store, &app, id, None).await.unwrap();
                } else {
                    let metadata = json!({"changed": n}).as_object().unwrap().clone();
                    users::set_custom_metadata(&store, &app, id, &metadata)
                        .await
                        .unwrap();
                }
            }
            for id in &deleted {
                if users::delete_user(&store, &app, id, Duration::from_secs(3600))
                    .await
                    .is_err()
                {
                    // Deleted already (it was in `changed` too and gone): fine.
                }
            }
        })
    };
    let late = users(&stack, "late", 30, false).await;
    let (one, two) = tokio::join!(
        exports::run_export(&stack.store, &files, &stack.app, &job.id, limits, || true),
        exports::run_export(&stack.store, &files, &stack.app, &job.id, limits, || true),
    );
    writer.await.unwrap();
    // A run that finds the other recording parts leaves the export to it: one run finishes.
    let recorded = exports::get_export(&stack.store, &stack.app, &job.id)
        .await
        .unwrap();
    let (one, two) = (one.unwrap(), two.unwrap());
    assert!(
        [&one, &two].iter().any(|run| **run == recorded),
        "a run ends on the recorded job"
    );
    let one = recorded;
    assert_eq!(one.status, ExportStatus::Done);
    assert!(one.finished_at.is_some());

    // The files are exactly the recorded parts: a part a losing run wrote is gone.
    let dir = files.path(&stack.app, &job.id, "x");
    let on_disk: HashSet<String> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let parts: HashSet<String> = one.parts.iter().map(|p| p.name.clone()).collect();
    assert_eq!(on_disk, parts);
    assert!(
        one.parts[..2] == stopped.parts[..],
        "recorded parts never change"
    );

    let exported = by_id(&lines(&stack, &one));
    assert_eq!(exported.len() as u64, one.users);
    let late: HashSet<&String> = late.iter().collect();
    let deleted: HashSet<&String> = deleted.iter().collect();
    let changed: HashSet<&String> = changed.iter().collect();
    for id in &ids {
        let line = exported.get(id);
        if deleted.contains(id) {
            // Read before or after its delete: at most once (checked above), either way.
            continue;
        }
        let line = line.unwrap_or_else(|| panic!("user {id} missing from the export"));
        let now = current(&stack, id).await;
        if changed.contains(id) {
            // A state it had: its own id and email, a version no newer than now.
            assert_eq!(line["email"], now["email"]);
            assert!(
                line["version"].as_u64() <= now["version"].as_u64(),
                "{line}"
            );
        } else {
            assert_eq!(
                line, &now,
                "an unchanged user is exported as the API shows it"
            );
        }
    }
    for id in exported.keys() {
        assert!(
            !late.contains(id),
            "a user created after the export began: {id}"
        );
        let id = UserId::parse(id).unwrap();
        assert!(ids.iter().any(|known| *known == id.to_string()));
    }
    // No key material, and nothing of the other app.
    let text = serde_json::to_string(&exported).unwrap();
    for word in ["sealed", "private", "ciphertext", "data_key"] {
        assert!(!text.contains(word), "{word} in the export");
    }
    assert!(!text.contains(other_app.as_str()));
}

#[tokio::test]
async fn an_export_over_http_is_started_polled_and_fetched() {
    let stack = TestStack::new().await;
    let ids = users(&stack, "http", 150, true).await;
    let (url, _services) = stack.serve().await;
    // The export shows each wallet's address and networks: wait until every one is made.
    for id in &ids {
        for _ in 0..400 {
            let user = current(&stack, id).await;
            if user["wallets"][0]["status"] == "ready" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", stack.api_key);

    let started = http
        .post(format!("{url}/v1/exports"))
        .header("authorization", &auth)
        .header("idempotency-key", "export-once")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let started: Value = started.json().await.unwrap();
    let id = started["data"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ux_"), "{started}");
    // A retry with its key is the same export, not a second one.
    let again: Value = http
        .post(format!("{url}/v1/exports"))
        .header("authorization", &auth)
        .header("idempotency-key", "export-once")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["data"]["id"], json!(id));

    let mut done = Value::Null;
    for _ in 0..200 {
        let shown: Value = http
            .get(format!("{url}/v1/exports/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if shown["data"]["status"] == "done" {
            done = shown["data"].clone();
            break;
        }
        assert_eq!(shown["data"]["status"], "running", "{shown}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["users"], json!(150), "{done}");
    let mut exported = Vec::new();
    for file in done["files"].as_array().unwrap() {
        let path = file["url"]
            .as_str()
            .unwrap()
            .strip_prefix("file://")
            .unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text.len() as u64, file["bytes"].as_u64().unwrap());
        exported.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let exported = by_id(&exported);
    let expected: HashSet<&String> = ids.iter().collect();
    assert_eq!(exported.keys().collect::<HashSet<_>>(), expected);
    for (id, line) in &exported {
        assert_eq!(line, &current(&stack, id).await);
        assert_eq!(line["wallets"][0]["status"], "ready", "{line}");
        assert!(
            line["wallets"][0]["address"]
                .as_str()
                .unwrap()
                .starts_with("0x")
        );
        assert_eq!(line["wallets"][0]["networks"][0]["chain_id"], 1);
    }

    // Refusals, in the API's envelope.
    let status = |response: reqwest::Response| response.status().as_u16();
    let narrow = shared::domain::apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        &[
            shared::model::Scope::UsersRead,
            shared::model::Scope::UsersWrite,
        ],
    )
    .await
    .unwrap();
    let narrow = format!("Bearer {}", narrow.token);
    let post = |key: &str| {
        http.post(format!("{url}/v1/exports"))
            .header("authorization", key.to_owned())
    };
    assert_eq!(status(post(&narrow).send().await.unwrap()), 403);
    assert_eq!(
        status(
            http.get(format!("{url}/v1/exports/{id}"))
                .header("authorization", &narrow)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            post(&auth)
                .json(&json!({"format": "csv"}))
                .send()
                .await
                .unwrap()
        ),
        400
    );
    assert_eq!(status(post("Bearer wrong").send().await.unwrap()), 401);
    let missing = http
        .get(format!("{url}/v1/exports/ux_{}", "0".repeat(32)))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(status(missing), 404);
    // Another app's key cannot see this app's export.
    let (_, other_key) = stack.other_app().await;
    let foreign = http
        .get(format!("{url}/v1/exports/{id}"))
        .header("authorization", format!("Bearer {other_key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(foreign), 404);
}

#[tokio::test]
async fn the_admin_cli_exports_every_user_and_resumes_by_id() {
    let stack = TestStack::new().await;
    let ids = users(&stack, "cli", 120, false).await;
    let out = std::env::temp_dir().join(format!("cli-export-{}", uuid::Uuid::new_v4().simple()));
    let admin = |args: Vec<String>| {
        tokio::process::Command::new(api_tests::binary("wallet-users-admin"))
            .args(args)
            .env("TABLE_NAME", stack.table())
            .env("DYNAMODB_ENDPOINT", api_tests::endpoint())
            .output()
    };
    let app = stack.app.to_string();
    let output = admin(vec![
        "export-users".into(),
        "--app-id".into(),
        app.clone(),
        "--out".into(),
        out.display().to_string(),
    ])
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["users"], json!(120));
    assert!(String::from_utf8_lossy(&output.stderr).contains("120 users in 1 parts, done"));
    let mut lines = Vec::new();
    for path in printed["files"].as_array().unwrap() {
        let path = path.as_str().unwrap();
        assert!(path.starts_with(out.to_str().unwrap()), "{path}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o077, 0, "{path} is readable by others: {mode:o}");
        let text = std::fs::read_to_string(path).unwrap();
        lines.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let exported = by_id(&lines);
    assert_eq!(
        exported.keys().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );

    // Resuming a finished export writes nothing more; an unknown one is refused.
    let id = printed["export_id"].as_str().unwrap().to_owned();
    let resumed = admin(vec![
        "export-users".into(),
        "--app-id".into(),
        app.clone(),
        "--out".into(),
        out.display().to_string(),
        "--resume".into(),
        id,
    ])
    .await
    .unwrap();
    assert!(resumed.status.success());
    let resumed: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(resumed["files"], printed["files"]);
    let unknown = admin(vec![
        "export-users".into(),
        "--app-id".into(),
        app,
        "--out".into(),
        out.display().to_string(),
        "--resume".into(),
        format!("ux_{}", "1".repeat(32)),
    ])
    .await
    .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("export not found"));
}

/// Runs asked for, counted (the queue's stand-in).
#[derive(Default)]
struct Counted(AtomicUsize);

impl ExportRuns for Counted {
    async fn request_run(&self, _app: &AppId, _id: &str) -> Result<(), ExportFilesError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

const SMALL: ExportLimits = ExportLimits {
    part_users: 40,
    page_users: 16,
};

#[tokio::test]
async fn a_part_whose_record_was_written_but_unanswered_is_kept() {
    let stack = TestStack::new().await;
    let ids = users(&stack, "lost", 130, false).await;
    let proxy = FaultyStore::start(&api_tests::endpoint()).await;
    let store = proxy.store(stack.table()).await;
    let files = stack.export_files();
    let job = exports::start_export(&stack.store, &stack.app)
        .await
        .unwrap();
    // The first part's record is written, then the connection closes unanswered: the SDK
    // retries, and the retry finds the record changed, by this very run.
    proxy.inject(Some("PutItem"), Fault::ResetAfter, 1);
    let done = exports::run_export(&store, &files, &stack.app, &job.id, SMALL, || true)
        .await
        .unwrap();
    assert_eq!(proxy.applied().get("ResetAfter"), Some(&1));
    assert_eq!(done.status, ExportStatus::Done);
    assert!(done.parts.len() >= 3, "{done:?}");
    let exported = by_id(&lines(&stack, &done));
    assert_eq!(
        exported.keys().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );
}

#[tokio::test]
async fn runs_hand_over_when_out_of_time_and_a_stalled_export_is_resumed_once() {
    let stack = TestStack::new().await;
    users(&stack, "stall", 100, false).await;
    let files = stack.export_files();
    let runs = Counted::default();
    let job = exports::start_export(&stack.store, &stack.app)
        .await
        .unwrap();

    // Out of time after one part: the run asks for the next.
    let left = Cell::new(1u32);
    let ran = exports::run_and_hand_over(
        &stack.store,
        &files,
        &runs,
        &stack.app,
        &job.id,
        SMALL,
        || left.replace(left.get().saturating_sub(1)) > 0,
    )
    .await
    .unwrap();
    assert_eq!((ran.status, ran.parts.len()), (ExportStatus::Running, 1));
    assert_eq!(runs.0.load(Ordering::SeqCst), 1);

    // Not stalled: a reader asks for nothing.
    let seen = exports::resume_if_stalled(&stack.store, &runs, &stack.app, ran.clone())
        .await
        .unwrap();
    assert_eq!(seen, ran);
    assert_eq!(runs.0.load(Ordering::SeqCst), 1);

    // Its run lost: the record says nothing happened for months.
    let stale = ExportJob {
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        ..ran.clone()
    };
    assert!(
        stack
            .store
            .advance_export(&stack.app, &stale, &ran.updated_at)
            .await
            .unwrap()
    );
    assert!(exports::stalled(&stale));
    // Two readers of the stalled export: one asks for a run, the other finds it asked.
    let first = exports::resume_if_stalled(&stack.store, &runs, &stack.app, stale.clone())
        .await
        .unwrap();
    let second = exports::resume_if_stalled(&stack.store, &runs, &stack.app, stale.clone())
        .await
        .unwrap();
    assert_eq!(runs.0.load(Ordering::SeqCst), 2, "one more run asked for");
    assert!(!exports::stalled(&first));
    assert_eq!(second, first);

    // The asked-for run finishes the export from its last recorded part.
    let finished = exports::run_and_hand_over(
        &stack.store,
        &files,
        &runs,
        &stack.app,
        &job.id,
        SMALL,
        || true,
    )
    .await
    .unwrap();
    assert_eq!(finished.status, ExportStatus::Done);
    assert_eq!(
        runs.0.load(Ordering::SeqCst),
        2,
        "a finished run asks for nothing"
    );
    assert_eq!(by_id(&lines(&stack, &finished)).len(), 100);

    // Ids this API never makes are not found, without a store error.
    let long = format!("ux_{}", "a".repeat(400));
    for id in ["", "ux_", "nope", "ux_zz", long.as_str()] {
        let found = exports::get_export(&stack.store, &stack.app, id).await;
        assert_eq!(found, Err(exports::ExportError::NotFound), "{id:?}");
    }
}
