//! Export jobs, and the app's users in pages for them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::DynamoStore;
use super::keys;
use super::sdk::{classify, from_item, to_item};
use super::users::UserItem;
use crate::model::{AppId, User, UserId};
use crate::ports::StoreError;
use crate::ports::export::{ExportJob, ExportStore};

/// How long a job's record is kept: as long as its files (the template's bucket rule).
const EXPORT_RETENTION_SECS: u64 = 7 * 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct ExportJobItem {
    pk: String,
    sk: String,
    entity: String,
    ttl: u64,
    #[serde(flatten)]
    job: ExportJob,
}

impl DynamoStore {
    fn export_item(&self, app: &AppId, job: &ExportJob) -> Result<super::Item, StoreError> {
        to_item(&ExportJobItem {
            pk: keys::export_job_pk(app, &job.id),
            sk: keys::SK_EXPORT_JOB.into(),
            entity: "export_job".into(),
            ttl: crate::clock::now_ms() / 1000 + EXPORT_RETENTION_SECS,
            job: job.clone(),
        })
    }
}

impl ExportStore for DynamoStore {
    async fn create_export(&self, app: &AppId, job: &ExportJob) -> Result<(), StoreError> {
        self.put_new(self.export_item(app, job)?).await
    }

    async fn get_export(&self, app: &AppId, id: &str) -> Result<Option<ExportJob>, StoreError> {
        let item = self
            .get_item(keys::export_job_pk(app, id), keys::SK_EXPORT_JOB)
            .await?;
        item.map(|item| from_item::<ExportJobItem>(item).map(|item| item.job))
            .transpose()
    }

    async fn advance_export(
        &self,
        app: &AppId,
        job: &ExportJob,
        seen: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.export_item(app, job)?))
            .condition_expression("updated_at = :seen")
            .expression_attribute_values(":seen", AttributeValue::S(seen.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(classify(error)),
        }
    }

    async fn export_page(
        &self,
        app: &AppId,
        before: Option<UserId>,
        size: usize,
    ) -> Result<(Vec<User>, Option<UserId>), StoreError> {
        // Every partition of the listing, read at once, each up to its share of the page. A
        // partition that has more below what it returned has been read only down to its last
        // id; the highest of those "floors" is the line above which every partition has been
        // read whole. The page is what lies on or above it; the rest is read again next time.
        let partitions: Vec<String> = (0..keys::USER_LIST_SHARDS)
            .map(|shard| keys::user_list_shard_pk(app, shard))
            .chain([keys::disabled_users_pk(app)])
            .collect();
        let share = (size / usize::from(keys::USER_LIST_SHARDS)).max(1);
        let queries = partitions
            .into_iter()
            .map(|partition| self.listing_page(partition, before, share).send());
        let pages = futures::future::try_join_all(queries)
            .await
            .map_err(classify)?;
        let mut floor: Option<UserId> = None;
        let mut users: HashMap<UserId, User> = HashMap::new();
        for page in pages {
            let truncated = page.last_evaluated_key.is_some();
            let mut last = None;
            for item in page.items.unwrap_or_default() {
                let user = from_item::<UserItem>(item)?.into_user()?;
                last = Some(user.id);
                // A user moving between partitions (disabled, enabled) can be in two of them
                // while the index catches up: the later version is the one written.
                match users.get(&user.id) {
                    Some(seen) if seen.version >= user.version => {}
                    _ => {
                        users.insert(user.id, user);
                    }
                }
            }
            if truncated && let Some(last) = last {
                floor = floor.max(Some(last));
            }
        }
        let mut page: Vec<User> = users
            .into_values()
            .filter(|user| floor.is_none_or(|floor| user.id >= floor))
            .collect();
        page.sort_by_key(|user| std::cmp::Reverse(user.id));
        Ok((page, floor))
    }
}
