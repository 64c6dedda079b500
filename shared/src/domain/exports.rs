//! Exports of an app's users: [`start_export`] records a job, [`run_export`] writes it part by
//! part. Every part is recorded with the cursor after it in one conditional write, so a run
//! that stops anywhere (out of time, crashed, a second run racing it) is resumed by the next
//! from the last recorded part, and no user is written twice.
//!
//! Consistency: users are read newest first by id, in pages that each read every partition of
//! the listing at one moment, and the cursor only moves down. A user therefore appears once,
//! in the state its page read; users created after the export began are left out. (The
//! listing is an index that follows writes by a moment: a user written in that moment of its
//! page can be read where it was, or not yet where it goes; docs/moving.md says so.) Memory is
//! bounded by one part ([`ExportLimits::part_users`] users) whatever the app's size.

use crate::clock;
use crate::model::AppId;
use crate::model::ids::{NoRandom, random_id};
use crate::ports::StoreError;
use crate::ports::export::{
    ExportFiles, ExportFilesError, ExportJob, ExportPart, ExportRuns, ExportStatus, ExportStore,
};

/// What an export failed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("export not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] ExportFilesError),
    /// A user that would not serialise: a bug, not an input.
    #[error("serialising a user: {0}")]
    Serialise(String),
    #[error(transparent)]
    Random(#[from] NoRandom),
}

/// How big the pieces of an export are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportLimits {
    /// Users per part: the most one run holds in memory (a user is at most about 400 KB, a
    /// DynamoDB item; typically under 2 KB).
    pub part_users: usize,
    /// About how many users each read of the table returns.
    pub page_users: usize,
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            part_users: 10_000,
            page_users: 1_000,
        }
    }
}

/// Records a new export of `app`'s users, not yet run.
pub async fn start_export<S: ExportStore>(
    store: &S,
    app: &AppId,
) -> Result<ExportJob, ExportError> {
    let now = clock::now_rfc3339();
    let job = ExportJob {
        id: random_id("ux")?,
        status: ExportStatus::Running,
        users: 0,
        parts: Vec::new(),
        // Below the id a user created now would get: users created after the export began
        // are not in it.
        cursor: Some(crate::model::UserId::generate()),
        created_at: now.clone(),
        updated_at: now,
        finished_at: None,
    };
    store.create_export(app, &job).await?;
    Ok(job)
}

/// The export `id` of `app`.
pub async fn get_export<S: ExportStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<ExportJob, ExportError> {
    // Not an id this API makes: no such export, without asking the store.
    let well_formed = id
        .strip_prefix("ux_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(ExportError::NotFound);
    }
    store
        .get_export(app, id)
        .await?
        .ok_or(ExportError::NotFound)
}

/// Writes the export's remaining parts while `keep_going()` says so before each part; the job
/// as recorded when it stops: done, or still running for the next run to resume (this one ran
/// out of time, or found another run recording parts and left the export to it).
pub async fn run_export<S, F>(
    store: &S,
    files: &F,
    app: &AppId,
    id: &str,
    limits: ExportLimits,
    keep_going: impl Fn() -> bool,
) -> Result<ExportJob, ExportError>
where
    S: ExportStore,
    F: ExportFiles,
{
    let mut job = get_export(store, app, id).await?;
    while job.status == ExportStatus::Running && keep_going() {
        let part = read_part(store, app, job.cursor, limits).await?;
        let parts_before = job.parts.len();
        let mut next = job.clone();
        let written = if part.users > 0 {
            // The run's mark: 8 hex digits of a fresh id.
            let mark = &random_id("run")?[4..12];
            let name = format!("part-{:05}-{mark}.jsonl", parts_before + 1);
            let bytes = part.lines.len() as u64;
            files.write_part(app, id, &name, part.lines).await?;
            next.parts.push(ExportPart {
                name: name.clone(),
                users: part.users,
                bytes,
            });
            next.users += part.users;
            Some(name)
        } else {
            None
        };
        next.cursor = part.next;
        next.updated_at = clock::now_after(&job.updated_at);
        if part.next.is_none() {
            next.status = ExportStatus::Done;
            next.finished_at = Some(next.updated_at.clone());
        }
        if store.advance_export(app, &next, &job.updated_at).await? {
            job = next;
            continue;
        }
        let recorded = get_export(store, app, id).await?;
        match written {
            // Our write landed, its answer did not: the SDK's retry then found the record
            // changed (by itself). The part is ours, and this run goes on.
            Some(name) if recorded.parts.iter().any(|part| part.name == name) => job = recorded,
            // Another run (or a reader asking for one) changed the record first: that run
            // carries on, and this one stops, its part removed.
            Some(name) => {
                files.remove_part(app, id, &name).await?;
                return Ok(recorded);
            }
            None => return Ok(recorded),
        }
    }
    Ok(job)
}

/// One run, as a worker makes it: [`run_export`] while `keep_going()`, then, if the export is
/// not done, a request for the next run (a Lambda's time runs out long before a large app's
/// export is written).
pub async fn run_and_hand_over<S, F, R>(
    store: &S,
    files: &F,
    runs: &R,
    app: &AppId,
    id: &str,
    limits: ExportLimits,
    keep_going: impl Fn() -> bool,
) -> Result<ExportJob, ExportError>
where
    S: ExportStore,
    F: ExportFiles,
    R: ExportRuns,
{
    let job = run_export(store, files, app, id, limits, &keep_going).await?;
    // Out of time: the next run is this one's to ask for. A run that stopped with time left
    // found another run at work, which asks when its own time is out.
    if job.status == ExportStatus::Running && !keep_going() {
        runs.request_run(app, id).await?;
    }
    Ok(job)
}

/// The JSON Lines of the users after `cursor`, up to about a part's worth.
struct Part {
    lines: Vec<u8>,
    users: u64,
    next: Option<crate::model::UserId>,
}

async fn read_part<S: ExportStore>(
    store: &S,
    app: &AppId,
    mut cursor: Option<crate::model::UserId>,
    limits: ExportLimits,
) -> Result<Part, ExportError> {
    let mut part = Part {
        lines: Vec::new(),
        users: 0,
        next: cursor,
    };
    while (part.users as usize) < limits.part_users {
        let size = limits
            .page_users
            .min(limits.part_users - part.users as usize);
        let (users, next) = store.export_page(app, cursor, size).await?;
        for user in &users {
            serde_json::to_writer(&mut part.lines, user)
                .map_err(|e| ExportError::Serialise(e.to_string()))?;
            part.lines.push(b'\n');
            part.users += 1;
        }
        part.next = next;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(part)
}

/// How long a running export may go without recording a part before a reader of it asks for
/// another run: far longer than one part takes, so a healthy export is never run twice at
/// once, and an export whose run was lost (a crash past its queue's retries) never hangs.
pub const STALL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Whether `job` is running but has recorded nothing for [`STALL`].
pub fn stalled(job: &ExportJob) -> bool {
    let limit = clock::format_rfc3339(time::OffsetDateTime::now_utc() - STALL);
    job.status == ExportStatus::Running && job.updated_at < limit
}

/// `job` as a reader sees it; if it is [`stalled`], first marked as seen now and another run
/// asked for. The mark is conditional, so of the readers of a stalled export only those who
/// read it at the same moment ask (one, or a few), and no more for the next [`STALL`]; a run
/// still at work that finds the mark stops, and the new run carries on from its last part.
pub async fn resume_if_stalled<S, R>(
    store: &S,
    runs: &R,
    app: &AppId,
    job: ExportJob,
) -> Result<ExportJob, ExportError>
where
    S: ExportStore,
    R: ExportRuns,
{
    if !stalled(&job) {
        return Ok(job);
    }
    let marked = ExportJob {
        updated_at: clock::now_after(&job.updated_at),
        ..job.clone()
    };
    if !store.advance_export(app, &marked, &job.updated_at).await? {
        return get_export(store, app, &job.id).await;
    }
    runs.request_run(app, &job.id).await?;
    Ok(marked)
}
