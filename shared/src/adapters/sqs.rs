//! The delivery queue on SQS.

use std::time::Duration;

use crate::model::webhook::DeliveryJob;
use crate::ports::queue::{DeliveryQueue, QueueError};

/// The variable naming the delivery queue's URL in AWS.
pub const QUEUE_URL_VAR: &str = "WEBHOOK_QUEUE_URL";

/// The SQS FIFO queue.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// The queue named by `WEBHOOK_QUEUE_URL`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, QueueError> {
        let url = std::env::var(QUEUE_URL_VAR)
            .map_err(|_| QueueError(format!("{QUEUE_URL_VAR} is not set")))?;
        Ok(Self::new(aws_sdk_sqs::Client::new(config), url))
    }
}

fn sqs_error<E: std::error::Error + 'static>(error: E) -> QueueError {
    QueueError(aws_sdk_sqs::error::DisplayErrorContext(&error).to_string())
}

impl DeliveryQueue for SqsQueue {
    async fn enqueue(&self, jobs: &[DeliveryJob]) -> Result<(), QueueError> {
        // Ten per call is SQS's limit.
        for chunk in jobs.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (index, job) in chunk.iter().enumerate() {
                let body = serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?;
                entries.push(
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body)
                        .build()
                        .map_err(sqs_error)?,
                );
            }
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(sqs_error)?;
            if !output.failed().is_empty() {
                return Err(QueueError(format!(
                    "{} of {} jobs not enqueued",
                    output.failed().len(),
                    chunk.len()
                )));
            }
        }
        Ok(())
    }

    async fn retry_after(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        // SQS holds a message back for at most 12 hours.
        let seconds = delay.as_secs().min(12 * 3600) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }
}

/// The variable naming the export runs queue's URL in AWS.
pub const EXPORT_QUEUE_URL_VAR: &str = "EXPORT_QUEUE_URL";

/// What a message on the export runs queue asks: run this export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportRun {
    pub app_id: crate::model::AppId,
    pub export_id: String,
}

/// Export runs asked for on an SQS queue (`run-exports` consumes it).
pub struct SqsExportRuns {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsExportRuns {
    /// The queue named by `EXPORT_QUEUE_URL`.
    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, crate::ports::export::ExportFilesError> {
        let url = std::env::var(EXPORT_QUEUE_URL_VAR).map_err(|_| {
            crate::ports::export::ExportFilesError(format!("{EXPORT_QUEUE_URL_VAR} is not set"))
        })?;
        Ok(Self {
            client: aws_sdk_sqs::Client::new(config),
            url,
        })
    }
}

impl crate::ports::export::ExportRuns for SqsExportRuns {
    async fn request_run(
        &self,
        app: &crate::model::AppId,
        id: &str,
    ) -> Result<(), crate::ports::export::ExportFilesError> {
        let body = serde_json::to_string(&ExportRun {
            app_id: app.clone(),
            export_id: id.to_owned(),
        })
        .map_err(|e| crate::ports::export::ExportFilesError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::ports::export::ExportFilesError(sqs_error(e).0))
    }
}
