//! `PATCH /v1/users/{id}`: the merge patch body read through the API's edge, checked by
//! `bodies::parse_patch`, then applied by `users::update_user` (the real merge, validation
//! and guard bookkeeping) to a user held by a one-user in-memory store.
//!
//! Asserts: never panics; a rejection names at least one field; the store is asked to claim
//! exactly the identifiers the user gains and release exactly those it loses (its guards
//! never drift from the user item); a patched field takes its new value, `null` removes it,
//! and nothing a patch cannot change moves; the version moves by one on a change and not at
//! all otherwise; applying the same patch again changes nothing (a merge patch is
//! idempotent).
#![no_main]

use std::collections::BTreeSet;
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use shared::domain::users::UsersError;
use shared::domain::users::{self, Precondition};
use shared::edge::api::bodies;
use shared::model::linked_account::Account;
use shared::model::user::DeletedUser;
use shared::model::{
    AppId, ChainType, Handle, Identifier, LinkedAccount, User, UserId, UserStatus, Wallet,
};
use shared::ports::access::Admission;
use shared::ports::{KeysAtRestore, RestoreConflict, StoreError, UserStore, WriteError};

/// A store holding one user, checking each replacement's guard changes.
struct OneUser(Mutex<User>);

fn unsupported() -> StoreError {
    StoreError::Other("not used by updates".into())
}

impl UserStore for OneUser {
    async fn insert_user(
        &self,
        _: &AppId,
        _: &User,
        _: &[Identifier],
        _: &Admission,
    ) -> Result<(), WriteError> {
        Err(unsupported().into())
    }

    async fn replace_user(
        &self,
        _: &AppId,
        user: &User,
        expected_version: u64,
        claim: &[Identifier],
        release: &[Identifier],
        admission: &Admission,
        handles_before: &[Handle],
    ) -> Result<(), WriteError> {
        assert_eq!(admission, &Admission::NONE, "a patch claims nothing");
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(handles_before, current.handles(), "the handles it replaces");
        assert_eq!(current.version, expected_version);
        assert_eq!(user.version, expected_version + 1);
        let before: BTreeSet<Identifier> = current.identifiers().into_iter().collect();
        let after: BTreeSet<Identifier> = user.identifiers().into_iter().collect();
        let claimed: BTreeSet<Identifier> = claim.iter().cloned().collect();
        let released: BTreeSet<Identifier> = release.iter().cloned().collect();
        assert_eq!(claimed.len(), claim.len(), "an identifier claimed twice");
        assert_eq!(
            released.len(),
            release.len(),
            "an identifier released twice"
        );
        assert_eq!(
            claimed,
            after.difference(&before).cloned().collect(),
            "claims"
        );
        assert_eq!(
            released,
            before.difference(&after).cloned().collect(),
            "releases"
        );
        *current = user.clone();
        Ok(())
    }

    async fn get_user(&self, _: &AppId, id: UserId) -> Result<Option<User>, StoreError> {
        let current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Ok((current.id == id).then(|| current.clone()))
    }

    async fn delete_user(&self, _: &AppId, _: &User, _: &str, _: u64) -> Result<(), WriteError> {
        Err(unsupported().into())
    }

    async fn list_users(
        &self,
        _: &AppId,
        _: Option<UserId>,
        _: usize,
        _: Option<UserStatus>,
    ) -> Result<(Vec<User>, bool), StoreError> {
        Err(unsupported())
    }

    async fn find_owner(&self, _: &AppId, _: &Identifier) -> Result<Option<UserId>, StoreError> {
        Err(unsupported())
    }

    async fn find_by_handle(
        &self,
        _: &AppId,
        _: &Handle,
        _: Option<UserId>,
        _: usize,
    ) -> Result<Vec<UserId>, StoreError> {
        Err(unsupported())
    }

    async fn get_deleted_user(
        &self,
        _: &AppId,
        _: UserId,
    ) -> Result<Option<DeletedUser>, StoreError> {
        Err(unsupported())
    }

    async fn restore_user(
        &self,
        _: &AppId,
        _: &User,
        _: &[Identifier],
        _: KeysAtRestore<'_>,
        _: u64,
    ) -> Result<(), RestoreConflict> {
        Err(unsupported().into())
    }
}

/// The users patched: one with every profile field set, one with none.
fn users() -> Vec<User> {
    let id = |text: &str| UserId::parse(text).unwrap_or_else(|| panic!("bad id {text}"));
    let mut ready = Wallet::pending(ChainType::Ethereum);
    ready.address = Some("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".into());
    ready.status = shared::model::WalletStatus::Ready;
    let full = User {
        id: id("0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1b"),
        external_id: Some("user-123".into()),
        email: Some("Ada@Example.com".into()),
        username: Some("ada".into()),
        linked_accounts: vec![LinkedAccount {
            account: Account::Phone {
                number: "+14155550123".into(),
            },
            linked_at: None,
        }],
        custom_metadata: json!({"plan": "pro", "nested": {"a": 1}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        wallets: vec![ready, Wallet::pending(ChainType::Solana)],
        status: UserStatus::Disabled,
        disabled_at: Some("2026-11-23T10:00:00.000Z".into()),
        disabled_reason: Some("chargeback".into()),
        onboarding: None,
        users_onboarded: 4,
        created_at: "2026-11-23T10:00:00.000Z".into(),
        updated_at: "2026-11-23T10:00:00.000Z".into(),
        version: 3,
    };
    let empty = User {
        id: id("0196a0b2-1c3d-7e4f-8a5b-6c7d8e9f0a1c"),
        external_id: None,
        email: None,
        username: None,
        linked_accounts: Vec::new(),
        custom_metadata: Map::new(),
        wallets: Vec::new(),
        version: 1,
        ..full.clone()
    };
    vec![full, empty]
}

fn field(user: &User, name: &str) -> Value {
    match name {
        "external_id" => json!(user.external_id),
        "email" => json!(user.email),
        "username" => json!(user.username),
        _ => Value::Object(user.custom_metadata.clone()),
    }
}

fn update(store: &OneUser, app: &AppId, id: &str, patch: &Map<String, Value>) -> Option<User> {
    let outcome = futures::executor::block_on(users::update_user(
        store,
        app,
        id,
        patch,
        Precondition::None,
    ));
    match outcome {
        Ok(user) => Some(user),
        Err(UsersError::Invalid(errors)) => {
            assert!(!errors.is_empty(), "invalid without a reason");
            None
        }
        Err(other) => panic!("unexpected failure: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(body) = shared_fuzz::api_body("/v1/users/x", data) else {
        return;
    };
    let patch = match bodies::parse_patch(&body) {
        Ok(patch) => patch,
        Err(errors) => {
            assert!(!errors.is_empty(), "rejected without a reason: {body}");
            return;
        }
    };
    for key in patch.keys() {
        assert!(bodies::PATCHABLE.contains(&key.as_str()), "{key} patched");
    }
    let Some(app) = AppId::parse("app_0123456789abcdef0123456789abcdef") else {
        panic!("bad app id");
    };
    for before in users() {
        let store = OneUser(Mutex::new(before.clone()));
        let id = before.id.to_string();
        let Some(after) = update(&store, &app, &id, &patch) else {
            continue;
        };
        for name in bodies::PATCHABLE {
            match patch.get(name) {
                None => assert_eq!(field(&after, name), field(&before, name), "{name} moved"),
                Some(Value::Null) if name == "custom_metadata" => {
                    assert!(after.custom_metadata.is_empty())
                }
                Some(Value::Null) => assert_eq!(field(&after, name), Value::Null),
                Some(Value::Object(members)) => {
                    for (key, value) in members {
                        let now = after.custom_metadata.get(key);
                        match value {
                            Value::Null => assert_eq!(now, None, "{key} kept"),
                            Value::Object(_) => assert!(now.is_some_and(Value::is_object)),
                            value => assert_eq!(now, Some(value)),
                        }
                    }
                }
                Some(value) => assert_eq!(&field(&after, name), value, "{name}"),
            }
        }
        assert_eq!(after.id, before.id);
        assert_eq!(after.linked_accounts, before.linked_accounts);
        assert_eq!(after.wallets, before.wallets);
        assert_eq!(after.created_at, before.created_at);
        if after == before {
            assert_eq!(after.version, before.version);
        } else {
            assert_eq!(after.version, before.version + 1);
        }
        let stored = store.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(stored, after);

        let again = update(&store, &app, &id, &patch);
        assert_eq!(again.as_ref(), Some(&after), "the patch is not idempotent");
    }
});
