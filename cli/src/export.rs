//! `export-users`: every user of an app into JSON Lines files on this machine, with the same
//! job (recorded in the table, resumable with `--resume`) the API's exports run.

use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;
use shared::adapters::DynamoStore;
use shared::adapters::export_files::DirectoryFiles;
use shared::domain::exports::{self, ExportLimits};
use shared::model::AppId;
use shared::ports::export::ExportStatus;

/// Writes the export (a new one, or `resume`'s remaining parts) under `out`, reporting each
/// part on stderr; prints the job and its files.
pub async fn export_users(
    store: &DynamoStore,
    app: &AppId,
    out: PathBuf,
    resume: Option<String>,
) -> Result<serde_json::Value, String> {
    let files = DirectoryFiles::new(out).map_err(|e| e.to_string())?;
    let failed = |e: exports::ExportError| e.to_string();
    let id = match resume {
        Some(id) => {
            exports::get_export(store, app, &id)
                .await
                .map_err(failed)?
                .id
        }
        None => exports::start_export(store, app).await.map_err(failed)?.id,
    };
    let mut stderr = std::io::stderr();
    let job = loop {
        // One part per call, so that each is reported as it lands.
        let one = Cell::new(true);
        let job = exports::run_export(store, &files, app, &id, ExportLimits::default(), || {
            one.replace(false)
        })
        .await
        .map_err(failed)?;
        let _ = writeln!(
            stderr,
            "export {id}: {} users in {} parts{}",
            job.users,
            job.parts.len(),
            if job.status == ExportStatus::Done {
                ", done"
            } else {
                ""
            }
        );
        if job.status == ExportStatus::Done {
            break job;
        }
    };
    let paths: Vec<String> = job
        .parts
        .iter()
        .map(|part| files.path(app, &job.id, &part.name).display().to_string())
        .collect();
    Ok(json!({
        "export_id": job.id,
        "users": job.users,
        "files": paths,
        "finished_at": job.finished_at,
    }))
}
