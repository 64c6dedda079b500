//! One behaviour suite, every store: the tests written against [`Backend`] run on DynamoDB
//! Local (the real store) and on the in-memory adapter (a second implementation of the same
//! conditional-write semantics), through [`on_every_store!`](crate::on_every_store).

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::adapters::dynamo::keys;
use shared::adapters::{DynamoStore, MemoryStore};
use shared::model::{AppId, User, UserId};
use shared::ports::access::AccessStore;
use shared::ports::idempotency::IdempotencyStore;
use shared::ports::{AppAdmin, AppStore, UserStore, WalletStore, WebhookStore};

/// A store the behaviour suite runs on: every store port, and a snapshot of what it holds.
pub trait Backend:
    UserStore
    + AccessStore
    + AppStore
    + AppAdmin
    + IdempotencyStore
    + WalletStore
    + WebhookStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// Every item, one line each, sorted. API keys' last-use marks and the apps' request
    /// counters are left out: any authenticated request may refresh the one (once an hour)
    /// and counts in the other, refused or not.
    fn snapshot(&self) -> impl Future<Output = Vec<String>> + Send;

    /// Every user, with its app.
    fn all_users(&self) -> impl Future<Output = Vec<(AppId, User)>> + Send;

    /// Every identifier guard, as its partition key and the user holding it.
    fn all_guards(&self) -> impl Future<Output = Vec<(String, UserId)>> + Send;
}

impl Backend for MemoryStore {
    async fn snapshot(&self) -> Vec<String> {
        MemoryStore::snapshot(self)
    }

    async fn all_users(&self) -> Vec<(AppId, User)> {
        self.users()
    }

    async fn all_guards(&self) -> Vec<(String, UserId)> {
        self.guards()
            .into_iter()
            .map(|(app, identifier, user)| (keys::guard_pk(&app, &identifier), user))
            .collect()
    }
}

impl Backend for DynamoStore {
    async fn snapshot(&self) -> Vec<String> {
        let items = crate::secrets::scan_table(self.client(), self.table())
            .await
            .unwrap();
        let mut lines: Vec<String> = items
            .into_iter()
            .filter(|item| {
                item.get("sk").and_then(|sk| sk.as_s().ok())
                    != Some(&keys::SK_REQUEST_COUNTER.to_owned())
            })
            .map(|mut item| {
                item.remove("last_used_at");
                canonical(&AttributeValue::M(item))
            })
            .collect();
        lines.sort();
        lines
    }

    async fn all_users(&self) -> Vec<(AppId, User)> {
        let mut users = Vec::new();
        for item in self.items_of("USER").await {
            let app = AppId::parse(item["app_id"].as_s().unwrap()).unwrap();
            let id = UserId::parse(item["id"].as_s().unwrap()).unwrap();
            users.push((app.clone(), self.get_user(&app, id).await.unwrap().unwrap()));
        }
        users
    }

    async fn all_guards(&self) -> Vec<(String, UserId)> {
        self.items_of(keys::SK_GUARD)
            .await
            .into_iter()
            .map(|item| {
                let holder = UserId::parse(item["user_id"].as_s().unwrap()).unwrap();
                (item["pk"].as_s().unwrap().clone(), holder)
            })
            .collect()
    }
}

/// An attribute value in one canonical line: maps and sets in sorted order (the SDK keeps
/// them in hash maps and vectors whose order means nothing).
fn canonical(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => {
            let mut fields: Vec<String> = map
                .iter()
                .map(|(name, value)| format!("{name}={}", canonical(value)))
                .collect();
            fields.sort();
            format!("{{{}}}", fields.join(" "))
        }
        AttributeValue::L(list) => {
            let items: Vec<String> = list.iter().map(canonical).collect();
            format!("[{}]", items.join(" "))
        }
        AttributeValue::Ss(set) | AttributeValue::Ns(set) => {
            let mut set = set.clone();
            set.sort();
            format!("{set:?}")
        }
        other => format!("{other:?}"),
    }
}

/// The items of a DynamoDB store with sort key `sk`.
trait ItemsOf {
    fn items_of(&self, sk: &str) -> impl Future<Output = Vec<crate::Item>> + Send;
}

impl ItemsOf for DynamoStore {
    async fn items_of(&self, sk: &str) -> Vec<crate::Item> {
        crate::secrets::scan_table(self.client(), self.table())
            .await
            .unwrap()
            .into_iter()
            .filter(|item| {
                item.get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|s| s == sk)
            })
            .collect()
    }
}

/// Declares each named test, `async fn name<S: Backend>(stack: TestStack<S>)` in the calling
/// module, once per store: `on_memory::name` and `on_dynamodb::name`.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::TestStack::memory().await).await
                }
            )*
        }
        mod on_dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::TestStack::new().await).await
                }
            )*
        }
    };
}
