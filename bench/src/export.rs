//! Export throughput (users written per second by one run, against DynamoDB Local) and what
//! exporting a million users costs in AWS, from the capacity DynamoDB charged this run.

use std::collections::HashMap;
use std::time::Instant;

use futures::future::join_all;
use serde_json::json;
use shared::adapters::export_files::DirectoryFiles;
use shared::domain::exports::{self, ExportLimits};

use crate::cost::prices;
use crate::meter::Meter;
use crate::overhead::metered_stack;
use crate::report::Report;

/// The export runner's memory (template.yaml, `RunExportsFunction.MemorySize`).
const RUNNER_MEMORY_MB: f64 = 512.0;
/// S3, per PUT (Standard); parts are kept 7 days, whose storage is too small to count.
const S3_PUT: f64 = 0.005 / 1000.0;

pub async fn run(report: &mut Report, users: usize) {
    let meter = Meter::default();
    let stack = metered_stack(&meter).await;
    // Users as an app has them: an email, an ethereum wallet, a little metadata.
    for wave in (0..users).step_by(200) {
        let batches = (wave..users.min(wave + 200)).step_by(100).map(|start| {
            let batch: Vec<_> = (start..users.min(start + 100))
                .map(|n| {
                    json!({
                        "email": format!("export{n}@example.com"),
                        "custom_metadata": {"plan": "pro", "referrer": format!("campaign-{}", n % 97)},
                    })
                })
                .collect();
            // The batch import's own path, below its per-app budget of imported users.
            let items =
                shared::edge::api::bodies::parse_batch(&json!({ "users": batch })).unwrap();
            let (store, app) = (&stack.store, &stack.app);
            async move {
                let made = shared::domain::users::create_users(store, app, &items, &HashMap::new()).await;
                if let Some(Err(error)) = made.iter().find(|made| made.is_err()) {
                    panic!("seeding: {error:?}");
                }
            }
        });
        join_all(batches).await;
    }
    let dir = std::env::temp_dir().join(format!("bench-export-{}", uuid::Uuid::new_v4().simple()));
    let files = DirectoryFiles::new(&dir).unwrap();
    meter.take();
    let started = Instant::now();
    let job = exports::start_export(&stack.store, &stack.app)
        .await
        .unwrap();
    let job = exports::run_export(
        &stack.store,
        &files,
        &stack.app,
        &job.id,
        ExportLimits::default(),
        || true,
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let usage = meter.take();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(job.users as usize, users);

    let rate = users as f64 / elapsed.as_secs_f64();
    let bytes: u64 = job.parts.iter().map(|part| part.bytes).sum();
    report.figure(
        "export",
        &format!("users exported per second, one run ({users} users)"),
        &format!("{rate:.0}/s"),
        json!({"users_per_s": rate, "users": users, "bytes": bytes, "parts": job.parts.len(),
               "read_units": usage.read_units, "write_units": usage.write_units}),
    );
    // Per million users: the read units this run was charged (the listing's pages, each
    // partition read at once), the job's writes, the runner's time at this run's rate, a PUT
    // per part and a queue message per run.
    let scale = 1e6 / users as f64;
    let dynamodb = (usage.read_units * prices::DYNAMODB_READ_UNIT
        + usage.write_units * prices::DYNAMODB_WRITE_UNIT)
        * scale;
    let runner_seconds = elapsed.as_secs_f64() * scale;
    let lambda = runner_seconds * RUNNER_MEMORY_MB / 1024.0 * prices::LAMBDA_ARM_GB_SECOND
        + (runner_seconds / 840.0).ceil() * prices::LAMBDA_REQUEST;
    let s3 = (1e6 / ExportLimits::default().part_users as f64) * S3_PUT;
    let total = dynamodb + lambda + s3;
    report.figure(
        "cost",
        "per million users exported, USD",
        &format!("${total:.3}"),
        json!({"usd_per_million": total, "dynamodb": dynamodb, "lambda": lambda, "s3": s3,
               "read_units_per_user": usage.read_units / users as f64,
               "bytes_per_user": bytes as f64 / users as f64}),
    );
}
