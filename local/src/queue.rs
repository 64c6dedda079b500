//! The local stand-in for the SQS delivery queue and its Lambda event source mapping: jobs
//! wait in memory, are offered in batches as Lambda's `SqsEvent` (with `ApproximateReceiveCount`)
//! to the same handler the Lambda runs, stay hidden for the delay the handler asks for, and
//! after the last receive go to a dead-letter list, as the template's redrive policy does.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use shared::domain::webhooks::delivery::DeliveryJob;
use shared::ports::queue::{DeliveryQueue, QueueError};
use tokio::sync::Notify;

/// How long a received message stays hidden when the handler did not say (the queue's
/// visibility timeout in the template).
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_BATCH: usize = 10;

struct Message {
    id: String,
    receipt: String,
    body: String,
    visible_at: Instant,
    receives: u32,
}

#[derive(Default)]
struct State {
    messages: Vec<Message>,
    dead: Vec<String>,
}

/// An in-memory queue with SQS's receive, visibility and redrive semantics.
pub struct LocalQueue {
    state: Mutex<State>,
    wake: Notify,
    max_receives: u32,
}

impl LocalQueue {
    /// A queue whose messages go to the dead-letter list after `max_receives` receives.
    pub fn new(max_receives: u32) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            max_receives,
        }
    }

    /// Up to ten visible messages, hidden for the visibility timeout while in flight.
    fn receive(&self) -> Vec<SqsMessage> {
        let now = Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return Vec::new();
        };
        let mut batch = Vec::new();
        for message in state
            .messages
            .iter_mut()
            .filter(|m| m.visible_at <= now)
            .take(MAX_BATCH)
        {
            message.receives += 1;
            message.receipt = uuid::Uuid::new_v4().to_string();
            message.visible_at = now + VISIBILITY_TIMEOUT;
            let mut sqs = SqsMessage::default();
            sqs.message_id = Some(message.id.clone());
            sqs.receipt_handle = Some(message.receipt.clone());
            sqs.body = Some(message.body.clone());
            sqs.attributes.insert(
                "ApproximateReceiveCount".into(),
                message.receives.to_string(),
            );
            sqs.event_source = Some("aws:sqs".into());
            batch.push(sqs);
        }
        batch
    }

    /// Deletes the batch's messages that did not fail; failed ones stay (hidden as the handler
    /// asked) unless they have had their last receive.
    fn settle(&self, batch: &[SqsMessage], failed: &HashSet<String>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let ids: HashSet<&str> = batch
            .iter()
            .filter_map(|m| m.message_id.as_deref())
            .collect();
        let max_receives = self.max_receives;
        let mut dead = Vec::new();
        state.messages.retain(|message| {
            if !ids.contains(message.id.as_str()) {
                return true;
            }
            if !failed.contains(&message.id) {
                return false;
            }
            if message.receives >= max_receives {
                dead.push(message.body.clone());
                return false;
            }
            true
        });
        for body in dead {
            tracing::error!(job = %body, "delivery job moved to the dead-letter queue");
            state.dead.push(body);
        }
    }

    /// The jobs in the dead-letter list.
    pub fn dead_letters(&self) -> Vec<DeliveryJob> {
        self.state
            .lock()
            .map(|state| {
                state
                    .dead
                    .iter()
                    .filter_map(|body| serde_json::from_str(body).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Jobs waiting or in flight.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.messages.len()).unwrap_or(0)
    }

    /// Whether no job is waiting or in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offers batches to `handler` until the task is dropped: each batch as Lambda would
    /// deliver it, settled by the handler's reported failures.
    pub async fn run<F, Fut>(&self, handler: F)
    where
        F: Fn(SqsEvent) -> Fut,
        Fut: Future<Output = HashSet<String>>,
    {
        loop {
            let batch = self.receive();
            if batch.is_empty() {
                // New jobs wake the worker; delayed ones are polled for.
                let _ = tokio::time::timeout(Duration::from_millis(50), self.wake.notified()).await;
                continue;
            }
            let mut event = SqsEvent::default();
            event.records = batch.clone();
            let failed = handler(event).await;
            self.settle(&batch, &failed);
        }
    }
}

impl DeliveryQueue for LocalQueue {
    async fn enqueue(&self, jobs: &[DeliveryJob]) -> Result<(), QueueError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| QueueError("the local queue is poisoned".into()))?;
        let now = Instant::now();
        for job in jobs {
            state.messages.push(Message {
                id: uuid::Uuid::new_v4().to_string(),
                receipt: String::new(),
                body: serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?,
                visible_at: now,
                receives: 0,
            });
        }
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    async fn retry_after(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| QueueError("the local queue is poisoned".into()))?;
        match state
            .messages
            .iter_mut()
            .find(|m| m.receipt == receipt_handle)
        {
            Some(message) => {
                message.visible_at = Instant::now() + delay;
                Ok(())
            }
            None => Err(QueueError("no message with that receipt handle".into())),
        }
    }
}
