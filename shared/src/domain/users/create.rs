//! Creating users: create, and find-or-create.

use super::{MAX_ATTEMPTS, UsersError, taken_fields};
use crate::clock;
use crate::domain::retry::{Next, retrying};
use crate::model::{AppId, Identifier, LinkedAccount, NewUser, User, UserId, UserStatus, Wallet};
use crate::ports::{UserStore, WriteError};

/// Creates a user from a valid request: 409-style `Taken` naming each identifier that another
/// user holds. Either the user and all its guards are written, or nothing is.
pub async fn create_user<S: UserStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<User, UsersError> {
    let user = &new_user_record(request);
    let fields = &request.identifiers();
    let identifiers = &identifiers_of(fields);
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        match store.insert_user(app, user, identifiers).await {
            Ok(()) => Ok(Next::Done(user.clone())),
            Err(WriteError::Taken(taken)) => Err(taken_fields(fields, taken)),
            Err(WriteError::Contention | WriteError::Stale) => Ok(Next::BackOff),
            Err(WriteError::Store(error)) => Err(error.into()),
        }
    })
    .await
}

/// Returns the one existing user the request's identifiers match (`false`), or creates one
/// (`true`). Identifiers matching two users are `Ambiguous`. An existing user is returned
/// as it is: find-or-create never modifies a user.
///
/// Racing calls converge: the loser of the create transaction re-reads the guards and returns
/// the winner, so every caller gets the same user and exactly one sees `true`.
pub async fn find_or_create_user<S: UserStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<(User, bool), UsersError> {
    let fields = &request.identifiers();
    let identifiers = &identifiers_of(fields);
    let user = &new_user_record(request);
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        let owners = futures::future::try_join_all(
            identifiers
                .iter()
                .map(|identifier| store.find_owner(app, identifier)),
        )
        .await?;
        let matches: Vec<(String, UserId)> = fields
            .iter()
            .zip(&owners)
            .filter_map(|((field, _), owner)| owner.map(|owner| (field.clone(), owner)))
            .collect();
        let mut distinct: Vec<UserId> = matches.iter().map(|(_, id)| *id).collect();
        distinct.sort();
        distinct.dedup();
        match distinct.as_slice() {
            [] => match store.insert_user(app, user, identifiers).await {
                Ok(()) => Ok(Next::Done((user.clone(), true))),
                // Someone else claimed an identifier since we read: read again to find them.
                Err(WriteError::Taken(_)) => Ok(Next::ReadAgain),
                Err(WriteError::Contention | WriteError::Stale) => Ok(Next::BackOff),
                Err(WriteError::Store(error)) => Err(error.into()),
            },
            // The owner may have been deleted between the two reads: then look again.
            [owner] => Ok(match store.get_user(app, *owner).await? {
                Some(existing) => Next::Done((existing, false)),
                None => Next::ReadAgain,
            }),
            _ => Err(UsersError::Ambiguous(matches)),
        }
    })
    .await
}

fn identifiers_of(fields: &[(String, Identifier)]) -> Vec<Identifier> {
    fields.iter().map(|(_, id)| id.clone()).collect()
}

/// The user a valid request creates: a fresh id, version 1, its wallets pending.
fn new_user_record(request: &NewUser) -> User {
    let now = clock::now_rfc3339();
    User {
        id: UserId::generate(),
        external_id: request.external_id.clone(),
        email: request
            .email
            .as_ref()
            .map(|email| email.as_str().to_owned()),
        username: request.username.clone(),
        linked_accounts: request
            .held_accounts()
            .map(|account| LinkedAccount {
                linked_at: Some(now.clone()),
                ..account.clone()
            })
            .collect(),
        custom_metadata: request.custom_metadata.clone(),
        wallets: request
            .wallets
            .iter()
            .copied()
            .map(Wallet::pending)
            .collect(),
        status: UserStatus::Active,
        disabled_at: None,
        disabled_reason: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    }
}
