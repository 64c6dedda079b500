//! The table definition, for local runs and tests. `template.yaml` declares the same table.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};

use super::keys::{GSI1_PK, GSI1_SK, PK, SK, TTL_ATTRIBUTE, USERS_BY_APP_INDEX};
use crate::ports::StoreError;

/// Creates the table (keys, the users-by-app index, on-demand billing, a stream of new and old
/// images, TTL) unless it exists, and waits until it is active.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let schema_error =
        |e: aws_sdk_dynamodb::error::BuildError| StoreError::Other(e.to_string().into());
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash).map_err(schema_error)?)
        .key_schema(key(SK, KeyType::Range).map_err(schema_error)?)
        .attribute_definitions(attribute(PK).map_err(schema_error)?)
        .attribute_definitions(attribute(SK).map_err(schema_error)?)
        .attribute_definitions(attribute(GSI1_PK).map_err(schema_error)?)
        .attribute_definitions(attribute(GSI1_SK).map_err(schema_error)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(USERS_BY_APP_INDEX)
                .key_schema(key(GSI1_PK, KeyType::Hash).map_err(schema_error)?)
                .key_schema(key(GSI1_SK, KeyType::Range).map_err(schema_error)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(schema_error)?,
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(schema_error)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error) if error.code() == Some("ResourceInUseException") => {}
        Err(error) => {
            return Err(StoreError::Other(
                DisplayErrorContext(&error).to_string().into(),
            ));
        }
    }
    for _ in 0..100 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| StoreError::Other(DisplayErrorContext(&e).to_string().into()))?;
        let status = described.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return enable_ttl(client, table).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(StoreError::Unavailable(
        format!("table {table} did not become active").into(),
    ))
}

/// Lets DynamoDB delete expired items (idempotency keys) by their `ttl` attribute. Expiry is
/// also enforced in conditions, since TTL deletion can lag by days.
async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let specification = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .map_err(|e| StoreError::Other(e.to_string().into()))?;
    let result = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        // Enabling it twice is refused; it is on either way.
        Err(error) if error.code() == Some("ValidationException") => Ok(()),
        Err(error) => Err(StoreError::Other(
            DisplayErrorContext(&error).to_string().into(),
        )),
    }
}
