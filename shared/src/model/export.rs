//! An export of an app's users: a job that writes every user, as the API shows it, into JSON
//! Lines files (parts), and records its progress so any run can resume it.

use serde::{Deserialize, Serialize};

use super::UserId;

/// How far an export has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    /// Parts are still being written.
    Running,
    /// Every user is in a part.
    Done,
}

/// One written file of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPart {
    /// The file's name: `part-<n>-<run>.jsonl`. The run's mark keeps a part written by a run
    /// that lost the race to record it from replacing the part that won.
    pub name: String,
    /// How many users (lines) it holds.
    pub users: u64,
    pub bytes: u64,
}

/// An export job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    /// `ux_` and 32 hex digits.
    pub id: String,
    pub status: ExportStatus,
    /// Users written so far: the sum of the parts'.
    pub users: u64,
    /// The parts written, in order.
    pub parts: Vec<ExportPart>,
    /// Where the next part starts: every user older than this one is still to be written.
    /// `None` before the first part (the newest user is the start) and once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<UserId>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}
