//! Invitations: an app (or one of its users) invites an identifier; the first user created
//! holding it claims the invitation (see [`super::admit_new`]). An identifier has at most one
//! open invitation, so the first inviter gets the credit and a later one is told so.

use super::AccessError;
use super::allowlist::bad_cursor;
use crate::clock;
use crate::domain::paging;
use crate::model::access::{
    self, Invitation, InvitationStatus, InvitedIdentifier, MAX_CAMPAIGN_CHARS, Named,
};
use crate::model::ids::is_hex_id;
use crate::model::validation::check_text;
use crate::model::{AppId, UserId, UserStatus};
use crate::ports::UserStore;
use crate::ports::access::{AccessStore, InviteConflict, RevokeConflict};

/// A page of invitations, newest first, and the cursor of the next.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InvitationPage {
    pub invitations: Vec<Invitation>,
    pub next_cursor: Option<String>,
}

/// Invites `named` for `campaign`, from the user `inviter` if given (which must exist and be
/// active).
pub async fn invite<S: AccessStore + UserStore>(
    store: &S,
    app: &AppId,
    inviter: Option<&str>,
    named: &Named,
    campaign: Option<&str>,
) -> Result<Invitation, AccessError> {
    if let Some(campaign) = campaign {
        check_text("campaign", campaign, 1, MAX_CAMPAIGN_CHARS)
            .map_err(|error| AccessError::Invalid(vec![error]))?;
    }
    let invited_by = match inviter {
        Some(id) => Some(active_user(store, app, id).await?),
        None => None,
    };
    let invitation = Invitation {
        id: access::new_invitation_id(),
        identifier: InvitedIdentifier {
            kind: named.kind,
            value: named.value.clone(),
        },
        invited_by,
        campaign: campaign.map(str::to_owned),
        status: InvitationStatus::Open,
        invited_at: clock::now_rfc3339(),
        accepted_at: None,
        invitee: None,
        revoked_at: None,
    };
    match store.create_invitation(app, &invitation, &named.key).await {
        Ok(()) => Ok(invitation),
        Err(InviteConflict::AlreadyInvited(open)) => Err(AccessError::AlreadyInvited(open)),
        Err(InviteConflict::AlreadyUser) => Err(AccessError::AlreadyUser),
        Err(InviteConflict::Store(error)) => Err(error.into()),
    }
}

/// A page of the app's invitations (only those `inviter` made, if given), newest first.
pub async fn list_invitations<S: AccessStore + UserStore>(
    store: &S,
    app: &AppId,
    inviter: Option<&str>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<InvitationPage, AccessError> {
    let invited_by = match inviter {
        Some(id) => {
            let id = UserId::parse(id).ok_or(AccessError::NotFound("user"))?;
            store
                .get_user(app, id)
                .await?
                .ok_or(AccessError::NotFound("user"))?;
            Some(id)
        }
        None => None,
    };
    let before = match cursor {
        Some(cursor) => Some(
            paging::decode_position(app, cursor)
                .filter(|id| is_hex_id(id, access::INVITATION_PREFIX))
                .ok_or_else(bad_cursor)?,
        ),
        None => None,
    };
    let (invitations, more) = store
        .list_invitations(app, before.as_deref(), limit, invited_by)
        .await?;
    let next_cursor = match invitations.last() {
        Some(last) if more => Some(paging::encode_position(app, &last.id)),
        _ => None,
    };
    Ok(InvitationPage {
        invitations,
        next_cursor,
    })
}

/// Revokes an open invitation: it can no longer be claimed.
pub async fn revoke<S: AccessStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<Invitation, AccessError> {
    if !is_hex_id(id, access::INVITATION_PREFIX) {
        return Err(AccessError::NotFound("invitation"));
    }
    match store
        .revoke_invitation(app, id, &clock::now_rfc3339())
        .await
    {
        Ok(invitation) => Ok(invitation),
        Err(RevokeConflict::NotFound) => Err(AccessError::NotFound("invitation")),
        Err(RevokeConflict::NotOpen(invitation)) => Err(AccessError::NotOpen(invitation)),
        Err(RevokeConflict::Store(error)) => Err(error.into()),
    }
}

async fn active_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<UserId, AccessError> {
    let id = UserId::parse(id).ok_or(AccessError::NotFound("user"))?;
    let user = store
        .get_user(app, id)
        .await?
        .ok_or(AccessError::NotFound("user"))?;
    if user.status == UserStatus::Disabled {
        return Err(AccessError::UserDisabled);
    }
    Ok(id)
}
