//! An app's settings, as the app reads and changes them.

use super::AccessError;
use crate::model::api_key::AppSettings;
use crate::model::network::{self, Network};
use crate::model::policy::SigningPolicy;
use crate::model::{AppId, UserId};
use crate::ports::UserStore;
use crate::ports::access::AccessStore;

/// A change of settings: each field given replaces the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub allowlist_required: Option<bool>,
    pub networks: Option<Vec<Network>>,
    pub signing_policy: Option<SigningPolicy>,
}

/// The app's settings, with the networks that apply (the default if it declared none).
pub async fn get_settings<S: AccessStore>(
    store: &S,
    app: &AppId,
) -> Result<AppSettings, AccessError> {
    let mut settings = store.read_admission(app, &[]).await?.settings;
    settings.networks = network::effective(&settings.networks);
    Ok(settings)
}

/// Applies `change` to the app's settings. The last change wins: settings are the app's own,
/// changed by its administrators, not by racing users.
pub async fn change_settings<S: AccessStore>(
    store: &S,
    app: &AppId,
    change: &SettingsChange,
) -> Result<AppSettings, AccessError> {
    // The settings as declared: an app that declared no networks keeps the default, not a
    // copy of it.
    let mut settings = store.read_admission(app, &[]).await?.settings;
    if let Some(required) = change.allowlist_required {
        settings.allowlist_required = required;
    }
    if let Some(networks) = &change.networks {
        settings.networks = networks.clone();
    }
    if let Some(policy) = &change.signing_policy {
        settings.signing_policy = policy.clone();
    }
    if !store.put_settings(app, &settings).await? {
        return Err(AccessError::NotFound("app"));
    }
    settings.networks = network::effective(&settings.networks);
    Ok(settings)
}

/// A user's override of the app's signing policy (`{}` when it has none).
pub async fn user_policy<S: AccessStore + UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<SigningPolicy, AccessError> {
    let user = existing_user(store, app, id).await?;
    Ok(store.get_user_policy(app, user).await?.unwrap_or_default())
}

/// Sets a user's override: the rules it sets replace the app's for this user's wallets (deny
/// lists add up). An override that sets no rule removes it.
pub async fn set_user_policy<S: AccessStore + UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    policy: &SigningPolicy,
) -> Result<SigningPolicy, AccessError> {
    let user = existing_user(store, app, id).await?;
    if policy.is_empty() {
        store.delete_user_policy(app, user).await?;
    } else {
        store.put_user_policy(app, user, policy).await?;
    }
    Ok(policy.clone())
}

/// Removes a user's override; `NotFound` if it had none.
pub async fn clear_user_policy<S: AccessStore + UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<(), AccessError> {
    let user = existing_user(store, app, id).await?;
    if store.delete_user_policy(app, user).await? {
        Ok(())
    } else {
        Err(AccessError::NotFound("signing policy override"))
    }
}

async fn existing_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
) -> Result<UserId, AccessError> {
    let user = UserId::parse(id).ok_or(AccessError::NotFound("user"))?;
    match store.get_user(app, user).await? {
        Some(_) => Ok(user),
        None => Err(AccessError::NotFound("user")),
    }
}
