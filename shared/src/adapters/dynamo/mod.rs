//! The DynamoDB implementation of the store traits, plus the admin operations the CLI uses,
//! one module per aggregate.

mod access;
mod apps;
mod cancellation;
mod exports;
mod idempotency;
pub mod keys;
pub mod migrate;
mod reindex;
mod restore;
pub mod schema;
pub(super) mod sdk;
pub(crate) mod signing;
pub mod stream;
mod users;
mod wallets;
mod webhooks;

use cancellation::Cancellation;
use sdk::classify;
pub use users::user_from_image;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use crate::model::rate_limit::RateLimit;
use crate::ports::StoreError;
use keys::{PK, SK};

pub(super) type Item = HashMap<String, AttributeValue>;

/// How long init may spend opening the connection before leaving it to the first call.
const WARM_UP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// The store on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    pub(super) rate_limit: RateLimit,
}

impl DynamoStore {
    /// A store on `table` through `client`, limiting each app to the default rate.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            rate_limit: RateLimit::DEFAULT,
        }
    }

    /// This store, limiting each app to `limit`.
    pub fn with_rate_limit(self, limit: RateLimit) -> Self {
        Self {
            rate_limit: limit,
            ..self
        }
    }

    /// Opens the connection to DynamoDB (DNS, TCP, TLS, credentials) with one read of a key
    /// that never exists, so the first request after a cold start does not pay for it: a
    /// published Rust Lambda measurement had its first call at ~900 ms without this and ~21 ms
    /// with it. Runs during init, which Lambda gives full CPU. Best effort and bounded: a
    /// failure (no access, store down) is logged and left to the first real call.
    pub async fn warm_up(&self) {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(keys::WARM_UP_PK.to_owned()))
            .key(SK, AttributeValue::S(keys::WARM_UP_PK.to_owned()))
            .send();
        match tokio::time::timeout(WARM_UP_DEADLINE, read).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %DisplayErrorContext(&error), "warm-up read failed")
            }
            Err(_) => tracing::warn!("warm-up read timed out"),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client, for table administration.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(super) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(pk))
            .key(SK, AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// Puts `item`, which must be new (no item with its key): the record of something that
    /// happened once (an app, a signature, a key export).
    pub(super) async fn put_new(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Sends a transaction (with a token, so the SDK's own retries of it are idempotent: a
    /// first attempt that committed but lost its response is reported as committed). `None`
    /// if it committed; each item's cancellation reason if it was cancelled.
    pub(super) async fn send_transaction(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Cancellation>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(uuid::Uuid::new_v4().to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Ok(Some(
                    Cancellation::new(cancelled.cancellation_reasons().to_vec()),
                )),
                _ => Err(classify(error)),
            },
        }
    }
}
