//! Creating users: create, and find-or-create. A new user is admitted first (the app's
//! allowlist, an open invitation to claim): one batched read, then one transaction that writes
//! the user, its guards and its admission together.

use super::{MAX_ATTEMPTS, UsersError, taken_fields};
use crate::clock;
use crate::domain::access::{self, Admitted, Refusal};
use crate::domain::retry::{Next, retrying};
use crate::model::access::AccessKey;
use crate::model::network;
use crate::model::{AppId, Identifier, LinkedAccount, NewUser, User, UserId, UserStatus, Wallet};
use crate::ports::access::{AccessStore, AdmissionRead};
use crate::ports::{UserStore, WriteError, commit};

/// Creates a user from a valid request: 409-style `Taken` naming each identifier that another
/// user holds, `NotAllowlisted` if the app requires an allowlist match it lacks. Either the
/// user, all its guards and its admission are written, or nothing is.
pub async fn create_user<S: UserStore + AccessStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<User, UsersError> {
    let base = &new_user_record(request);
    let fields = &request.identifiers();
    let identifiers = &identifiers_of(fields);
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        let (keys, read) = access::read_for(store, app, base).await?;
        let (user, admitted) = admitted_user(base, request, &read, &keys)?;
        match insert_admitted(store, app, &user, identifiers, &admitted).await {
            Ok(()) => Ok(Next::Done(user)),
            Err(WriteError::Taken(taken)) => Err(taken_fields(fields, taken)),
            // Writers collided on our items. If one of them committed an identifier of ours,
            // the answer is a 409 already: no attempt of ours could succeed. Under a burst of
            // creates for one email, this ends every loser at once instead of having them
            // collide with each other until their attempts run out.
            Err(WriteError::Contention) => match held(store, app, identifiers).await? {
                taken if taken.is_empty() => Ok(Next::BackOff),
                taken => Err(taken_fields(fields, taken)),
            },
            Err(error) => retry_after(error),
        }
    })
    .await
}

/// The identifiers some user holds, read consistently: by index, with their holder.
async fn held<S: UserStore>(
    store: &S,
    app: &AppId,
    identifiers: &[Identifier],
) -> Result<Vec<(usize, Option<UserId>)>, UsersError> {
    let owners =
        futures::future::try_join_all(identifiers.iter().map(|id| store.find_owner(app, id)))
            .await?;
    Ok(owners
        .into_iter()
        .enumerate()
        .filter_map(|(index, owner)| owner.map(|owner| (index, Some(owner))))
        .collect())
}

/// What find-or-create answers.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundOrCreated {
    pub user: User,
    /// The user is new.
    pub created: bool,
    /// Any of the user's identifiers matches an allowlist entry.
    pub on_allowlist: bool,
}

/// Returns the one existing user the request's identifiers match, or creates one (admitted as
/// a create is). Identifiers matching two users are `Ambiguous`; an email matching a user whose
/// address is another mailbox (it only shares the uniqueness key) is `Taken` naming `email`. An existing user is returned
/// as it is: find-or-create never modifies a user (it marks the allowlist entries it is the
/// first to match accepted).
///
/// Racing calls converge: the loser of the create transaction re-reads the guards and returns
/// the winner, so every caller gets the same user and exactly one sees `created`.
pub async fn find_or_create_user<S: UserStore + AccessStore>(
    store: &S,
    app: &AppId,
    request: &NewUser,
) -> Result<FoundOrCreated, UsersError> {
    let fields = &request.identifiers();
    let identifiers = &identifiers_of(fields);
    let base = &new_user_record(request);
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        // The admission is read with the guards, in one batch: a create needs it, and a found
        // user's allowlist match is read from it.
        let keys = crate::model::access::keys_of(base);
        let (owners, read) = store
            .read_owners_and_admission(app, identifiers, &keys)
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
            [] => {
                let (user, admitted) = admitted_user(base, request, &read, &keys)?;
                commit::note_on_allowlist(admitted.on_allowlist);
                match insert_admitted(store, app, &user, identifiers, &admitted).await {
                    Ok(()) => Ok(Next::Done(FoundOrCreated {
                        user,
                        created: true,
                        on_allowlist: admitted.on_allowlist,
                    })),
                    // Someone else claimed an identifier since we read: read again to find them.
                    Err(WriteError::Taken(_)) => Ok(Next::ReadAgain),
                    Err(error) => retry_after(error),
                }
            }
            // The owner may have been deleted between the two reads: then look again.
            [owner] => Ok(match store.get_user(app, *owner).await? {
                Some(existing) => {
                    if let Some(email) = &request.email
                        && matches.iter().any(|(field, _)| field == "email")
                    {
                        super::require_same_mailbox(&existing, email.as_str(), "email")?;
                    }
                    let on_allowlist =
                        found_on_allowlist(store, app, &existing, &keys, &read).await?;
                    Next::Done(FoundOrCreated {
                        user: existing,
                        created: false,
                        on_allowlist,
                    })
                }
                None => Next::ReadAgain,
            }),
            _ => Err(UsersError::Ambiguous(matches)),
        }
    })
    .await
}

/// Whether a found user is on the allowlist, marking the entries it is the first to match
/// accepted. The entries of identifiers the request did not name take one more read, only
/// when those it named matched none.
async fn found_on_allowlist<S: AccessStore>(
    store: &S,
    app: &AppId,
    user: &User,
    named: &[AccessKey],
    read: &AdmissionRead,
) -> Result<bool, UsersError> {
    let (mut on_allowlist, mut unaccepted) = access::allowlist_of_found(read, user);
    if !on_allowlist {
        let others: Vec<AccessKey> = crate::model::access::keys_of(user)
            .into_iter()
            .filter(|key| !named.contains(key))
            .collect();
        if !others.is_empty() {
            let read = store.read_admission(app, &others).await?;
            (on_allowlist, unaccepted) = access::allowlist_of_found(&read, user);
        }
    }
    if !unaccepted.is_empty() {
        // Best effort: a failure leaves them for the next find, which tries again.
        if let Err(error) = store
            .accept_entries(app, &unaccepted, &clock::now_rfc3339())
            .await
        {
            tracing::warn!(error = %error, "could not mark allowlist entries accepted");
        }
    }
    Ok(on_allowlist)
}

/// The new user as admitted: refused, or with its onboarding and what its write commits,
/// and one wallet per chain type of the app's networks if the request did not name its
/// wallets.
fn admitted_user(
    base: &User,
    request: &NewUser,
    read: &AdmissionRead,
    keys: &[AccessKey],
) -> Result<(User, Admitted), UsersError> {
    let admitted = access::admit_new(read, keys, &base.created_at)
        .map_err(|Refusal::NotAllowlisted| UsersError::NotAllowlisted)?;
    let mut user = base.clone();
    user.onboarding = admitted.onboarding.clone();
    if !request.wallets_given {
        let networks = network::effective(&read.settings.networks);
        user.wallets = network::chain_types(&networks)
            .into_iter()
            .map(Wallet::pending)
            .collect();
    }
    Ok((user, admitted))
}

/// Writes a new user with its admission, then counts its claim (if any) on the inviter.
async fn insert_admitted<S: UserStore + AccessStore>(
    store: &S,
    app: &AppId,
    user: &User,
    identifiers: &[Identifier],
    admitted: &Admitted,
) -> Result<(), WriteError> {
    store
        .insert_user(app, user, identifiers, &admitted.admission)
        .await?;
    if let Some(claim) = &admitted.admission.claim {
        access::count_after_claim(store, app, claim).await;
    }
    Ok(())
}

/// What a failed write of a user leads to, besides a taken identifier.
pub(super) fn retry_after<T>(error: WriteError) -> Result<Next<T>, UsersError> {
    match error {
        WriteError::Contention | WriteError::Stale => Ok(Next::BackOff),
        // An invitation was claimed or revoked, or an entry removed, since the read.
        WriteError::AdmissionChanged => Ok(Next::ReadAgain),
        // The invitation is still claimed; there is no one left to count it on.
        WriteError::Taken(_) => Ok(Next::ReadAgain),
        WriteError::Store(error) => Err(error.into()),
    }
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
        onboarding: None,
        users_onboarded: 0,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    }
}
