//! The wallet creator: consumes the table's stream and creates the wallets that became
//! pending (their events come from `publish-events`). Reports partial batch failures
//! (`ReportBatchItemFailures`) so one bad record neither blocks nor re-runs the others.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::ports::WalletStore;
use shared::wallets::KeySealer;
use shared::wallets::provision;

/// Handles one batch of stream records.
pub async fn handle<S, K>(store: &S, sealer: &K, event: Event) -> DynamoDbEventResponse
where
    S: WalletStore,
    K: KeySealer,
{
    shared::adapters::dynamo::stream::batch_response(
        provision::process_batch(store, sealer, &event).await,
    )
}
