//! What an export of an app's users needs: the job's record and the users page by page (the
//! table), somewhere to write its parts (S3 in AWS, a directory locally), and a way to ask
//! for a run (SQS in AWS, a task of the local API locally).

use std::future::Future;

use super::StoreError;
pub use crate::model::export::{ExportJob, ExportPart, ExportStatus};
use crate::model::{AppId, User, UserId};

/// The job's record, and the app's users in pages an export can resume between.
pub trait ExportStore: Send + Sync {
    /// Records a new job; its id must be new.
    fn create_export(
        &self,
        app: &AppId,
        job: &ExportJob,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The job `id` of `app`, read consistently.
    fn get_export(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<Option<ExportJob>, StoreError>> + Send;

    /// Replaces the job's record with `job` if the record is still the one last changed at
    /// `seen` (its `updated_at`, which every change moves forward); `false` (nothing written)
    /// if another run or reader changed it first.
    fn advance_export(
        &self,
        app: &AppId,
        job: &ExportJob,
        seen: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The next users of `app` older than `before` (from the newest if `None`), newest first,
    /// each once, read in one moment; and the id the next page starts below, `None` after
    /// the oldest. A page holds at least one user unless it is the last; its size is the
    /// store's choice (about `size`).
    fn export_page(
        &self,
        app: &AppId,
        before: Option<UserId>,
        size: usize,
    ) -> impl Future<Output = Result<(Vec<User>, Option<UserId>), StoreError>> + Send;
}

/// A failure to write or link a part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("export files: {0}")]
pub struct ExportFilesError(pub String);

/// Where parts go, and how a caller fetches them.
pub trait ExportFiles: Send + Sync {
    /// Writes the part `name` of job `id` whole: a reader never sees half of it.
    fn write_part(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), ExportFilesError>> + Send;

    /// Removes a part nobody recorded (a run that lost the race to record it).
    fn remove_part(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), ExportFilesError>> + Send;

    /// Where the part can be fetched from, and until when (RFC 3339) if the link expires.
    fn link(
        &self,
        app: &AppId,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(String, Option<String>), ExportFilesError>> + Send;
}

/// Asks for a run of an export (the first, or the next after a run ran out of time).
pub trait ExportRuns: Send + Sync {
    fn request_run(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<(), ExportFilesError>> + Send;
}
