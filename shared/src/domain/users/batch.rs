//! Importing users: a batch of creates, each atomic on its own.

use std::collections::HashMap;

use futures::StreamExt;

use super::{UsersError, create_user};
use crate::model::validation::FieldError;
use crate::model::{AppId, Identifier, NewUser, User};
use crate::ports::UserStore;
use crate::ports::access::AccessStore;
use crate::ports::commit;

/// The most users one batch may create.
pub const MAX_BATCH: usize = 100;
/// Creates of a batch in flight at once.
const BATCH_CONCURRENCY: usize = 10;

/// Creates each valid user of a batch, atomically on its own: one failure never blocks the
/// others. An identifier that repeats an earlier item's is a conflict naming that item. Rows
/// in `committed` were created by an earlier run of the same request: their users are
/// returned as they were, not created again. Each row's create runs as that row
/// ([`commit::row`]), so under an idempotency key it commits a receipt of itself.
pub async fn create_users<S: UserStore + AccessStore>(
    store: &S,
    app: &AppId,
    items: &[Result<NewUser, Vec<FieldError>>],
    committed: &HashMap<usize, User>,
) -> Vec<Result<User, UsersError>> {
    let mut seen: Vec<(Identifier, usize)> = Vec::new();
    let mut plan: Vec<Result<&NewUser, UsersError>> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let planned = match item {
            Err(errors) => Err(UsersError::Invalid(errors.clone())),
            Ok(user) => {
                let repeats: Vec<FieldError> = user
                    .identifiers()
                    .into_iter()
                    .filter_map(|(field, identifier)| {
                        let (_, first) = seen.iter().find(|(seen, _)| *seen == identifier)?;
                        Some(FieldError::new(
                            field,
                            format!("repeats users[{first}] of this batch"),
                        ))
                    })
                    .collect();
                for (_, identifier) in user.identifiers() {
                    seen.push((identifier, index));
                }
                if repeats.is_empty() {
                    Ok(user)
                } else {
                    Err(UsersError::Repeats(repeats))
                }
            }
        };
        plan.push(planned);
    }
    let creates: Vec<_> = plan
        .into_iter()
        .enumerate()
        .map(|(index, planned)| async move {
            match (planned, committed.get(&index)) {
                (Ok(_), Some(user)) => Ok(user.clone()),
                (Ok(user), None) => commit::row(index, create_user(store, app, user)).await,
                (Err(error), _) => Err(error),
            }
        })
        .collect();
    futures::stream::iter(creates)
        .buffered(BATCH_CONCURRENCY)
        .collect()
        .await
}
