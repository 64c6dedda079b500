//! The local stand-in for the export queue and `run-exports`: a request for a run starts one
//! in a task of this process, to the end (no Lambda deadline here). Runs racing each other
//! (a GET nudging an export that is only slow) are safe: each part is recorded conditionally.

use shared::adapters::DynamoStore;
use shared::adapters::export_files::DirectoryFiles;
use shared::domain::exports::{self, ExportLimits};
use shared::model::AppId;
use shared::ports::export::{ExportFilesError, ExportRuns};

/// Where the local stack writes exports, under the directory it runs in.
pub const LOCAL_EXPORT_DIR: &str = ".local/exports";

/// Runs exports in this process.
pub struct LocalRuns {
    pub store: DynamoStore,
    pub files: DirectoryFiles,
}

impl ExportRuns for LocalRuns {
    async fn request_run(&self, app: &AppId, id: &str) -> Result<(), ExportFilesError> {
        let (store, files, app, id) = (
            self.store.clone(),
            self.files.clone(),
            app.clone(),
            id.to_owned(),
        );
        tokio::spawn(async move {
            let run =
                exports::run_export(&store, &files, &app, &id, ExportLimits::default(), || true);
            match run.await {
                Ok(job) => tracing::info!(export = %job.id, users = job.users, "export run ended"),
                Err(error) => tracing::error!(%error, export = %id, "export run failed"),
            }
        });
        Ok(())
    }
}
