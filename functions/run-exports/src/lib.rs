//! Export runs, fed by the export queue (batches of one). A run writes parts until less than
//! [`MARGIN`] of the invocation is left, then asks for the next run and ends; each part is
//! recorded as it is written, so a run that dies anywhere is resumed by the queue's retry
//! (or, past those, by the next `GET /v1/exports/{id}`) from the last recorded part.

use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::SqsEvent;
use shared::adapters::sqs::ExportRun;
use shared::domain::exports::{self, ExportError, ExportLimits};
use shared::ports::export::{ExportFiles, ExportRuns, ExportStore};

/// Time kept in hand at the end of an invocation: more than one part takes to read and write.
pub const MARGIN: Duration = Duration::from_secs(60);

/// A run that failed: the queue offers its message again.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Runs the export each message asks for, until `deadline` is `MARGIN` away. An error fails
/// the invocation, so the queue offers the message again.
pub async fn handle<S, F, R>(
    store: &S,
    files: &F,
    runs: &R,
    event: SqsEvent,
    deadline: SystemTime,
) -> Result<(), RunError>
where
    S: ExportStore,
    F: ExportFiles,
    R: ExportRuns,
{
    for message in event.records {
        let body = message.body.unwrap_or_default();
        let run: ExportRun = match serde_json::from_str(&body) {
            Ok(run) => run,
            // Retrying would not make it one: logged, and dropped.
            Err(error) => {
                tracing::error!(%error, "not an export run; the message is dropped");
                continue;
            }
        };
        let keep_going = || {
            deadline
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > MARGIN)
        };
        let job = exports::run_and_hand_over(
            store,
            files,
            runs,
            &run.app_id,
            &run.export_id,
            ExportLimits::default(),
            keep_going,
        )
        .await;
        match job {
            Ok(job) => {
                tracing::info!(export = %job.id, users = job.users, status = ?job.status, "export run ended")
            }
            // An export that expired (its record is kept as long as its files) is done with.
            Err(ExportError::NotFound) => {
                tracing::warn!(export = %run.export_id, "no such export; the message is dropped")
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
