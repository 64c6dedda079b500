//! Who may come in and who brought them: the app's settings, its allowlist, and invitations.
//! A new user's admission is decided here from one batched read ([`AdmissionRead`]) and
//! committed with the user ([`Admission`]): the allowlist entries it is the first to match
//! are marked accepted, and the earliest open invitation naming one of its identifiers is
//! claimed, counting one more onboarded user for the inviter.

pub mod allowlist;
pub mod invitations;
pub mod settings;

use crate::model::access::{self, AccessKey, Invitation, Onboarding};
use crate::model::validation::FieldError;
use crate::model::{AppId, User};
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
/// earliest open one naming any of its identifiers; counted on the inviter unless
/// `inviter_gone`).
pub fn admit_new(
    read: &AdmissionRead,
    keys: &[AccessKey],
    at: &str,
    inviter_gone: bool,
) -> Result<Admitted, Refusal> {
    let on_allowlist = !read.entries.is_empty();
    if read.settings.allowlist_required && !on_allowlist {
        return Err(Refusal::NotAllowlisted);
    }
    let accept = unaccepted(read);
    let claim = earliest_claim(read, keys, at, inviter_gone);
    let onboarding = claim.as_ref().map(onboarding_of);
    Ok(Admitted {
        on_allowlist,
        admission: Admission { accept, claim },
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
    inviter_gone: bool,
) -> Option<Claim> {
    if user.onboarding.is_some() {
        return None;
    }
    earliest_claim(read, keys, at, inviter_gone)
        .filter(|claim| claim.invitation.invited_by != Some(user.id))
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

fn earliest_claim(
    read: &AdmissionRead,
    keys: &[AccessKey],
    at: &str,
    inviter_gone: bool,
) -> Option<Claim> {
    read.invitations
        .iter()
        .filter_map(|invitation| {
            let key = invitation.key()?;
            keys.contains(&key).then_some((invitation, key))
        })
        .min_by(|(a, _), (b, _)| (&a.invited_at, &a.id).cmp(&(&b.invited_at, &b.id)))
        .map(|(invitation, key)| Claim {
            invitation: invitation.clone(),
            key,
            at: at.to_owned(),
            count_on: invitation.invited_by.filter(|_| !inviter_gone),
        })
}
