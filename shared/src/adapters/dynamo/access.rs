//! App settings, allowlist entries and invitations; and the items a user's write commits of
//! its admission.
//!
//! An invitation is two items: its record in the app's invitations partition (listed newest
//! first; also in the listing index under its inviter), and while it is open, a copy under the
//! identifier it names. Admitting a user reads the app item, the allowlist entries and the open
//! invitations of its identifiers in one consistent `BatchGetItem`; claiming deletes the open
//! copy and marks the record accepted in the user's own transaction.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update,
};
use serde::{Deserialize, Serialize};

use super::sdk::{applied, build_error, classify, from_item, to_item};
use super::users::GuardItem;
use super::{DynamoStore, Item};
use crate::adapters::dynamo::keys::{self, PK, SK};
use crate::model::access::{self, AccessKey, AccessKind, AllowEntry, Invitation, InvitationStatus};
use crate::model::api_key::AppSettings;
use crate::model::policy::SigningPolicy;
use crate::model::{AppId, Identifier, UserId};
use crate::ports::StoreError;
use crate::ports::access::{AccessStore, Admission, AdmissionRead, InviteConflict, RevokeConflict};

/// An allowlist entry as stored.
#[derive(Serialize, Deserialize)]
struct AllowItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: AllowEntry,
}

/// An invitation's record.
#[derive(Serialize, Deserialize)]
struct InvitationItem {
    pk: String,
    sk: String,
    entity: String,
    /// In the listing index under the inviter, if a user invited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(flatten)]
    invitation: Invitation,
}

/// The open invitation of an identifier: a copy of the record, while it is open.
#[derive(Serialize, Deserialize)]
struct OpenInvitationItem {
    pk: String,
    sk: String,
    entity: String,
    invitation_id: String,
    invitation: Invitation,
}

/// The app item's settings (the rest of it is the admin's, and is not decoded).
#[derive(Deserialize)]
pub(super) struct AppSettingsItem {
    #[serde(default)]
    pub(super) settings: AppSettings,
}

pub(super) fn key_of(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// A user's override of the app's signing policy, beside the user.
#[derive(Serialize, Deserialize)]
pub(super) struct UserPolicyItem {
    pk: String,
    sk: String,
    entity: String,
    pub(super) policy: SigningPolicy,
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl DynamoStore {
    /// The items a user write commits of its admission, after the user's own: the entries it
    /// accepts, those that must still admit it, then for a claim, the open copy's deletion, the record's acceptance and the
    /// inviter's count. Each is conditioned on what the admission was read from.
    pub(super) fn admission_items(
        &self,
        app: &AppId,
        invitee: UserId,
        admission: &Admission,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = Vec::new();
        let at = admission
            .claim
            .as_ref()
            .map(|claim| claim.at.clone())
            .unwrap_or_else(crate::clock::now_rfc3339);
        for id in &admission.accept {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(keys::allowlist_pk(app), id)))
                .update_expression("SET accepted_at = if_not_exists(accepted_at, :at)")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", text(&at))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        for id in &admission.hold {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(keys::allowlist_pk(app), id)))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        let Some(claim) = &admission.claim else {
            return Ok(items);
        };
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(
                keys::open_invitation_pk(app, &claim.key),
                keys::SK_OPEN_INVITATION,
            )))
            .condition_expression("invitation_id = :id")
            .expression_attribute_values(":id", text(&claim.invitation.id))
            .build()
            .map_err(build_error)?;
        items.push(TransactWriteItem::builder().delete(delete).build());
        // An invitation a user made waits, marked `to_count`, for its count on the inviter
        // (see `count_claim`): the inviter's item is not part of this transaction.
        let mut accept = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(
                keys::invitations_pk(app),
                &claim.invitation.id,
            )))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":accepted", text("accepted"))
            .expression_attribute_values(":open", text("open"))
            .expression_attribute_values(":at", text(&claim.at))
            .expression_attribute_values(":invitee", text(&invitee.to_string()));
        accept = match claim.invitation.invited_by {
            Some(inviter) => accept
                .update_expression(
                    "SET #status = :accepted, accepted_at = :at, invitee = :invitee, \
                     to_count = :inviter",
                )
                .expression_attribute_values(":inviter", text(&inviter.to_string())),
            None => accept.update_expression(
                "SET #status = :accepted, accepted_at = :at, invitee = :invitee",
            ),
        };
        items.push(
            TransactWriteItem::builder()
                .update(accept.build().map_err(build_error)?)
                .build(),
        );
        Ok(items)
    }

    /// Reads `keys` consistently in batches of 100, until none is left unprocessed.
    pub(super) async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut deduped: Vec<HashMap<String, AttributeValue>> = Vec::new();
        for key in keys {
            if !deduped.contains(&key) {
                deduped.push(key);
            }
        }
        for chunk in deduped.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?,
            );
            // Unprocessed keys (throttling) are asked again, a bounded number of times.
            for attempt in 0..8u64 {
                let Some(request) = pending.take() else { break };
                if attempt > 0 {
                    // Throttled: give the partition a moment, more each time.
                    tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
                }
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(classify)?;
                if let Some(mut responses) = output.responses
                    && let Some(items) = responses.remove(&self.table)
                {
                    found.extend(items);
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .filter(|left| !left.keys().is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Unavailable(
                    "a batched read was left unprocessed".into(),
                ));
            }
        }
        Ok(found)
    }

    async fn read_invitation(
        &self,
        app: &AppId,
        id: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        let item = self.get_item(keys::invitations_pk(app), id).await?;
        item.map(|item| from_item::<InvitationItem>(item).map(|i| i.invitation))
            .transpose()
    }
}

impl AccessStore for DynamoStore {
    async fn read_admission(
        &self,
        app: &AppId,
        keys_held: &[AccessKey],
    ) -> Result<AdmissionRead, StoreError> {
        Ok(self.read_owners_and_admission(app, &[], keys_held).await?.1)
    }

    async fn read_owners_and_admission(
        &self,
        app: &AppId,
        identifiers: &[Identifier],
        keys_held: &[AccessKey],
    ) -> Result<(Vec<Option<UserId>>, AdmissionRead), StoreError> {
        let guard_pks: Vec<String> = identifiers
            .iter()
            .map(|identifier| keys::guard_pk(app, identifier))
            .collect();
        let mut wanted: Vec<_> = guard_pks
            .iter()
            .map(|pk| key_of(pk.clone(), keys::SK_GUARD))
            .collect();
        wanted.push(key_of(keys::app_pk(app), keys::SK_APP));
        for key in keys_held {
            wanted.push(key_of(
                keys::allowlist_pk(app),
                &access::allow_entry_id(key),
            ));
            // A domain is never invited: only its allowlist entry can exist.
            if key.kind != AccessKind::EmailDomain {
                wanted.push(key_of(
                    keys::open_invitation_pk(app, key),
                    keys::SK_OPEN_INVITATION,
                ));
            }
        }
        let mut owners = vec![None; identifiers.len()];
        let mut read = AdmissionRead::default();
        for item in self.batch_get(wanted).await? {
            match item.get("entity") {
                Some(AttributeValue::S(entity)) if entity == "guard" => {
                    let guard = from_item::<GuardItem>(item)?;
                    for (index, pk) in guard_pks.iter().enumerate() {
                        if *pk == guard.pk {
                            owners[index] = Some(guard.user_id);
                        }
                    }
                }
                Some(AttributeValue::S(entity)) if entity == "app" => {
                    read.settings = from_item::<AppSettingsItem>(item)?.settings;
                }
                Some(AttributeValue::S(entity)) if entity == "allow_entry" => {
                    read.entries.push(from_item::<AllowItem>(item)?.entry);
                }
                Some(AttributeValue::S(entity)) if entity == "open_invitation" => {
                    read.invitations
                        .push(from_item::<OpenInvitationItem>(item)?.invitation);
                }
                _ => {
                    return Err(StoreError::Corrupt(
                        "an admission read found an item of another kind".into(),
                    ));
                }
            }
        }
        // A batch returns items in no particular order.
        read.entries.sort_by(|a, b| a.id.cmp(&b.id));
        read.invitations.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((owners, read))
    }

    async fn count_claim(
        &self,
        app: &AppId,
        invitation_id: &str,
        inviter: UserId,
        at: &str,
    ) -> Result<bool, StoreError> {
        let record_key = key_of(keys::invitations_pk(app), invitation_id);
        let counted = Update::builder()
            .table_name(&self.table)
            .set_key(Some(record_key.clone()))
            .update_expression("REMOVE to_count SET counted_at = :at")
            .condition_expression("to_count = :inviter")
            .expression_attribute_values(":inviter", text(&inviter.to_string()))
            .expression_attribute_values(":at", text(at))
            .build()
            .map_err(build_error)?;
        // A change the inviter's readers can see: its version moves, so a write conditioned
        // on the version it had is refused rather than overwriting the count.
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::user_pk(app, inviter), keys::SK_USER)))
            .update_expression(
                "SET users_onboarded = if_not_exists(users_onboarded, :zero) + :one, \
                 version = version + :one, updated_at = :at",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":at", text(at))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().update(counted).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(true);
        };
        if cancelled.condition_failed(0) {
            // Counted already.
            return Ok(false);
        }
        if cancelled.condition_failed(1) {
            // The inviter is gone: the claim stays, with no one to count it on.
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(record_key.clone()))
                .update_expression("REMOVE to_count SET counted_at = :at")
                .condition_expression("to_count = :inviter")
                .expression_attribute_values(":inviter", text(&inviter.to_string()))
                .expression_attribute_values(":at", text(at))
                .send()
                .await;
            applied(result)?;
            return Ok(false);
        }
        if cancelled.conflicted() {
            return Err(StoreError::Unavailable(
                "a count met a concurrent write of its inviter".into(),
            ));
        }
        Err(cancelled.unexplained())
    }

    async fn uncounted_claims(
        &self,
        app: &AppId,
        limit: usize,
    ) -> Result<Vec<Invitation>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        // The filter reads the app's invitations a page at a time until `limit` are found.
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .filter_expression("attribute_exists(to_count)")
                .expression_attribute_values(":pk", text(&keys::invitations_pk(app)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                found.push(from_item::<InvitationItem>(item)?.invitation);
            }
            start = output.last_evaluated_key;
            if start.is_none() || found.len() >= limit {
                found.truncate(limit);
                return Ok(found);
            }
        }
    }

    async fn accept_entries(
        &self,
        app: &AppId,
        ids: &[String],
        at: &str,
    ) -> Result<(), StoreError> {
        for id in ids {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_of(keys::allowlist_pk(app), id)))
                .update_expression("SET accepted_at = :at")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(accepted_at)")
                .expression_attribute_values(":at", text(at))
                .send()
                .await;
            // Refused: the entry is gone, or another request accepted it first.
            applied(result)?;
        }
        Ok(())
    }

    async fn put_settings(&self, app: &AppId, settings: &AppSettings) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(settings)
            .map_err(|e| StoreError::Other(e.to_string().into()))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::app_pk(app), keys::SK_APP)))
            .update_expression("SET settings = :settings")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":settings", value)
            .send()
            .await;
        applied(result)
    }

    async fn get_user_policy(
        &self,
        app: &AppId,
        user: UserId,
    ) -> Result<Option<SigningPolicy>, StoreError> {
        let item = self
            .get_item(keys::user_pk(app, user), keys::SK_USER_POLICY)
            .await?;
        item.map(|item| from_item::<UserPolicyItem>(item).map(|item| item.policy))
            .transpose()
    }

    async fn put_user_policy(
        &self,
        app: &AppId,
        user: UserId,
        policy: &SigningPolicy,
    ) -> Result<(), StoreError> {
        let item = to_item(&UserPolicyItem {
            pk: keys::user_pk(app, user),
            sk: keys::SK_USER_POLICY.to_owned(),
            entity: "user_policy".to_owned(),
            policy: policy.clone(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn delete_user_policy(&self, app: &AppId, user: UserId) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::user_pk(app, user), keys::SK_USER_POLICY)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        applied(result)
    }

    async fn add_allow_entry(
        &self,
        app: &AppId,
        entry: &AllowEntry,
    ) -> Result<(AllowEntry, bool), StoreError> {
        let mut item = to_item(&AllowItem {
            pk: keys::allowlist_pk(app),
            sk: entry.id.clone(),
            entity: "allow_entry".to_owned(),
            entry: entry.clone(),
        })?;
        // Absent, not NULL, until accepted: the acceptance sets it only if it does not exist.
        if matches!(item.get("accepted_at"), Some(AttributeValue::Null(_))) {
            item.remove("accepted_at");
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if applied(result)? {
            return Ok((entry.clone(), true));
        }
        let existing = self
            .get_item(keys::allowlist_pk(app), &entry.id)
            .await?
            .ok_or_else(|| StoreError::Unavailable("an entry went as it was added".into()))?;
        Ok((from_item::<AllowItem>(existing)?.entry, false))
    }

    async fn list_allow_entries(
        &self,
        app: &AppId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<AllowEntry>, bool), StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .expression_attribute_values(":pk", text(&keys::allowlist_pk(app)));
        query = match after {
            Some(after) => query
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":after", text(after)),
            None => query.key_condition_expression("pk = :pk"),
        };
        let output = query.send().await.map_err(classify)?;
        let mut entries = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<AllowItem>(item).map(|i| i.entry))
            .collect::<Result<Vec<_>, _>>()?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok((entries, more))
    }

    async fn delete_allow_entry(&self, app: &AppId, id: &str) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::allowlist_pk(app), id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }

    async fn create_invitation(
        &self,
        app: &AppId,
        invitation: &Invitation,
        key: &AccessKey,
    ) -> Result<(), InviteConflict> {
        let mut items = Vec::new();
        let guard = key.guard();
        if let Some(identifier) = &guard {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(
                    keys::guard_pk(app, identifier),
                    keys::SK_GUARD,
                )))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().condition_check(check).build());
        }
        let open = to_item(&OpenInvitationItem {
            pk: keys::open_invitation_pk(app, key),
            sk: keys::SK_OPEN_INVITATION.to_owned(),
            entity: "open_invitation".to_owned(),
            invitation_id: invitation.id.clone(),
            invitation: invitation.clone(),
        })?;
        let put_open = Put::builder()
            .table_name(&self.table)
            .set_item(Some(open))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        items.push(TransactWriteItem::builder().put(put_open).build());
        let record = to_item(&InvitationItem {
            pk: keys::invitations_pk(app),
            sk: invitation.id.clone(),
            entity: "invitation".to_owned(),
            gsi1pk: invitation
                .invited_by
                .map(|inviter| keys::inviter_pk(app, inviter)),
            gsi1sk: invitation.invited_by.map(|_| invitation.id.clone()),
            invitation: invitation.clone(),
        })?;
        items.push(super::sdk::conditional_put(&self.table, record)?);
        let Some(cancelled) = self.send_transaction(items).await? else {
            return Ok(());
        };
        let open_index = usize::from(guard.is_some());
        if guard.is_some() && cancelled.condition_failed(0) {
            return Err(InviteConflict::AlreadyUser);
        }
        if cancelled.condition_failed(open_index) {
            let item = self
                .get_item(keys::open_invitation_pk(app, key), keys::SK_OPEN_INVITATION)
                .await?;
            return match item {
                Some(item) => Err(InviteConflict::AlreadyInvited(Box::new(
                    from_item::<OpenInvitationItem>(item)?.invitation,
                ))),
                // Claimed or revoked since: the caller may try again.
                None => Err(StoreError::Unavailable(
                    "the identifier's invitation changed while inviting".into(),
                )
                .into()),
            };
        }
        if cancelled.conflicted() {
            return Err(
                StoreError::Unavailable("an invitation met a concurrent write".into()).into(),
            );
        }
        Err(cancelled.unexplained().into())
    }

    async fn get_invitation(
        &self,
        app: &AppId,
        id: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        self.read_invitation(app, id).await
    }

    async fn list_invitations(
        &self,
        app: &AppId,
        before: Option<&str>,
        limit: usize,
        invited_by: Option<UserId>,
    ) -> Result<(Vec<Invitation>, bool), StoreError> {
        let (key, sort, partition) = match invited_by {
            Some(inviter) => (keys::GSI1_PK, keys::GSI1_SK, keys::inviter_pk(app, inviter)),
            None => (PK, SK, keys::invitations_pk(app)),
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .expression_attribute_names("#pk", key)
            .expression_attribute_values(":pk", text(&partition));
        query = match invited_by {
            Some(_) => query.index_name(keys::USERS_BY_APP_INDEX),
            None => query.consistent_read(true),
        };
        query = match before {
            Some(before) => query
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#sk", sort)
                .expression_attribute_values(":before", text(before)),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let output = query.send().await.map_err(classify)?;
        let mut invitations = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<InvitationItem>(item).map(|i| i.invitation))
            .collect::<Result<Vec<_>, _>>()?;
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
        let invitation = self
            .read_invitation(app, id)
            .await?
            .ok_or(RevokeConflict::NotFound)?;
        if invitation.status != InvitationStatus::Open {
            return Err(RevokeConflict::NotOpen(Box::new(invitation)));
        }
        let key = invitation.key().ok_or_else(|| {
            StoreError::Corrupt(format!("invitation {id} names no identifier").into())
        })?;
        let revoke = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(keys::invitations_pk(app), id)))
            .update_expression("SET #status = :revoked, revoked_at = :at")
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":revoked", text("revoked"))
            .expression_attribute_values(":open", text("open"))
            .expression_attribute_values(":at", text(at))
            .build()
            .map_err(build_error)?;
        let close = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(
                keys::open_invitation_pk(app, &key),
                keys::SK_OPEN_INVITATION,
            )))
            .condition_expression("invitation_id = :id")
            .expression_attribute_values(":id", text(id))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().update(revoke).build(),
            TransactWriteItem::builder().delete(close).build(),
        ];
        match self.send_transaction(items).await? {
            None => Ok(Invitation {
                status: InvitationStatus::Revoked,
                revoked_at: Some(at.to_owned()),
                ..invitation
            }),
            // Claimed (or revoked) between the read and the write: show it as it is now.
            Some(_) => match self.read_invitation(app, id).await? {
                Some(now) if now.status != InvitationStatus::Open => {
                    Err(RevokeConflict::NotOpen(Box::new(now)))
                }
                _ => Err(
                    StoreError::Unavailable("a revocation met a concurrent write".into()).into(),
                ),
            },
        }
    }
}
