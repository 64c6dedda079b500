//! Writing every user's username index entries (the admin CLI's `reindex-handles`): after an
//! upgrade to a version that indexes more of a user's usernames (its own `username` joined
//! the linked accounts' ones), the users written before have no entries for them, and a write
//! that leaves a username as it was adds none.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};

use super::DynamoStore;
use super::keys::{self, PK, SK};
use super::sdk::{build_error, classify, from_item};
use super::users::UserItem;
use crate::model::{AppId, User};
use crate::ports::{StoreError, UserStore};

/// How many times one user is tried, and the pause before the next try (times the attempt).
const ATTEMPTS: u32 = 8;
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

impl DynamoStore {
    /// Writes the index entries of every user that carries a username, each user's in one
    /// transaction that also checks the user is still at the version read, so an entry is never
    /// written for a username its user has just dropped. A user changed meanwhile is read again.
    /// Entries are plain puts of what they already hold: a second run (or one after a crash)
    /// rewrites the same items. One scan of the table; returns how many users it indexed.
    pub async fn reindex_handles(&self) -> Result<usize, StoreError> {
        let mut indexed = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(#pk, :app) AND #sk = :user")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":app", AttributeValue::S("APP#".into()))
                .expression_attribute_values(":user", AttributeValue::S(keys::SK_USER.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let stored: UserItem = from_item(item.clone())?;
                let app = stored.app_id.clone();
                indexed += usize::from(self.index_user(&app, stored.into_user()?).await?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(indexed);
            }
        }
    }

    /// Writes the entries of `user` (as read), reading it again each time it changed meanwhile:
    /// whether it had any. A user rewritten on every attempt, or a store that stays
    /// unavailable, ends the run with an error naming it (run it again later).
    async fn index_user(&self, app: &AppId, mut user: User) -> Result<bool, StoreError> {
        for attempt in 0..ATTEMPTS {
            if user.handles().is_empty() {
                return Ok(false);
            }
            match self.index_handles(app, &user).await {
                Ok(true) => return Ok(true),
                Ok(false) | Err(StoreError::Unavailable(_)) => {
                    tokio::time::sleep(BACKOFF * (attempt + 1)).await;
                }
                Err(error) => return Err(error),
            }
            match self.get_user(app, user.id).await? {
                Some(current) => user = current,
                // Deleted meanwhile: the delete removed its entries.
                None => return Ok(false),
            }
        }
        Err(StoreError::Unavailable(
            format!(
                "user {} kept changing or the table kept refusing; run again",
                user.id
            )
            .into(),
        ))
    }

    /// Puts `user`'s index entries if it is still at its version: false if it changed.
    async fn index_handles(&self, app: &AppId, user: &User) -> Result<bool, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::user_pk(app, user.id)))
            .key(SK, AttributeValue::S(keys::SK_USER.to_owned()))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", AttributeValue::N(user.version.to_string()))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().condition_check(check).build()];
        items.extend(self.handle_changes(app, user.id, &[], &user.handles())?);
        match self.send_transaction(items).await? {
            None => Ok(true),
            // Changed, or being changed right now: the caller reads it again.
            Some(cancelled) if cancelled.condition_failed(0) || cancelled.conflicted() => Ok(false),
            Some(cancelled) => Err(cancelled.unexplained()),
        }
    }
}
