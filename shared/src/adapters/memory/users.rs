//! Users, their identifier guards and their wallets, in memory: each write checks every
//! condition its DynamoDB transaction carries before applying any of it.

use super::{MemoryStore, Tables, corrupt};
use crate::model::user::DeletedUser;
use crate::model::{
    AppId, ChainType, Handle, Identifier, SealedKey, User, UserId, UserStatus, WalletStatus,
};
use crate::ports::ReadyWallet;
use crate::ports::access::Admission;
use crate::ports::commit::{self, Completion};
use crate::ports::{
    KeysAtRestore, RestoreConflict, StoreError, UserStore, WalletAttempt, WalletStore, WriteError,
};

impl Tables {
    /// The identifiers of `claim` another user holds, as `WriteError::Taken` reports them.
    fn taken(
        &self,
        app: &AppId,
        user: UserId,
        claim: &[Identifier],
    ) -> Vec<(usize, Option<UserId>)> {
        claim
            .iter()
            .enumerate()
            .filter_map(|(index, identifier)| {
                let holder = *self.guards.get(&(app.clone(), identifier.clone()))?;
                (holder != user).then_some((index, Some(holder)))
            })
            .collect()
    }

    /// Whether `user` holds the guard of `identifier`.
    fn holds(&self, app: &AppId, user: UserId, identifier: &Identifier) -> bool {
        self.guards.get(&(app.clone(), identifier.clone())) == Some(&user)
    }

    /// The user's pending wallet of `chain` at `index`, if that is what is there.
    fn pending_wallet(
        &mut self,
        app: &AppId,
        user: UserId,
        index: usize,
        chain: ChainType,
    ) -> Option<&mut User> {
        let found = self.users.get_mut(&(app.clone(), user))?;
        let wallet = found.wallets.get(index)?;
        (wallet.chain_type == chain && wallet.status == WalletStatus::Pending).then_some(found)
    }
}

impl MemoryStore {
    /// Runs a user write: `check` its conditions (the idempotency completion's first, as the
    /// DynamoDB adapter decodes them), then `apply` it with its completion, all under one lock.
    fn write_user(
        &self,
        user: &User,
        check: impl FnOnce(&Tables) -> Result<(), WriteError>,
        apply: impl FnOnce(&mut Tables),
    ) -> Result<(), WriteError> {
        let completion: Option<Completion> = commit::pending(user);
        {
            let mut tables = self.tables();
            if let Some(completion) = &completion {
                tables.check_completion(completion)?;
            }
            check(&tables)?;
            apply(&mut tables);
            if let Some(completion) = &completion {
                tables.apply_completion(completion);
            }
        }
        if let Some(completion) = &completion {
            commit::committed(completion);
        }
        Ok(())
    }
}

impl UserStore for MemoryStore {
    async fn insert_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        admission: &Admission,
    ) -> Result<(), WriteError> {
        let id = (app.clone(), user.id);
        self.write_user(
            user,
            |tables| {
                // A new user's id is fresh: an existing item is a bug.
                if tables.users.contains_key(&id) {
                    return Err(corrupt(format!("user {} exists", user.id)).into());
                }
                let taken = tables.taken(app, user.id, identifiers);
                if !taken.is_empty() {
                    return Err(WriteError::Taken(taken));
                }
                tables.check_admission(app, admission)
            },
            |tables| {
                tables.users.insert(id.clone(), user.clone());
                for identifier in identifiers {
                    tables
                        .guards
                        .insert((app.clone(), identifier.clone()), user.id);
                }
                tables.apply_admission(app, user.id, admission);
            },
        )
    }

    async fn replace_user(
        &self,
        app: &AppId,
        user: &User,
        expected_version: u64,
        claim: &[Identifier],
        release: &[Identifier],
        admission: &Admission,
        // The index is the users themselves here: see `find_by_handle`.
        _handles_before: &[Handle],
    ) -> Result<(), WriteError> {
        let id = (app.clone(), user.id);
        self.write_user(
            user,
            |tables| {
                let current = tables.users.get(&id).map(|u| u.version);
                if current != Some(expected_version) {
                    return Err(WriteError::Stale);
                }
                let taken = tables.taken(app, user.id, claim);
                if !taken.is_empty() {
                    return Err(WriteError::Taken(taken));
                }
                if !release
                    .iter()
                    .all(|identifier| tables.holds(app, user.id, identifier))
                {
                    return Err(corrupt(format!(
                        "user {} released a guard it does not hold",
                        user.id
                    ))
                    .into());
                }
                tables.check_admission(app, admission)
            },
            |tables| {
                tables.users.insert(id.clone(), user.clone());
                for identifier in claim {
                    tables
                        .guards
                        .insert((app.clone(), identifier.clone()), user.id);
                }
                for identifier in release {
                    tables.guards.remove(&(app.clone(), identifier.clone()));
                }
                tables.apply_admission(app, user.id, admission);
            },
        )
    }

    async fn get_user(&self, app: &AppId, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.tables().users.get(&(app.clone(), id)).cloned())
    }

    async fn delete_user(
        &self,
        app: &AppId,
        user: &User,
        deleted_at: &str,
        purge_at: u64,
    ) -> Result<(), WriteError> {
        let id = (app.clone(), user.id);
        let identifiers = user.identifiers();
        self.write_user(
            user,
            |tables| {
                if tables.users.get(&id).map(|u| u.version) != Some(user.version) {
                    return Err(WriteError::Stale);
                }
                // The positions DynamoDB reports for the other failed conditions (less one).
                let mut taken = Vec::new();
                for (index, identifier) in identifiers.iter().enumerate() {
                    if !tables.holds(app, user.id, identifier) {
                        taken.push((index + 1, None));
                    }
                }
                if taken.is_empty() {
                    Ok(())
                } else {
                    Err(WriteError::Taken(taken))
                }
            },
            |tables| {
                tables.users.remove(&id);
                tables.tombstones.insert(
                    id.clone(),
                    DeletedUser {
                        user: user.clone(),
                        deleted_at: deleted_at.to_owned(),
                        purge_at,
                        keys_left: true,
                    },
                );
                for identifier in &identifiers {
                    tables.guards.remove(&(app.clone(), identifier.clone()));
                }
            },
        )
    }

    async fn list_users(
        &self,
        app: &AppId,
        before: Option<UserId>,
        limit: usize,
        status: Option<UserStatus>,
    ) -> Result<(Vec<User>, bool), StoreError> {
        let tables = self.tables();
        let mut users: Vec<User> = tables
            .users
            .iter()
            .filter(|((owner, id), user)| {
                owner == app
                    && before.is_none_or(|before| *id < before)
                    && status.is_none_or(|status| user.status == status)
            })
            .map(|(_, user)| user.clone())
            .collect();
        users.sort_by_key(|user| std::cmp::Reverse(user.id));
        let more = users.len() > limit;
        users.truncate(limit);
        Ok((users, more))
    }

    async fn find_by_handle(
        &self,
        app: &AppId,
        handle: &Handle,
        before: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        // Every user of the app, read from the one lock: what the DynamoDB adapter's index
        // entries are derived from, so the two stay the same by construction.
        let mut ids: Vec<UserId> = self
            .tables()
            .users
            .iter()
            .filter(|((owner, _), user)| owner == app && user.handles().contains(handle))
            .map(|((_, id), _)| *id)
            .filter(|id| before.is_none_or(|before| *id < before))
            .collect();
        ids.sort_by_key(|id| std::cmp::Reverse(*id));
        ids.truncate(limit);
        Ok(ids)
    }

    async fn find_owner(
        &self,
        app: &AppId,
        identifier: &Identifier,
    ) -> Result<Option<UserId>, StoreError> {
        Ok(self
            .tables()
            .guards
            .get(&(app.clone(), identifier.clone()))
            .copied())
    }

    async fn get_deleted_user(
        &self,
        app: &AppId,
        id: UserId,
    ) -> Result<Option<DeletedUser>, StoreError> {
        let tables = self.tables();
        Ok(tables.tombstones.get(&(app.clone(), id)).cloned())
    }

    async fn restore_user(
        &self,
        app: &AppId,
        user: &User,
        identifiers: &[Identifier],
        keys: KeysAtRestore<'_>,
        now_secs: u64,
    ) -> Result<(), RestoreConflict> {
        let id = (app.clone(), user.id);
        let completion: Option<Completion> = commit::pending(user);
        let mut tables = self.tables();
        if let Some(completion) = &completion {
            tables.check_completion(completion)?;
        }
        // The conditions in the order the DynamoDB adapter reports them.
        if tables.users.contains_key(&id) {
            return Err(RestoreConflict::Exists);
        }
        let Some(tombstone) = tables.tombstones.get(&id) else {
            return Err(RestoreConflict::RetentionEnded);
        };
        let sealed = match keys {
            KeysAtRestore::Present(sealed) => sealed,
            KeysAtRestore::LeftByTheDelete if tombstone.keys_left => &[],
            KeysAtRestore::LeftByTheDelete => return Err(RestoreConflict::RetentionEnded),
        };
        if tombstone.purge_at <= now_secs {
            return Err(RestoreConflict::RetentionEnded);
        }
        let gone: Vec<ChainType> = sealed
            .iter()
            .copied()
            .filter(|chain| {
                !tables
                    .wallet_keys
                    .contains_key(&(app.clone(), user.id, *chain))
            })
            .collect();
        if !gone.is_empty() {
            return Err(RestoreConflict::KeysGone(gone));
        }
        let taken: Vec<usize> = tables
            .taken(app, user.id, identifiers)
            .into_iter()
            .map(|(index, _)| index)
            .collect();
        if !taken.is_empty() {
            return Err(RestoreConflict::Taken(taken));
        }
        tables.users.insert(id.clone(), user.clone());
        for identifier in identifiers {
            tables
                .guards
                .insert((app.clone(), identifier.clone()), user.id);
        }
        tables.tombstones.remove(&id);
        if let Some(completion) = &completion {
            tables.apply_completion(completion);
            drop(tables);
            commit::committed(completion);
        }
        Ok(())
    }
}

impl WalletStore for MemoryStore {
    async fn complete_wallet(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        ready: &ReadyWallet<'_>,
    ) -> Result<bool, StoreError> {
        let ReadyWallet {
            address,
            created_at,
            sealed,
            networks,
        } = *ready;
        let chain = address.chain();
        let key = (app.clone(), user, chain);
        let guard = (app.clone(), Identifier::Address(address.key()));
        let mut tables = self.tables();
        // The wallet is no longer pending, or its key exists: another delivery settled it.
        if tables.wallet_keys.contains_key(&key)
            || tables.pending_wallet(app, user, index, chain).is_none()
        {
            return Ok(false);
        }
        if tables.guards.contains_key(&guard) {
            return Err(StoreError::Other(
                "the generated address is already claimed".into(),
            ));
        }
        tables.wallet_keys.insert(key, sealed.clone());
        tables.guards.insert(guard, user);
        let found = tables
            .pending_wallet(app, user, index, chain)
            .ok_or_else(|| corrupt("the pending wallet went"))?;
        let wallet = &mut found.wallets[index];
        wallet.status = WalletStatus::Ready;
        wallet.address = Some(address.as_str().to_owned());
        wallet.created_at = Some(created_at.to_owned());
        wallet.last_error = None;
        wallet.networks = networks.to_vec();
        found.version += 1;
        Ok(true)
    }

    async fn record_wallet_failure(
        &self,
        app: &AppId,
        user: UserId,
        index: usize,
        chain: ChainType,
        error_code: &str,
        max_attempts: u32,
    ) -> Result<WalletAttempt, StoreError> {
        let mut tables = self.tables();
        let Some(found) = tables.pending_wallet(app, user, index, chain) else {
            return Ok(WalletAttempt::Settled);
        };
        let wallet = &mut found.wallets[index];
        wallet.attempts += 1;
        wallet.last_error = Some(error_code.to_owned());
        let attempts = wallet.attempts;
        let failed = attempts >= max_attempts;
        if failed {
            wallet.status = WalletStatus::Failed;
        }
        // Two writes in DynamoDB (count, then mark failed), each a version.
        found.version += if failed { 2 } else { 1 };
        Ok(WalletAttempt::Counted { attempts, failed })
    }

    async fn get_sealed_key(
        &self,
        app: &AppId,
        user: UserId,
        chain: ChainType,
    ) -> Result<Option<SealedKey>, StoreError> {
        Ok(self
            .tables()
            .wallet_keys
            .get(&(app.clone(), user, chain))
            .cloned())
    }

    async fn purge_wallet_keys(&self, app: &AppId, user: UserId) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let id = (app.clone(), user);
        if tables.users.contains_key(&id) || tables.tombstones.contains_key(&id) {
            return Ok(false);
        }
        tables
            .wallet_keys
            .retain(|(key_app, key_user, _), _| key_app != app || *key_user != user);
        Ok(true)
    }

    /// Memory stores never had the old layout.
    async fn move_legacy_wallet_keys(
        &self,
        _: &AppId,
        _: UserId,
        _: u64,
    ) -> Result<usize, StoreError> {
        Ok(0)
    }
}
