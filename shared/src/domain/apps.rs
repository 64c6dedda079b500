//! App administration: creating apps and issuing, listing and revoking their API keys.

use crate::clock;
use crate::domain::wallets::seal;
use crate::model::api_key::{self, AppRecord, ClientSecret, IssueError, IssuedKey};
use crate::model::{ApiKeyRecord, AppId, Scope, SealedKey};
use crate::ports::sealer::{KeyContext, KeySealer, SealError};
use crate::ports::{AppAdmin, StoreError};

/// What went wrong administering apps.
#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    #[error("no app {0}")]
    NoSuchApp(AppId),
    #[error("no live key {key_id} in app {app_id}")]
    NoSuchKey { app_id: AppId, key_id: String },
    #[error("a key must hold at least one scope")]
    NoScopes,
    #[error("the issuing key does not hold {0}, so it cannot grant it")]
    NotHeld(Scope),
    #[error(transparent)]
    Issue(#[from] IssueError),
    #[error("sealing the client secret: {0}")]
    Seal(#[from] SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an app named `name` with its first API key, which holds every scope (the app's
/// owner narrows from there with keys of fewer scopes).
pub async fn create_app<S: AppAdmin, K: KeySealer>(
    store: &S,
    sealer: &K,
    name: &str,
) -> Result<(AppRecord, IssuedKey), AppsError> {
    let app = AppRecord {
        app_id: AppId::generate(),
        name: name.to_owned(),
        created_at: clock::now_rfc3339(),
        settings: Default::default(),
    };
    store.create_app(&app).await?;
    let key = issue_api_key(store, sealer, &app.app_id, &Scope::ALL).await?;
    Ok((app, key))
}

/// Issues another key for an existing app (several may be live at once, for rotation) holding
/// `scopes`, with its client secret sealed beside it.
pub async fn issue_api_key<S: AppAdmin, K: KeySealer>(
    store: &S,
    sealer: &K,
    app_id: &AppId,
    scopes: &[Scope],
) -> Result<IssuedKey, AppsError> {
    if scopes.is_empty() {
        return Err(AppsError::NoScopes);
    }
    if store.get_app(app_id).await?.is_none() {
        return Err(AppsError::NoSuchApp(app_id.clone()));
    }
    let mut key = api_key::issue_key(app_id, scopes, &clock::now_rfc3339())?;
    let secret = ClientSecret::generate()?;
    let aad = client_secret_aad(&key.record.key_id);
    let context = KeyContext::client_secret(app_id, &key.record.key_id);
    let sealed = sealer
        .data_key(&context)
        .await?
        .seal(secret.reveal().as_bytes(), &aad)?;
    key.client_secret = Some(secret);
    store.add_api_key(&key.record, &sealed).await?;
    Ok(key)
}

/// Issues a key at the request of another key of the same app (`issuer`, over the API): it
/// may grant only scopes it holds itself, so a key that configures the app cannot mint one
/// that signs, nor any key one that does more than it can.
pub async fn issue_api_key_by<S: AppAdmin, K: KeySealer>(
    store: &S,
    sealer: &K,
    issuer: &ApiKeyRecord,
    scopes: &[Scope],
) -> Result<IssuedKey, AppsError> {
    if let Some(missing) = scopes.iter().find(|scope| !issuer.allows(**scope)) {
        return Err(AppsError::NotHeld(*missing));
    }
    issue_api_key(store, sealer, &issuer.app_id, scopes).await
}

/// What binds a sealed client secret to its key.
pub fn client_secret_aad(key_id: &str) -> Vec<u8> {
    format!("wallet-users/v1/client-secret/{key_id}").into_bytes()
}

/// The client secret of `record`'s key, opened from `sealed` (see
/// [`crate::ports::AppStore::client_secret_of`]).
pub async fn open_client_secret<K: KeySealer>(
    sealer: &K,
    record: &ApiKeyRecord,
    sealed: &SealedKey,
) -> Result<ClientSecret, SealError> {
    let context = KeyContext::client_secret(&record.app_id, &record.key_id);
    let opened = seal::open(sealer, sealed, &client_secret_aad(&record.key_id), &context).await?;
    // Anything but a secret this API issued is refused.
    ClientSecret::from_opened(&opened).ok_or(SealError::Open)
}

/// Every key of an app, oldest first.
pub async fn list_api_keys<S: AppAdmin>(
    store: &S,
    app_id: &AppId,
) -> Result<Vec<ApiKeyRecord>, AppsError> {
    if store.get_app(app_id).await?.is_none() {
        return Err(AppsError::NoSuchApp(app_id.clone()));
    }
    Ok(store.list_api_keys(app_id).await?)
}

/// Revokes a live key of an app; requests presenting it are refused from then on (a warm
/// function's cached record lasts a few seconds: see `edge::auth::revoke_api_key`).
pub async fn revoke_api_key<S: AppAdmin>(
    store: &S,
    app_id: &AppId,
    key_id: &str,
) -> Result<(), AppsError> {
    if store
        .revoke_api_key(app_id, key_id, &clock::now_rfc3339())
        .await?
    {
        Ok(())
    } else {
        Err(AppsError::NoSuchKey {
            app_id: app_id.clone(),
            key_id: key_id.to_owned(),
        })
    }
}

/// Revokes every live key of an app at once (a leak whose key is unknown): the ids revoked.
/// Keys are revoked one by one, each conditionally, so a key issued meanwhile is either
/// revoked or listed as live afterwards, never half-revoked.
pub async fn revoke_all_api_keys<S: AppAdmin>(
    store: &S,
    app_id: &AppId,
) -> Result<Vec<String>, AppsError> {
    let mut revoked = Vec::new();
    for key in list_api_keys(store, app_id).await? {
        if key.revoked_at.is_some() {
            continue;
        }
        if store
            .revoke_api_key(app_id, &key.key_id, &clock::now_rfc3339())
            .await?
        {
            revoked.push(key.key_id);
        }
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::MemoryStore;
    use crate::adapters::sealer::LocalSealer;

    #[tokio::test]
    async fn a_key_grants_only_the_scopes_it_holds() {
        let store = MemoryStore::new();
        let sealer = LocalSealer::from_hex(&"42".repeat(32)).unwrap();
        let (app, full) = create_app(&store, &sealer, "app").await.unwrap();
        let admin = issue_api_key(&store, &sealer, &app.app_id, &[Scope::Admin])
            .await
            .unwrap();

        let narrower = [Scope::UsersRead];
        let issued = issue_api_key_by(&store, &sealer, &full.record, &narrower)
            .await
            .unwrap();
        assert_eq!(issued.record.scopes(), narrower);
        assert_eq!(issued.record.app_id, app.app_id);
        match issue_api_key_by(
            &store,
            &sealer,
            &admin.record,
            &[Scope::Admin, Scope::WalletsSign],
        )
        .await
        {
            Err(AppsError::NotHeld(Scope::WalletsSign)) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(list_api_keys(&store, &app.app_id).await.unwrap().len(), 3);
    }
}
