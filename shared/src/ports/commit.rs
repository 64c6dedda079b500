//! The idempotency key's outcome, committed in the same transaction as the write it answers.
//!
//! A write can commit while its client hears nothing of it: every SDK attempt lost its answer,
//! or the invocation's deadline came first. Completing the key afterwards would leave such a
//! write behind an in-progress key, and its retry would run it again (a create would then
//! answer 409 against its own user). So while a request runs under a key, the store asks here
//! what to commit beside each user write: the key's completed record (status, body and ETag of
//! the success this write is), or for a batch, a receipt of the row it creates. A retry then
//! replays the committed success, byte for byte, whatever the first request's client heard.
//!
//! The context travels as a task-local, set by `idempotency::run` around the operation, so
//! the domain's operations and the store's traits stay as they are.

use std::sync::{Arc, Mutex};

use super::idempotency::Rendered;
pub use super::idempotency::RowReceipt;
use crate::model::{AppId, User};

/// What an operation learnt before its write that its success shows besides the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notes {
    /// Whether the user matches an allowlist entry (find-or-create shows it).
    pub on_allowlist: bool,
}

/// Renders the success of a write of the user.
pub type Render = dyn Fn(&User, &Notes) -> Rendered + Send + Sync;

/// How an operation's success follows from the user its write commits (or deletes).
pub enum OnCommit {
    /// The success of any write this operation commits, as it is sent.
    Reply(Box<Render>),
    /// A batch: each row's write commits a receipt of the user it created.
    Rows,
    /// Writes that carry nothing: the key is completed after the operation returns.
    Nothing,
}

/// What a write under a key commits beside itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The key's record, completed with the success this write is.
    Key {
        app: AppId,
        key: String,
        /// The claim's token: only its holder completes the key.
        token: String,
        rendered: Rendered,
    },
    /// A batch row's receipt: the user that row created.
    Row(RowReceipt),
}

/// The request running under a key.
pub(crate) struct InFlight {
    pub(crate) app: AppId,
    pub(crate) key: String,
    pub(crate) token: String,
    pub(crate) fingerprint: String,
    pub(crate) expires_at: u64,
    pub(crate) on_commit: OnCommit,
    /// The success a write committed, once one did.
    pub(crate) committed: Mutex<Option<Rendered>>,
    /// What the operation noted for its success.
    pub(crate) notes: Mutex<Notes>,
}

/// Notes, for the success of the write that follows, whether the user is on the allowlist.
pub fn note_on_allowlist(on_allowlist: bool) {
    let _ = IN_FLIGHT.try_with(|in_flight| {
        if let Ok(mut notes) = in_flight.notes.lock() {
            notes.on_allowlist = on_allowlist;
        }
    });
}

tokio::task_local! {
    static IN_FLIGHT: Arc<InFlight>;
    static ROW: usize;
}

/// Runs `work` with `in_flight` as the request's key context.
pub(crate) async fn scope<F: Future>(in_flight: Arc<InFlight>, work: F) -> F::Output {
    IN_FLIGHT.scope(in_flight, work).await
}

/// Runs `work` as row `index` of a batch: its write commits that row's receipt.
pub async fn row<F: Future>(index: usize, work: F) -> F::Output {
    ROW.scope(index, work).await
}

/// What a write of `user` (or its deletion) must commit beside itself, if it runs under a key.
pub fn pending(user: &User) -> Option<Completion> {
    IN_FLIGHT
        .try_with(|in_flight| match &in_flight.on_commit {
            OnCommit::Reply(render) => Some(Completion::Key {
                app: in_flight.app.clone(),
                key: in_flight.key.clone(),
                token: in_flight.token.clone(),
                rendered: render(
                    user,
                    &in_flight.notes.lock().map(|n| *n).unwrap_or_default(),
                ),
            }),
            OnCommit::Rows => {
                let index = ROW.try_with(|index| *index).ok()?;
                Some(Completion::Row(RowReceipt {
                    app: in_flight.app.clone(),
                    key: in_flight.key.clone(),
                    index,
                    fingerprint: in_flight.fingerprint.clone(),
                    expires_at: in_flight.expires_at,
                    user: serde_json::to_string(user).ok()?,
                }))
            }
            OnCommit::Nothing => None,
        })
        .ok()
        .flatten()
}

/// Tells the request that the transaction carrying `completion` committed.
pub fn committed(completion: &Completion) {
    if let Completion::Key { rendered, .. } = completion {
        let _ = IN_FLIGHT.try_with(|in_flight| {
            if let Ok(mut committed) = in_flight.committed.lock() {
                *committed = Some(rendered.clone());
            }
        });
    }
}

/// The app, key and fingerprint of the request running under a key, if one is.
pub(crate) fn current() -> Option<(AppId, String, String)> {
    IN_FLIGHT
        .try_with(|f| (f.app.clone(), f.key.clone(), f.fingerprint.clone()))
        .ok()
}
