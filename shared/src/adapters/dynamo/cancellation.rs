//! The one reading of a cancelled transaction: DynamoDB gives a reason per item, in the
//! transaction's order. Each aggregate decides what a failed condition at an index means; this
//! module only reads the reasons.

use aws_sdk_dynamodb::types::CancellationReason;

use crate::model::UserId;
use crate::ports::StoreError;

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// Why a transaction was cancelled, item by item.
#[derive(Debug, Clone)]
pub(in crate::adapters) struct Cancellation(Vec<CancellationReason>);

impl Cancellation {
    pub(super) fn new(reasons: Vec<CancellationReason>) -> Self {
        Self(reasons)
    }

    /// Each item's reason code, in the transaction's order (`None` where there was none).
    pub(super) fn codes(&self) -> Vec<Option<&str>> {
        self.0.iter().map(CancellationReason::code).collect()
    }

    /// Whether item `index`'s condition failed.
    pub(super) fn condition_failed(&self, index: usize) -> bool {
        self.0.get(index).and_then(CancellationReason::code) == Some(CONDITION_FAILED)
    }

    /// The items whose conditions failed.
    pub(super) fn failed_conditions(&self) -> Vec<usize> {
        (0..self.0.len())
            .filter(|index| self.condition_failed(*index))
            .collect()
    }

    /// The user that item `index` (a guard whose condition failed) belongs to, as
    /// `ReturnValuesOnConditionCheckFailure` showed it.
    pub(super) fn holder(&self, index: usize) -> Option<UserId> {
        self.0
            .get(index)?
            .item()?
            .get("user_id")?
            .as_s()
            .ok()
            .and_then(|id| UserId::parse(id))
    }

    /// Whether another transaction touched the same items at the same moment: nothing was
    /// written, and a retry gets a definite answer.
    pub(super) fn conflicted(&self) -> bool {
        self.codes().contains(&Some("TransactionConflict"))
    }

    /// Takes off the last item's reason (a trailing item the caller reads on its own), and
    /// whether that item's condition failed.
    pub(super) fn pop_condition_failed(&mut self) -> bool {
        self.0.pop().as_ref().and_then(CancellationReason::code) == Some(CONDITION_FAILED)
    }

    /// A cancellation none of whose reasons the caller handles: throttling is worth a retry,
    /// anything else is a failure.
    pub(super) fn unexplained(&self) -> StoreError {
        let codes: Vec<&str> = self.codes().into_iter().flatten().collect();
        let throttled = codes.iter().any(|code| {
            matches!(
                *code,
                "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
            )
        });
        let detail = format!("transaction cancelled: {codes:?}");
        if throttled {
            StoreError::Unavailable(detail.into())
        } else {
            StoreError::Other(detail.into())
        }
    }
}
