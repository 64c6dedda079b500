//! Who may come in and who brought them: the app's settings, its allowlist, and invitations.
//! A new user's admission is decided here from one batched read ([`AdmissionRead`]) and
//! committed with the user ([`Admission`]): the allowlist entries it is the first to match
//! are marked accepted, and the earliest open invitation naming one of its identifiers is
//! claimed, counting one more onboarded user for the inviter.

pub mod allowlist;
pub mod invitations;
pub mod settings;

use crate::clock;
use crate::domain::retry::{Next, retrying};
use crate::model::access::{self, AccessKey, Invitation, Onboarding};
use crate::model::validation::FieldError;
use crate::model::{AppId, User, UserId};
use crate::ports::StoreError;
use crate::ports::access::{AccessStore, Admission, AdmissionRead, Claim};

/// What went wrong managing settings, the allowlist or invitations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("invalid values")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The identifier has an open invitation already.
    #[error("the identifier has an open invitation")]
    AlreadyInvited(Box<Invitation>),
    /// A user holds the identifier already.
    #[error("a user holds the identifier")]
    AlreadyUser,
    /// The invitation was accepted or revoked already.
    #[error("the invitation is not open")]
    NotOpen(Box<Invitation>),
    /// The inviting user is disabled.
    #[error("the user is disabled")]
    UserDisabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new user's admission decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// Whether any of the user's identifiers matches an allowlist entry.
    pub on_allowlist: bool,
    /// What its write commits.
    pub admission: Admission,
    /// How it came in, for the user record.
    pub onboarding: Option<Onboarding>,
}

/// Why a user may not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The app requires an allowlist match and none of the user's identifiers has one.
    #[error("no allowlist entry matches the user")]
    NotAllowlisted,
}

/// Reads what the admission of `user` depends on: one batched read.
pub async fn read_for<S: AccessStore>(
    store: &S,
    app: &AppId,
    user: &User,
) -> Result<(Vec<AccessKey>, AdmissionRead), StoreError> {
    let keys = access::keys_of(user);
    let read = store.read_admission(app, &keys).await?;
    Ok((keys, read))
}

/// Decides the admission of a new `user` written at `at`: refused if the app requires an
/// allowlist match it lacks; else the entries to accept and the invitation to claim (the
/// earliest open one naming any of its identifiers).
pub fn admit_new(read: &AdmissionRead, keys: &[AccessKey], at: &str) -> Result<Admitted, Refusal> {
    let on_allowlist = !read.entries.is_empty();
    let required = read.settings.allowlist_required;
    if required && !on_allowlist {
        return Err(Refusal::NotAllowlisted);
    }
    let accept = unaccepted(read);
    // When the allowlist admits the user, the entries that do must still exist as it is
    // written (those it accepts are conditioned already).
    let hold = if required {
        read.entries
            .iter()
            .filter(|entry| entry.accepted_at.is_some())
            .map(|entry| entry.id.clone())
            .collect()
    } else {
        Vec::new()
    };
    let claim = earliest_claim(read, keys, at, None);
    let onboarding = claim.as_ref().map(onboarding_of);
    Ok(Admitted {
        on_allowlist,
        admission: Admission {
            accept,
            hold,
            claim,
        },
        onboarding,
    })
}

/// The invitation an existing `user` claims by gaining identifiers (a link): the earliest
/// open one naming any of `keys`, unless the user was onboarded already or invited itself.
pub fn claim_for_existing(
    read: &AdmissionRead,
    user: &User,
    keys: &[AccessKey],
    at: &str,
) -> Option<Claim> {
    if user.onboarding.is_some() {
        return None;
    }
    earliest_claim(read, keys, at, Some(user.id))
}

/// What the user record shows of a claim.
pub fn onboarding_of(claim: &Claim) -> Onboarding {
    Onboarding {
        invitation_id: claim.invitation.id.clone(),
        invited_by: claim.invitation.invited_by,
        campaign: claim.invitation.campaign.clone(),
        invited_at: claim.invitation.invited_at.clone(),
        accepted_at: claim.at.clone(),
    }
}

/// Whether a found user is on the allowlist (any entry naming one of its identifiers), and
/// the entries it is the first to match.
pub fn allowlist_of_found(read: &AdmissionRead, user: &User) -> (bool, Vec<String>) {
    let held = access::keys_of(user);
    let matching: Vec<_> = read
        .entries
        .iter()
        .filter(|entry| access::allow_entry_key(entry).is_some_and(|key| held.contains(&key)))
        .collect();
    let unaccepted = matching
        .iter()
        .filter(|entry| entry.accepted_at.is_none())
        .map(|entry| entry.id.clone())
        .collect();
    (!matching.is_empty(), unaccepted)
}

fn unaccepted(read: &AdmissionRead) -> Vec<String> {
    read.entries
        .iter()
        .filter(|entry| entry.accepted_at.is_none())
        .map(|entry| entry.id.clone())
        .collect()
}

/// The earliest open invitation naming one of `keys` (not one `claimant` made itself).
fn earliest_claim(
    read: &AdmissionRead,
    keys: &[AccessKey],
    at: &str,
    claimant: Option<UserId>,
) -> Option<Claim> {
    read.invitations
        .iter()
        .filter(|invitation| claimant.is_none() || invitation.invited_by != claimant)
        .filter_map(|invitation| {
            let key = invitation.key()?;
            keys.contains(&key).then_some((invitation, key))
        })
        .min_by(|(a, _), (b, _)| (&a.invited_at, &a.id).cmp(&(&b.invited_at, &b.id)))
        .map(|(invitation, key)| Claim {
            invitation: invitation.clone(),
            key,
            at: at.to_owned(),
        })
}

/// Counts a committed claim on its inviter, retrying a conflict (a popular inviter's item is
/// written by each of its invitees' counts) a bounded number of times. A count still not made
/// is left to the event publisher, which counts every claim its stream records carry, and to
/// [`settle_counts`]: the invitee's request does not fail for it.
pub async fn count_after_claim<S: AccessStore>(store: &S, app: &AppId, claim: &Claim) {
    let Some(inviter) = claim.invitation.invited_by else {
        return;
    };
    let id = claim.invitation.id.as_str();
    let counted = retrying(COUNT_ATTEMPTS, (), |_| async move {
        match store.count_claim(app, id, inviter, &claim.at).await {
            Ok(_) => Ok(Next::Done(())),
            Err(StoreError::Unavailable(_)) => Ok(Next::BackOff),
            Err(_) => Err(()),
        }
    })
    .await;
    if counted.is_err() {
        tracing::warn!(
            invitation = claim.invitation.id.as_str(),
            "the claim's count is left to the event publisher"
        );
    }
}

/// Counts every accepted invitation of the app not counted yet; returns how many it counted.
pub async fn settle_counts<S: AccessStore>(store: &S, app: &AppId) -> Result<usize, StoreError> {
    let mut counted = 0;
    loop {
        let waiting = store.uncounted_claims(app, 100).await?;
        if waiting.is_empty() {
            return Ok(counted);
        }
        for invitation in &waiting {
            // Only invitations a user made wait for a count.
            let Some(inviter) = invitation.invited_by else {
                continue;
            };
            let at = clock::now_rfc3339();
            if store.count_claim(app, &invitation.id, inviter, &at).await? {
                counted += 1;
            }
        }
    }
}

/// Attempts at a count before it is left to the event publisher.
const COUNT_ATTEMPTS: u32 = 3;
