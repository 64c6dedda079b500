//! Idempotency keys in memory, and the completion a user write commits beside itself.

use super::{MemoryStore, Tables};
use crate::model::AppId;
use crate::ports::StoreError;
use crate::ports::commit::{Completion, RowReceipt};
use crate::ports::idempotency::{Claim, IdempotencyStore, KeyRecord, KeyState, Rendered};

impl IdempotencyStore for MemoryStore {
    async fn claim_key(
        &self,
        app: &AppId,
        key: &str,
        record: &KeyRecord,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        let mut tables = self.tables();
        let id = (app.clone(), key.to_owned());
        if let Some(held) = tables.idempotency.get(&id) {
            let expired = held.expires_at < now_ms / 1000;
            let abandoned = held.state == KeyState::InProgress
                && held.locked_until_ms < now_ms
                && held.fingerprint == record.fingerprint;
            if !expired && !abandoned {
                return Ok(Claim::Held(held.clone()));
            }
        }
        tables.idempotency.insert(id, record.clone());
        Ok(Claim::Claimed)
    }

    async fn complete_key(
        &self,
        app: &AppId,
        key: &str,
        token: &str,
        response: &Rendered,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        match tables.idempotency.get_mut(&(app.clone(), key.to_owned())) {
            // A write that committed the key's outcome already keeps it.
            Some(record) if record.token == token && record.state == KeyState::InProgress => {
                complete(record, response);
                Ok(())
            }
            _ => Err(StoreError::Other(
                "the idempotency claim was taken over".into(),
            )),
        }
    }

    async fn release_key(&self, app: &AppId, key: &str, token: &str) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let id = (app.clone(), key.to_owned());
        if tables
            .idempotency
            .get(&id)
            .is_some_and(|record| record.token == token && record.state == KeyState::InProgress)
        {
            tables.idempotency.remove(&id);
        }
        Ok(())
    }

    async fn row_receipts(&self, app: &AppId, key: &str) -> Result<Vec<RowReceipt>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .receipts
            .values()
            .filter(|receipt| &receipt.app == app && receipt.key == key)
            .cloned()
            .collect())
    }
}

fn complete(record: &mut KeyRecord, response: &Rendered) {
    record.state = KeyState::Completed;
    record.status = Some(response.status);
    record.body = Some(response.body.clone());
    record.etag = response.etag.clone();
}

impl Tables {
    /// The condition a write's completion puts on it: the key's claim is still the request's.
    pub(super) fn check_completion(&self, completion: &Completion) -> Result<(), StoreError> {
        if let Completion::Key {
            app, key, token, ..
        } = completion
        {
            let claim = self.idempotency.get(&(app.clone(), key.clone()));
            if claim.is_none_or(|record| &record.token != token) {
                // The key's claim is no longer this request's: its lock ran out.
                return Err(StoreError::Unavailable(
                    "the idempotency key's claim was taken over".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes a completion whose condition held.
    pub(super) fn apply_completion(&mut self, completion: &Completion) {
        match completion {
            Completion::Key {
                app, key, rendered, ..
            } => {
                if let Some(record) = self.idempotency.get_mut(&(app.clone(), key.clone())) {
                    complete(record, rendered);
                }
            }
            Completion::Row(receipt) => {
                let id = (receipt.app.clone(), receipt.key.clone(), receipt.index);
                self.receipts.insert(id, receipt.clone());
            }
        }
    }
}
