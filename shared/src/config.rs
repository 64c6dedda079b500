//! Configuration from the environment, and the SDK clients built from it (once per cold start).

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_dynamodb::config::Credentials;

use crate::store::DynamoStore;

/// The variable naming the table.
pub const TABLE_NAME_VAR: &str = "TABLE_NAME";
/// The variable pointing the SDK at DynamoDB Local (unset in AWS).
pub const DYNAMODB_ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";

/// A missing or invalid setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
}

/// Builds the DynamoDB client. With an `endpoint` (DynamoDB Local) it needs no AWS account:
/// dummy credentials and a default region stand in unless the environment gives real ones,
/// so nothing probes instance metadata.
pub async fn dynamodb_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader
            .endpoint_url(endpoint)
            .region(RegionProviderChain::default_provider().or_else("us-east-1"));
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
        }
    }
    aws_sdk_dynamodb::Client::new(&loader.load().await)
}

/// The store named by `TABLE_NAME`, at `DYNAMODB_ENDPOINT` if set.
pub async fn store_from_env() -> Result<DynamoStore, ConfigError> {
    let table = std::env::var(TABLE_NAME_VAR).map_err(|_| ConfigError::Missing(TABLE_NAME_VAR))?;
    let endpoint = std::env::var(DYNAMODB_ENDPOINT_VAR).ok();
    let client = dynamodb_client(endpoint.as_deref()).await;
    Ok(DynamoStore::new(client, table))
}
