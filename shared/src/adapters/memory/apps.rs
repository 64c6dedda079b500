//! Apps and their API keys, in memory.

use super::MemoryStore;
use crate::model::api_key::AppRecord;
use crate::model::rate_limit::{Counter, RateLimit};
use crate::model::{ApiKeyRecord, AppId, SealedKey};
use crate::ports::{AppAdmin, AppStore, StoreError};

impl AppStore for MemoryStore {
    async fn get_api_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.tables().api_keys.get(key_id).cloned())
    }

    async fn client_secret_of(
        &self,
        record: &ApiKeyRecord,
    ) -> Result<Option<SealedKey>, StoreError> {
        if let Some(sealed) = &record.client_secret {
            return Ok(Some(sealed.clone()));
        }
        Ok(self.tables().client_secrets.get(&record.key_id).cloned())
    }

    async fn note_api_key_use(
        &self,
        key_id: &str,
        now: &str,
        cutoff: &str,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if let Some(record) = tables.api_keys.get_mut(key_id)
            && record
                .last_used_at
                .as_deref()
                .is_none_or(|last| last < cutoff)
        {
            record.last_used_at = Some(now.to_owned());
        }
        Ok(())
    }

    async fn first_sighting(
        &self,
        key_id: &str,
        digest: &str,
        expires_at: u64,
        now_secs: u64,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let id = (key_id.to_owned(), digest.to_owned());
        match tables.sightings.get(&id) {
            Some(&until) if until >= now_secs => Ok(false),
            _ => {
                tables.sightings.insert(id, expires_at);
                Ok(true)
            }
        }
    }

    fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    async fn count_request(
        &self,
        app: &AppId,
        counter: Counter,
        amount: u32,
        limit: u32,
        _expires_at: u64,
    ) -> Result<Option<u32>, StoreError> {
        let mut tables = self.tables();
        *tables.counter_calls.entry(app.clone()).or_default() += 1;
        let count = tables
            .request_counts
            .entry((app.clone(), counter.key()))
            .or_default();
        if count.saturating_add(amount) > limit {
            return Ok(None);
        }
        *count += amount;
        Ok(Some(*count))
    }
}

impl AppAdmin for MemoryStore {
    async fn create_app(&self, app: &AppRecord) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.apps.contains_key(&app.app_id) {
            return Err(StoreError::Other(
                format!("app {} exists", app.app_id).into(),
            ));
        }
        tables
            .apps
            .insert(app.app_id.clone(), (app.clone(), Vec::new()));
        Ok(())
    }

    async fn get_app(&self, app_id: &AppId) -> Result<Option<AppRecord>, StoreError> {
        Ok(self.tables().apps.get(app_id).map(|(app, _)| app.clone()))
    }

    async fn add_api_key(
        &self,
        record: &ApiKeyRecord,
        client_secret: &SealedKey,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        if tables.api_keys.contains_key(&record.key_id) {
            return Err(StoreError::Other(
                format!("key {} exists", record.key_id).into(),
            ));
        }
        let Some((_, key_ids)) = tables.apps.get_mut(&record.app_id) else {
            return Err(StoreError::Other(
                format!("no app {}", record.app_id).into(),
            ));
        };
        key_ids.push(record.key_id.clone());
        tables
            .client_secrets
            .insert(record.key_id.clone(), client_secret.clone());
        tables.api_keys.insert(
            record.key_id.clone(),
            ApiKeyRecord {
                client_secret: None,
                ..record.clone()
            },
        );
        Ok(())
    }

    async fn list_api_keys(&self, app_id: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let tables = self.tables();
        let Some((_, key_ids)) = tables.apps.get(app_id) else {
            return Ok(Vec::new());
        };
        let mut records: Vec<ApiKeyRecord> = key_ids
            .iter()
            .filter_map(|id| tables.api_keys.get(id).cloned())
            .collect();
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(records)
    }

    async fn revoke_api_key(
        &self,
        app_id: &AppId,
        key_id: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        match tables.api_keys.get_mut(key_id) {
            Some(record) if &record.app_id == app_id && record.revoked_at.is_none() => {
                record.revoked_at = Some(now.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
