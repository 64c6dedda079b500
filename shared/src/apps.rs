//! App administration: creating apps and issuing, listing and revoking their API keys.

use crate::adapters::DynamoStore;
use crate::adapters::dynamo::AppRecord;
use crate::auth::{self, ApiKeyRecord, IssueError, IssuedKey};
use crate::clock;
use crate::model::AppId;
use crate::ports::StoreError;

/// What went wrong administering apps.
#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    #[error("no app {0}")]
    NoSuchApp(AppId),
    #[error("no live key {key_id} in app {app_id}")]
    NoSuchKey { app_id: AppId, key_id: String },
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an app named `name` with its first API key.
pub async fn create_app(
    store: &DynamoStore,
    name: &str,
) -> Result<(AppRecord, IssuedKey), AppsError> {
    let app = AppRecord {
        app_id: AppId::generate(),
        name: name.to_owned(),
        created_at: clock::now_rfc3339(),
    };
    store.create_app(&app).await?;
    let key = issue_api_key(store, &app.app_id).await?;
    Ok((app, key))
}

/// Issues another key for an existing app (several may be live at once, for rotation).
pub async fn issue_api_key(store: &DynamoStore, app_id: &AppId) -> Result<IssuedKey, AppsError> {
    if store.get_app(app_id).await?.is_none() {
        return Err(AppsError::NoSuchApp(app_id.clone()));
    }
    let key = auth::issue_key(app_id, &clock::now_rfc3339())?;
    store.add_api_key(&key.record).await?;
    Ok(key)
}

/// Every key of an app, oldest first.
pub async fn list_api_keys(
    store: &DynamoStore,
    app_id: &AppId,
) -> Result<Vec<ApiKeyRecord>, AppsError> {
    if store.get_app(app_id).await?.is_none() {
        return Err(AppsError::NoSuchApp(app_id.clone()));
    }
    Ok(store.list_api_keys(app_id).await?)
}

/// Revokes a live key of an app; requests presenting it are refused from then on.
pub async fn revoke_api_key(
    store: &DynamoStore,
    app_id: &AppId,
    key_id: &str,
) -> Result<(), AppsError> {
    if store
        .revoke_api_key(app_id, key_id, &clock::now_rfc3339())
        .await?
    {
        crate::auth::cache::KEYS.forget(key_id);
        Ok(())
    } else {
        Err(AppsError::NoSuchKey {
            app_id: app_id.clone(),
            key_id: key_id.to_owned(),
        })
    }
}
