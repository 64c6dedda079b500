//! App settings, allowlist entries and invitations, in memory; and what a user's write
//! commits of its admission.

use super::{MemoryStore, Tables};
use crate::model::access::{AccessKey, AllowEntry, Invitation, InvitationStatus};
use crate::model::api_key::AppSettings;
use crate::model::policy::SigningPolicy;
use crate::model::{AppId, Identifier, UserId};
use crate::ports::access::{AccessStore, Admission, AdmissionRead, InviteConflict, RevokeConflict};
use crate::ports::{StoreError, WriteError};

impl Tables {
    /// The conditions a user write's admission puts on it: each entry to accept or hold exists,
    /// the claimed invitation is still the open one of its key, and the inviter still exists.
    pub(super) fn check_admission(
        &self,
        app: &AppId,
        admission: &Admission,
    ) -> Result<(), WriteError> {
        let entries_exist = admission
            .accept
            .iter()
            .chain(&admission.hold)
            .all(|id| self.allowlist.contains_key(&(app.clone(), id.clone())));
        if !entries_exist {
            return Err(WriteError::AdmissionChanged);
        }
        if let Some(claim) = &admission.claim {
            let open = self.open_invitations.get(&(app.clone(), claim.key.clone()));
            if open != Some(&claim.invitation.id) {
                return Err(WriteError::AdmissionChanged);
            }
        }
        Ok(())
    }

    /// Applies a checked admission of the user `invitee`.
    pub(super) fn apply_admission(&mut self, app: &AppId, invitee: UserId, admission: &Admission) {
        for id in &admission.accept {
            if let Some(entry) = self.allowlist.get_mut(&(app.clone(), id.clone()))
                && entry.accepted_at.is_none()
            {
                entry.accepted_at = admission
                    .claim
                    .as_ref()
                    .map(|claim| claim.at.clone())
                    .or_else(|| Some(crate::clock::now_rfc3339()));
            }
        }
        let Some(claim) = &admission.claim else {
            return;
        };
        self.open_invitations
            .remove(&(app.clone(), claim.key.clone()));
        if let Some(invitation) = self
            .invitations
            .get_mut(&(app.clone(), claim.invitation.id.clone()))
        {
            invitation.status = InvitationStatus::Accepted;
            invitation.accepted_at = Some(claim.at.clone());
            invitation.invitee = Some(invitee);
        }
        // Counted on the inviter after this write, by `count_claim`.
        if claim.invitation.invited_by.is_some() {
            self.to_count
                .insert((app.clone(), claim.invitation.id.clone()));
        }
    }
}

impl AccessStore for MemoryStore {
    async fn read_admission(
        &self,
        app: &AppId,
        keys: &[AccessKey],
    ) -> Result<AdmissionRead, StoreError> {
        let tables = self.tables();
        let settings = tables
            .apps
            .get(app)
            .map(|(record, _)| record.settings.clone())
            .unwrap_or_default();
        let entries = keys
            .iter()
            .filter_map(|key| {
                let id = crate::model::access::allow_entry_id(key);
                tables.allowlist.get(&(app.clone(), id)).cloned()
            })
            .collect();
        let invitations = keys
            .iter()
            .filter_map(|key| tables.open_invitations.get(&(app.clone(), key.clone())))
            .filter_map(|id| tables.invitations.get(&(app.clone(), id.clone())).cloned())
            .collect();
        Ok(AdmissionRead {
            settings,
            entries,
            invitations,
        })
    }

    async fn read_owners_and_admission(
        &self,
        app: &AppId,
        identifiers: &[Identifier],
        keys: &[AccessKey],
    ) -> Result<(Vec<Option<UserId>>, AdmissionRead), StoreError> {
        let owners = {
            let tables = self.tables();
            identifiers
                .iter()
                .map(|identifier| {
                    tables
                        .guards
                        .get(&(app.clone(), identifier.clone()))
                        .copied()
                })
                .collect()
        };
        Ok((owners, self.read_admission(app, keys).await?))
    }

    async fn count_claim(
        &self,
        app: &AppId,
        invitation_id: &str,
        inviter: UserId,
        at: &str,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        if !tables
            .to_count
            .remove(&(app.clone(), invitation_id.to_owned()))
        {
            return Ok(false);
        }
        match tables.users.get_mut(&(app.clone(), inviter)) {
            Some(user) => {
                user.users_onboarded += 1;
                user.version += 1;
                user.updated_at = at.to_owned();
                Ok(true)
            }
            // The inviter is gone: the claim stays, with no one to count it on.
            None => Ok(false),
        }
    }

    async fn uncounted_claims(
        &self,
        app: &AppId,
        limit: usize,
    ) -> Result<Vec<Invitation>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .to_count
            .iter()
            .filter(|(owner, _)| owner == app)
            .filter_map(|key| tables.invitations.get(key).cloned())
            .take(limit)
            .collect())
    }

    async fn accept_entries(
        &self,
        app: &AppId,
        ids: &[String],
        at: &str,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        for id in ids {
            if let Some(entry) = tables.allowlist.get_mut(&(app.clone(), id.clone()))
                && entry.accepted_at.is_none()
            {
                entry.accepted_at = Some(at.to_owned());
            }
        }
        Ok(())
    }

    async fn put_settings(&self, app: &AppId, settings: &AppSettings) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        Ok(match tables.apps.get_mut(app) {
            Some((record, _)) => {
                record.settings = settings.clone();
                true
            }
            None => false,
        })
    }

    async fn get_user_policy(
        &self,
        app: &AppId,
        user: UserId,
    ) -> Result<Option<SigningPolicy>, StoreError> {
        Ok(self
            .tables()
            .user_policies
            .get(&(app.clone(), user))
            .cloned())
    }

    async fn put_user_policy(
        &self,
        app: &AppId,
        user: UserId,
        policy: &SigningPolicy,
    ) -> Result<(), StoreError> {
        self.tables()
            .user_policies
            .insert((app.clone(), user), policy.clone());
        Ok(())
    }

    async fn delete_user_policy(&self, app: &AppId, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .tables()
            .user_policies
            .remove(&(app.clone(), user))
            .is_some())
    }

    async fn add_allow_entry(
        &self,
        app: &AppId,
        entry: &AllowEntry,
    ) -> Result<(AllowEntry, bool), StoreError> {
        let mut tables = self.tables();
        let key = (app.clone(), entry.id.clone());
        if let Some(existing) = tables.allowlist.get(&key) {
            return Ok((existing.clone(), false));
        }
        tables.allowlist.insert(key, entry.clone());
        Ok((entry.clone(), true))
    }

    async fn list_allow_entries(
        &self,
        app: &AppId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<AllowEntry>, bool), StoreError> {
        let tables = self.tables();
        let mut entries: Vec<AllowEntry> = tables
            .allowlist
            .iter()
            .filter(|((owner, id), _)| {
                owner == app && after.is_none_or(|after| id.as_str() > after)
            })
            .map(|(_, entry)| entry.clone())
            .take(limit + 1)
            .collect();
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok((entries, more))
    }

    async fn delete_allow_entry(&self, app: &AppId, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tables()
            .allowlist
            .remove(&(app.clone(), id.to_owned()))
            .is_some())
    }

    async fn create_invitation(
        &self,
        app: &AppId,
        invitation: &Invitation,
        key: &AccessKey,
    ) -> Result<(), InviteConflict> {
        let mut tables = self.tables();
        if let Some(identifier) = key.guard()
            && tables.guards.contains_key(&(app.clone(), identifier))
        {
            return Err(InviteConflict::AlreadyUser);
        }
        let slot = (app.clone(), key.clone());
        if let Some(open) = tables
            .open_invitations
            .get(&slot)
            .and_then(|id| tables.invitations.get(&(app.clone(), id.clone())))
        {
            return Err(InviteConflict::AlreadyInvited(Box::new(open.clone())));
        }
        tables.open_invitations.insert(slot, invitation.id.clone());
        tables
            .invitations
            .insert((app.clone(), invitation.id.clone()), invitation.clone());
        Ok(())
    }

    async fn get_invitation(
        &self,
        app: &AppId,
        id: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(self
            .tables()
            .invitations
            .get(&(app.clone(), id.to_owned()))
            .cloned())
    }

    async fn list_invitations(
        &self,
        app: &AppId,
        before: Option<&str>,
        limit: usize,
        invited_by: Option<UserId>,
    ) -> Result<(Vec<Invitation>, bool), StoreError> {
        let tables = self.tables();
        let mut invitations: Vec<Invitation> = tables
            .invitations
            .iter()
            .rev()
            .filter(|((owner, id), invitation)| {
                owner == app
                    && before.is_none_or(|before| id.as_str() < before)
                    && invited_by.is_none_or(|inviter| invitation.invited_by == Some(inviter))
            })
            .map(|(_, invitation)| invitation.clone())
            .take(limit + 1)
            .collect();
        let more = invitations.len() > limit;
        invitations.truncate(limit);
        Ok((invitations, more))
    }

    async fn revoke_invitation(
        &self,
        app: &AppId,
        id: &str,
        at: &str,
    ) -> Result<Invitation, RevokeConflict> {
        let mut tables = self.tables();
        let key = (app.clone(), id.to_owned());
        let Some(invitation) = tables.invitations.get(&key).cloned() else {
            return Err(RevokeConflict::NotFound);
        };
        if invitation.status != InvitationStatus::Open {
            return Err(RevokeConflict::NotOpen(Box::new(invitation)));
        }
        let mut revoked = invitation;
        revoked.status = InvitationStatus::Revoked;
        revoked.revoked_at = Some(at.to_owned());
        if let Some(slot) = revoked.key() {
            tables.open_invitations.remove(&(app.clone(), slot));
        }
        tables.invitations.insert(key, revoked.clone());
        Ok(revoked)
    }
}
