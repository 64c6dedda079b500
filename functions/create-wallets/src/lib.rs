//! The wallet creator: consumes the table's stream and creates the wallets that became
//! pending (their events come from `publish-events`). Reports partial batch failures
//! (`ReportBatchItemFailures`) so one bad record neither blocks nor re-runs the others.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::domain::wallets::KeySealer;
use shared::domain::wallets::provision;
use shared::ports::WalletStore;
use shared::ports::access::AccessStore;

/// Handles one batch of stream records.
pub async fn handle<S, K>(store: &S, sealer: &K, event: Event) -> DynamoDbEventResponse
where
    S: WalletStore + AccessStore,
    K: KeySealer,
{
    shared::adapters::dynamo::stream::batch_response(
        provision::process_batch(
            store,
            sealer,
            &shared::adapters::dynamo::stream::records(&event),
        )
        .await,
    )
}
