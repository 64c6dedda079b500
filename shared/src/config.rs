//! Configuration from the environment, and the SDK clients built from it (once per cold start).

use aws_config::BehaviorVersion;
use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_sdk_dynamodb::config::{Credentials, Region};

use crate::adapters::DynamoStore;

/// The variable naming the table.
pub const TABLE_NAME_VAR: &str = "TABLE_NAME";
/// The variable pointing the SDK at DynamoDB Local (unset in AWS).
pub const DYNAMODB_ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";

/// A missing or invalid setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is not valid")]
    Invalid(&'static str),
}

/// Builds the DynamoDB client. With an `endpoint` (DynamoDB Local) it needs no AWS account:
/// dummy credentials and a default region stand in unless the environment gives real ones.
/// The region comes from the environment only: the SDK's default chain would otherwise probe
/// instance metadata (IMDS), a network wait at start-up on every machine that is not EC2.
/// In Lambda, `AWS_REGION` is always set and the credentials come from the environment.
pub async fn dynamodb_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(endpoint).await)
}

/// The SDK configuration [`dynamodb_client`] uses, for other clients of the same endpoint
/// (DynamoDB Streams, locally).
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::tls::sdk_http_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = endpoint {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".to_owned());
        loader = loader.endpoint_url(endpoint).region(Region::new(region));
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
        }
    } else if std::env::var_os(LAMBDA_FUNCTION_VAR).is_some() {
        // Lambda always puts the region and the function's credentials in the environment.
        // Reading only there means no provider chain ever probes profile files, a container
        // endpoint or instance metadata: nothing at start-up or on the first call can wait on
        // the network for credentials.
        loader = loader
            .region(EnvironmentVariableRegionProvider::new())
            .credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// Retries of throttling, 5xx and connection failures: three attempts at most, backing off
/// from 50 ms (DynamoDB's advice) to 1 s, so a call's retries fit well inside an HTTP
/// function's 10 s timeout. Writes are safe to retry: transactions carry a client request
/// token (a retried one that already committed succeeds again, it does not apply twice) and
/// every other write is conditional.
fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(std::time::Duration::from_millis(50))
        .with_max_backoff(std::time::Duration::from_secs(1))
}

/// A connection that does not open in 1 s, or an attempt that takes over 2 s, is given up and
/// retried; a whole call (retries included) ends within 5 s. DynamoDB answers in milliseconds:
/// these bound a sick connection, not a slow store.
fn timeout_config() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(1))
        .operation_attempt_timeout(std::time::Duration::from_secs(2))
        .operation_timeout(std::time::Duration::from_secs(5))
        .build()
}

/// Set by Lambda in every function's environment.
const LAMBDA_FUNCTION_VAR: &str = "AWS_LAMBDA_FUNCTION_NAME";

/// The store named by `TABLE_NAME`, at `DYNAMODB_ENDPOINT` if set.
pub async fn store_from_env() -> Result<DynamoStore, ConfigError> {
    let config = sdk_config_from_env().await;
    store_with(&config).await
}

/// The SDK configuration for this environment: `DYNAMODB_ENDPOINT` if set, else AWS. Load it
/// once per cold start and build every client from it.
pub async fn sdk_config_from_env() -> aws_config::SdkConfig {
    let endpoint = std::env::var(DYNAMODB_ENDPOINT_VAR).ok();
    sdk_config(endpoint.as_deref()).await
}

/// The store named by `TABLE_NAME`, on a loaded SDK configuration, with its connection
/// already open (see [`DynamoStore::warm_up`]).
pub async fn store_with(config: &aws_config::SdkConfig) -> Result<DynamoStore, ConfigError> {
    let table = std::env::var(TABLE_NAME_VAR).map_err(|_| ConfigError::Missing(TABLE_NAME_VAR))?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table)
        .with_rate_limit(app_rate_limit()?);
    store.warm_up().await;
    Ok(store)
}

/// The variable setting how many requests a second each app may make.
pub const APP_RATE_LIMIT_VAR: &str = "APP_RATE_LIMIT_PER_SECOND";

/// The requests a second each app may make (`APP_RATE_LIMIT_PER_SECOND`, default 100).
pub fn app_rate_limit() -> Result<crate::model::rate_limit::RateLimit, ConfigError> {
    match std::env::var(APP_RATE_LIMIT_VAR) {
        Ok(text) => crate::model::rate_limit::RateLimit::parse(&text)
            .ok_or(ConfigError::Invalid(APP_RATE_LIMIT_VAR)),
        Err(_) => Ok(crate::model::rate_limit::RateLimit::DEFAULT),
    }
}

/// The variable setting how many days a deleted user's sealed keys are kept.
pub const RETENTION_DAYS_VAR: &str = "DELETED_USER_RETENTION_DAYS";
/// The default retention of a deleted user's sealed keys.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;

/// How long a deleted user's sealed keys and tombstone are kept (`DELETED_USER_RETENTION_DAYS`,
/// default 30): the window in which the admin CLI can restore the user.
pub fn deleted_user_retention() -> Result<std::time::Duration, ConfigError> {
    let days = match std::env::var(RETENTION_DAYS_VAR) {
        Ok(text) => text
            .parse()
            .map_err(|_| ConfigError::Invalid(RETENTION_DAYS_VAR))?,
        Err(_) => DEFAULT_RETENTION_DAYS,
    };
    Ok(std::time::Duration::from_secs(days * 24 * 60 * 60))
}
