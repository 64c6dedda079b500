//! The port of an app's access rules: its settings, its allowlist and its invitations, and
//! what a new user's write commits of them ([`Admission`]).

use std::future::Future;

use super::StoreError;
use crate::model::access::{AccessKey, AllowEntry, Invitation};
use crate::model::api_key::AppSettings;
use crate::model::{AppId, Identifier, UserId};

/// What one batched read finds for the keys a user holds: the app's settings, the allowlist
/// entries naming any of the keys, and the open invitations naming any of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdmissionRead {
    pub settings: AppSettings,
    pub entries: Vec<AllowEntry>,
    pub invitations: Vec<Invitation>,
}

/// What a user's write commits of its admission, in the same transaction as the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// Allowlist entries the user is the first to match: their `accepted_at` is set (kept if
    /// another write set it first). Each must still exist.
    pub accept: Vec<String>,
    /// Allowlist entries that admit the user (the app requires a match) and must still exist.
    pub hold: Vec<String>,
    /// The open invitation the user claims, if any: it must still be open.
    pub claim: Option<Claim>,
}

impl Admission {
    /// Commits nothing besides the user.
    pub const NONE: Admission = Admission {
        accept: Vec::new(),
        hold: Vec::new(),
        claim: None,
    };
}

/// An invitation claimed by a user's write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The invitation as read (open).
    pub invitation: Invitation,
    /// The claiming user's key the invitation names.
    pub key: AccessKey,
    /// When it is claimed (the user's write time).
    pub at: String,
}

/// Why an invitation could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteConflict {
    /// The identifier has an open invitation already: the first inviter gets the credit.
    #[error("the identifier has an open invitation")]
    AlreadyInvited(Box<Invitation>),
    /// A user holds the identifier already.
    #[error("a user holds the identifier")]
    AlreadyUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an invitation could not be revoked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeConflict {
    #[error("no such invitation")]
    NotFound,
    /// It was accepted (or revoked) already: shown as it is.
    #[error("the invitation is not open")]
    NotOpen(Box<Invitation>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An app's settings, allowlist and invitations.
pub trait AccessStore: Send + Sync {
    /// The app's settings, its allowlist entries and open invitations naming any of `keys`,
    /// in one consistent batched read (default settings if the app has no item).
    fn read_admission(
        &self,
        app: &AppId,
        keys: &[AccessKey],
    ) -> impl Future<Output = Result<AdmissionRead, StoreError>> + Send;

    /// The user holding each of `identifiers` (as [`crate::ports::UserStore::find_owner`]
    /// reads them) and the admission of `keys`, in the same one batched read: what a login
    /// (find-or-create) needs before it finds or creates.
    fn read_owners_and_admission(
        &self,
        app: &AppId,
        identifiers: &[Identifier],
        keys: &[AccessKey],
    ) -> impl Future<Output = Result<(Vec<Option<UserId>>, AdmissionRead), StoreError>> + Send;

    /// Counts an accepted invitation on its inviter (`users_onboarded` + 1, a new version),
    /// once: `true` if counted now, `false` if it was counted already, or its inviter is gone
    /// (then it is marked counted without one). A claim is counted after the transaction that
    /// claims it, so that a popular inviter's item is never in new users' transactions.
    fn count_claim(
        &self,
        app: &AppId,
        invitation_id: &str,
        inviter: UserId,
        at: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Accepted invitations of the app not counted yet (a count that failed after its claim
    /// committed), at most `limit`.
    fn uncounted_claims(
        &self,
        app: &AppId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Invitation>, StoreError>> + Send;

    /// Sets `accepted_at` on entries that have none (a found user's first match).
    fn accept_entries(
        &self,
        app: &AppId,
        ids: &[String],
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the app's settings; `false` if the app does not exist.
    fn put_settings(
        &self,
        app: &AppId,
        settings: &crate::model::api_key::AppSettings,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A user's override of the app's signing policy, if it has one.
    fn get_user_policy(
        &self,
        app: &AppId,
        user: crate::model::UserId,
    ) -> impl Future<Output = Result<Option<crate::model::policy::SigningPolicy>, StoreError>> + Send;

    /// Sets a user's override of the app's signing policy.
    fn put_user_policy(
        &self,
        app: &AppId,
        user: crate::model::UserId,
        policy: &crate::model::policy::SigningPolicy,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a user's override; `false` if it had none.
    fn delete_user_policy(
        &self,
        app: &AppId,
        user: crate::model::UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Adds an entry unless one with its id exists; returns the stored entry and whether it
    /// is new.
    fn add_allow_entry(
        &self,
        app: &AppId,
        entry: &AllowEntry,
    ) -> impl Future<Output = Result<(AllowEntry, bool), StoreError>> + Send;

    /// A page of entries in id order after `after`, and whether more follow.
    fn list_allow_entries(
        &self,
        app: &AppId,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<(Vec<AllowEntry>, bool), StoreError>> + Send;

    /// Deletes the entry; `false` if there was none.
    fn delete_allow_entry(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a new open invitation for `key`: refused if the key has an open invitation or
    /// a user holds it.
    fn create_invitation(
        &self,
        app: &AppId,
        invitation: &Invitation,
        key: &AccessKey,
    ) -> impl Future<Output = Result<(), InviteConflict>> + Send;

    /// The invitation with `id`.
    fn get_invitation(
        &self,
        app: &AppId,
        id: &str,
    ) -> impl Future<Output = Result<Option<Invitation>, StoreError>> + Send;

    /// A page of invitations, newest first, made before the invitation `before` (if given),
    /// only `invited_by`'s if given; and whether more follow.
    fn list_invitations(
        &self,
        app: &AppId,
        before: Option<&str>,
        limit: usize,
        invited_by: Option<UserId>,
    ) -> impl Future<Output = Result<(Vec<Invitation>, bool), StoreError>> + Send;

    /// Revokes an open invitation; returns it as revoked.
    fn revoke_invitation(
        &self,
        app: &AppId,
        id: &str,
        at: &str,
    ) -> impl Future<Output = Result<Invitation, RevokeConflict>> + Send;
}
