//! Item conversions, transaction items and the classification of SDK failures, shared by
//! every aggregate.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::Item;
use crate::ports::{Fault, StoreError};

pub(super) fn conditional_put(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A put of `item` in a transaction, whatever is there.
pub(super) fn plain_put(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Other(Fault::caused_by("serialising an item", e)))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Corrupt(Fault::caused_by("an item of another shape", e)))
}

pub(super) fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Other(Fault::caused_by("building a DynamoDB request", error))
}

/// The outcome of a conditional write: `true` if written, `false` if its condition failed.
pub(super) fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(error) => Err(classify(error)),
    }
}

/// Sorts an SDK failure into what the caller can do: retry later, or nothing.
pub(super) fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    let what = match &error {
        SdkError::ServiceError(service) => format!(
            "DynamoDB refused the call ({})",
            service.err().code().unwrap_or("no code")
        ),
        SdkError::TimeoutError(_) => "DynamoDB timed out".to_owned(),
        SdkError::DispatchFailure(_) => "DynamoDB could not be reached".to_owned(),
        SdkError::ResponseError(_) => "DynamoDB's answer could not be read".to_owned(),
        _ => "the DynamoDB call failed".to_owned(),
    };
    let fault = Fault::caused_by(what, error);
    if retryable {
        StoreError::Unavailable(fault)
    } else {
        StoreError::Other(fault)
    }
}
