//! Changing a user: JSON Merge Patch of its profile, linking and unlinking accounts, asking for
//! a wallet. Each is one replacement of the user item conditioned on its version, with the
//! guards it gains claimed and those it loses released in the same transaction, so a user's
//! guards never drift from the user item. `If-Match` turns a lost race into 412 instead of a
//! retry.

use serde_json::{Map, Value, json};

use super::create::retry_after;
use super::{MAX_ATTEMPTS, UsersError, require_active, taken_fields};
use crate::clock;
use crate::domain::access;
use crate::domain::retry::{Next, retrying};
use crate::model::access::{self as access_model, AccessKey};
use crate::model::new_user::MAX_LINKED_ACCOUNTS;
use crate::model::validation::FieldError;
use crate::model::{
    AppId, ChainType, EmailAddress, Identifier, LinkedAccount, NewUser, User, UserId, UserStatus,
    Wallet, WalletAddress, WalletStatus,
};
use crate::ports::access::{AccessStore, Admission, Claim};
use crate::ports::{StoreError, UserStore, WriteError};

/// The `If-Match` precondition: the version the client last saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` (or `*`): apply to whatever the current version is.
    None,
    Version(u64),
}

/// Applies a merge patch to the user's profile. An unchanged result writes nothing.
pub async fn update_user<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    patch: &Map<String, Value>,
    precondition: Precondition,
) -> Result<User, UsersError> {
    change_user(store, app, id, precondition, |current| {
        apply_patch(current, patch).map_err(UsersError::Invalid)
    })
    .await
    .map(|(user, _)| user)
}

/// Replaces the user's custom metadata whole (Privy's "set"; a merge patch merges instead),
/// validated as a create's is.
pub async fn set_custom_metadata<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    metadata: &Map<String, Value>,
) -> Result<User, UsersError> {
    let mut patch = Map::new();
    patch.insert("custom_metadata".into(), Value::Object(metadata.clone()));
    change_user(store, app, id, Precondition::None, |current| {
        let cleared = User {
            custom_metadata: Map::new(),
            ..current.clone()
        };
        apply_patch(&cleared, &patch).map_err(UsersError::Invalid)
    })
    .await
    .map(|(user, _)| user)
}

/// Links an account to the user. `true` if newly linked, `false` if it already was.
pub async fn link_account<S: UserStore + AccessStore>(
    store: &S,
    app: &AppId,
    id: &str,
    account: &LinkedAccount,
) -> Result<(User, bool), UsersError> {
    let claims = InvitationClaims(store);
    change_admitting(store, &claims, app, id, Precondition::None, |current| {
        require_active(current)?;
        let mut user = current.clone();
        if let Some(address) = account.email() {
            return link_email(user, address);
        }
        if user
            .linked_accounts
            .iter()
            .any(|a| a.identifier() == account.identifier())
        {
            return Ok(user);
        }
        if user.linked_accounts.len() >= MAX_LINKED_ACCOUNTS {
            return Err(UsersError::Invalid(vec![FieldError::new(
                "",
                format!("a user holds at most {MAX_LINKED_ACCOUNTS} linked accounts"),
            )]));
        }
        // Stamped with the change's time by change_user.
        user.linked_accounts.push(account.clone());
        Ok(user)
    })
    .await
    .map_err(|error| match error {
        // The only identifier a link claims is the account's: name it as the request did.
        UsersError::Taken(_) => UsersError::Taken(vec!["linked_account".into()]),
        other => other,
    })
}

/// Unlinks the account of `kind` (a linked account type) whose unique value is `value`,
/// freeing the identifier. Unlinking a user's last identifier is allowed.
pub async fn unlink_account<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    kind: &str,
    value: &str,
) -> Result<User, UsersError> {
    let wanted = if kind == "wallet" {
        let address = WalletAddress::parse_any(value).ok_or(UsersError::NotFound)?;
        Identifier::Address(address.key())
    } else if kind == "email" {
        let email = EmailAddress::parse("email", value).map_err(|_| UsersError::NotFound)?;
        Identifier::Email(email.key().to_owned())
    } else {
        let kind = crate::model::linked_account::LINKED_ACCOUNT_TYPES
            .iter()
            .find(|known| **known == kind)
            .ok_or(UsersError::NotFound)?;
        Identifier::Account {
            kind,
            value: value.to_owned(),
        }
    };
    change_user(store, app, id, Precondition::None, |current| {
        let mut user = current.clone();
        if let Identifier::Email(key) = &wanted {
            let held = user.email.as_deref().and_then(|email| {
                EmailAddress::parse("email", email)
                    .ok()
                    .filter(|email| email.key() == key)
            });
            if held.is_none() {
                return Err(UsersError::NotLinked);
            }
            user.email = None;
            return Ok(user);
        }
        let before = user.linked_accounts.len();
        user.linked_accounts.retain(|a| a.identifier() != wanted);
        if user.linked_accounts.len() == before {
            return Err(UsersError::NotLinked);
        }
        Ok(user)
    })
    .await
    .map(|(user, _)| user)
}

/// Links an `email` account: it becomes the user's email if the user has none, and is already
/// linked if it is the user's email. A user has one email: another one is changed by PATCH.
fn link_email(mut user: User, address: &str) -> Result<User, UsersError> {
    let key = |text: &str| EmailAddress::parse("address", text).map(|e| e.key().to_owned());
    match &user.email {
        None => {
            user.email = Some(address.to_owned());
            Ok(user)
        }
        Some(current) if key(current).ok() == key(address).ok() => Ok(user),
        Some(_) => Err(UsersError::Invalid(vec![FieldError::new(
            "address",
            "the user has another email; a user has one, changed with PATCH /v1/users/{id}",
        )])),
    }
}

/// What asking for a wallet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletRequest {
    /// A new or failed wallet was queued: it will be created asynchronously.
    Queued,
    /// The wallet is ready or already queued: nothing changed.
    Unchanged,
}

/// Asks for a wallet on `chain` for the user with `id`: adds one the user lacks, re-queues a
/// `failed` one, and leaves a `ready` or `pending` one as it is. The change is conditioned on
/// the user's version, so two racing requests cannot both add a wallet for one chain.
pub async fn request_wallet<S: UserStore>(
    store: &S,
    app: &AppId,
    id: &str,
    chain: ChainType,
) -> Result<(Wallet, WalletRequest), UsersError> {
    let (user, changed) = change_user(store, app, id, Precondition::None, |current| {
        require_active(current)?;
        let mut user = current.clone();
        match user.wallets.iter().position(|w| w.chain_type == chain) {
            Some(index) if user.wallets[index].status != WalletStatus::Failed => {}
            Some(index) => user.wallets[index] = Wallet::pending(chain),
            None => user.wallets.push(Wallet::pending(chain)),
        }
        Ok(user)
    })
    .await?;
    let wallet = user
        .wallets
        .into_iter()
        .find(|w| w.chain_type == chain)
        .ok_or_else(|| {
            UsersError::Store(StoreError::Corrupt(
                format!("user {id} lost its {chain} wallet").into(),
            ))
        })?;
    let outcome = if changed {
        WalletRequest::Queued
    } else {
        WalletRequest::Unchanged
    };
    Ok((wallet, outcome))
}

/// Reads the user, derives its new state with `change`, and writes it with the guard
/// differences, retrying from a fresh read if another change came first (unless the client
/// pinned a version). Returns the user and whether anything changed.
pub(super) async fn change_user<S, F>(
    store: &S,
    app: &AppId,
    id: &str,
    precondition: Precondition,
    change: F,
) -> Result<(User, bool), UsersError>
where
    S: UserStore,
    F: Fn(&User) -> Result<User, UsersError>,
{
    change_admitting(store, &NoClaims, app, id, precondition, change).await
}

/// How a change finds the invitation a user claims by gaining identifiers.
pub(super) trait Claims: Sync {
    /// The claim (and the onboarding it gives) of a user changing from `current` to `updated`.
    fn claim(
        &self,
        app: &AppId,
        current: &User,
        updated: &User,
    ) -> impl Future<Output = Result<Admission, StoreError>> + Send;

    /// Counts a committed claim on its inviter.
    fn count(&self, app: &AppId, claim: &Claim) -> impl Future<Output = ()> + Send;
}

/// Changes that claim nothing (a profile, a status, a wallet).
struct NoClaims;

impl Claims for NoClaims {
    async fn claim(&self, _: &AppId, _: &User, _: &User) -> Result<Admission, StoreError> {
        Ok(Admission::NONE)
    }

    async fn count(&self, _: &AppId, _: &Claim) {}
}

/// Changes that claim the earliest open invitation of an identifier the user gains, if the
/// user was not onboarded yet: one batched read, only when it gains identifiers.
struct InvitationClaims<'a, S>(&'a S);

impl<S: AccessStore> Claims for InvitationClaims<'_, S> {
    async fn claim(
        &self,
        app: &AppId,
        current: &User,
        updated: &User,
    ) -> Result<Admission, StoreError> {
        let held = access_model::keys_of(current);
        let gained: Vec<AccessKey> = access_model::keys_of(updated)
            .into_iter()
            .filter(|key| !held.contains(key))
            .collect();
        if gained.is_empty() || updated.onboarding.is_some() {
            return Ok(Admission::NONE);
        }
        let read = self.0.read_admission(app, &gained).await?;
        let claim = access::claim_for_existing(&read, updated, &gained, &updated.updated_at);
        Ok(Admission {
            claim,
            ..Admission::NONE
        })
    }

    async fn count(&self, app: &AppId, claim: &Claim) {
        access::count_after_claim(self.0, app, claim).await;
    }
}

/// [`change_user`], with the claims the change makes.
async fn change_admitting<S, C, F>(
    store: &S,
    claims: &C,
    app: &AppId,
    id: &str,
    precondition: Precondition,
    change: F,
) -> Result<(User, bool), UsersError>
where
    S: UserStore,
    C: Claims,
    F: Fn(&User) -> Result<User, UsersError>,
{
    let id = UserId::parse(id).ok_or(UsersError::NotFound)?;
    let change = &change;
    retrying(MAX_ATTEMPTS, UsersError::Contention, |_| async move {
        let current = store.get_user(app, id).await?.ok_or(UsersError::NotFound)?;
        if let Precondition::Version(version) = precondition
            && version != current.version
        {
            return Err(UsersError::PreconditionFailed);
        }
        let mut updated = change(&current)?;
        if updated == current {
            return Ok(Next::Done((current, false)));
        }
        updated.version = current.version + 1;
        updated.updated_at = clock::now_after(&current.updated_at);
        if updated.status == UserStatus::Disabled && current.status == UserStatus::Active {
            updated.disabled_at = Some(updated.updated_at.clone());
        }
        // Accounts this change links are linked when the user changed.
        for account in &mut updated.linked_accounts {
            if account.linked_at.is_none() && !current.linked_accounts.contains(account) {
                account.linked_at = Some(updated.updated_at.clone());
            }
        }
        let admission = claims.claim(app, &current, &updated).await?;
        if let Some(claim) = &admission.claim {
            updated.onboarding = Some(access::onboarding_of(claim));
        }
        let (claim, release) = guard_changes(&current, &updated);
        let identifiers: Vec<Identifier> = claim.iter().map(|(_, id)| id.clone()).collect();
        match store
            .replace_user(
                app,
                &updated,
                current.version,
                &identifiers,
                &release,
                &admission,
                &current.handles(),
            )
            .await
        {
            Ok(()) => {
                if let Some(claim) = &admission.claim {
                    claims.count(app, claim).await;
                }
                Ok(Next::Done((updated, true)))
            }
            Err(WriteError::Taken(taken)) => Err(taken_fields(&claim, taken)),
            Err(WriteError::Stale) if precondition != Precondition::None => {
                Err(UsersError::PreconditionFailed)
            }
            Err(error) => retry_after(error),
        }
    })
    .await
}

/// The identifiers `updated` gains (with the field each comes from) and those it loses.
fn guard_changes(current: &User, updated: &User) -> (Vec<(String, Identifier)>, Vec<Identifier>) {
    let before = current.identifiers();
    let after = updated.identifier_fields();
    let claim = after
        .iter()
        .filter(|(_, id)| !before.contains(id))
        .cloned()
        .collect();
    let release = before
        .into_iter()
        .filter(|id| !after.iter().any(|(_, kept)| kept == id))
        .collect();
    (claim, release)
}

/// The user with the patch merged into its profile (RFC 7396), validated as a create would be.
fn apply_patch(current: &User, patch: &Map<String, Value>) -> Result<User, Vec<FieldError>> {
    let mut profile = json!({
        "external_id": current.external_id,
        "email": current.email,
        "username": current.username,
        "custom_metadata": current.custom_metadata,
    });
    json_patch::merge(&mut profile, &Value::Object(patch.clone()));
    // Validate through the create parser; wallets are not part of a profile.
    if let Some(fields) = profile.as_object_mut() {
        fields.insert("wallets".into(), json!([]));
    }
    let parsed = NewUser::parse(&profile)?;
    Ok(User {
        external_id: parsed.external_id,
        email: parsed.email.map(|email| email.as_str().to_owned()),
        username: parsed.username,
        custom_metadata: parsed.custom_metadata,
        ..current.clone()
    })
}
