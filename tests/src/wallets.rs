//! Wallet test doubles that are not the store: key services and publishers, plus log capture,
//! and the stream pipeline (wallet creator and event publisher) driven batch by batch.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use local_api::queue::LocalQueue;
use local_api::stream::{StreamReader, deliver};
use shared::adapters::sealer::LocalSealer;
use shared::domain::events::{Event, EventType};
use shared::domain::wallets::seal::{self, DataKey, KeyContext, KeySealer, SealError};
use shared::model::{AppId, ChainType, UserId};
use shared::ports::WalletStore;
use shared::ports::publisher::{EventPublisher, PublishError};
use zeroize::Zeroizing;

/// A local sealer with a fresh random key-encryption key.
/// The sealer every [`crate::TestStack`] issues its keys' client secrets with (and its local
/// services open them with): one fixed dev key-encryption key, as a local stack has one.
pub fn stack_sealer() -> LocalSealer {
    LocalSealer::from_hex(&"5e".repeat(32)).unwrap()
}

/// A sealer with a fresh random key-encryption key.
pub fn test_sealer() -> LocalSealer {
    let mut kek = [0u8; 32];
    getrandom::fill(&mut kek).unwrap();
    LocalSealer::from_hex(&hex::encode(kek)).unwrap()
}

/// The private key of a user's wallet, opened from its sealed form with `sealer`.
pub async fn opened_key<K: KeySealer>(
    stack: &crate::TestStack,
    sealer: &K,
    app: &AppId,
    user: UserId,
    chain: ChainType,
) -> Zeroizing<Vec<u8>> {
    let sealed = stack
        .store
        .get_sealed_key(app, user, chain)
        .await
        .unwrap()
        .unwrap();
    seal::open(
        sealer,
        &sealed,
        &seal::associated_data(app, user, chain),
        &seal::KeyContext::wallet(app, user),
    )
    .await
    .unwrap()
}

/// A key service that is down: every data key request fails.
pub struct FailingSealer;

impl KeySealer for FailingSealer {
    async fn data_key(&self, _: &KeyContext) -> Result<DataKey, SealError> {
        Err(SealError::KeyService(
            "the key service is down (test)".into(),
        ))
    }

    async fn open_data_key(
        &self,
        _: &[u8],
        _: &KeyContext,
    ) -> Result<Zeroizing<[u8; 32]>, SealError> {
        Err(SealError::KeyService(
            "the key service is down (test)".into(),
        ))
    }
}

/// Records every published event.
#[derive(Default)]
pub struct RecordingPublisher {
    pub events: Mutex<Vec<Event>>,
}

impl RecordingPublisher {
    /// The published events of `kind`, in order.
    pub fn of_type(&self, kind: EventType) -> Vec<Event> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|e| e.event_type == kind)
            .cloned()
            .collect()
    }
}

impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        self.events.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// The table's stream feeding the wallet creator and the event publisher, batch by batch, as
/// their event source mappings would (each gets every batch, with the mapping's retries).
pub struct Pipeline {
    pub reader: StreamReader,
    pub publisher: RecordingPublisher,
    /// Where the event publisher queues webhook deliveries (nothing delivers from it here).
    pub queue: LocalQueue,
}

impl Pipeline {
    /// A pipeline reading `stack`'s stream from its start.
    pub async fn new(stack: &crate::TestStack) -> Self {
        Self {
            reader: StreamReader::new(&stack.store, &crate::endpoint())
                .await
                .unwrap(),
            publisher: RecordingPublisher::default(),
            queue: LocalQueue::new(7),
        }
    }

    /// Delivers every waiting batch, including those the deliveries cause, with the wallet
    /// creator sealing under `sealer`, and returns them.
    pub async fn drain<K: KeySealer>(
        &mut self,
        stack: &crate::TestStack,
        sealer: &K,
    ) -> Vec<StreamEvent> {
        let mut batches = Vec::new();
        while let Some(batch) = self.reader.next_batch().await.unwrap() {
            let store = &stack.store;
            deliver(|b| create_wallets::handle(store, sealer, b), batch.clone()).await;
            let (publisher, queue) = (&self.publisher, &self.queue);
            deliver(
                |b| publish_events::handle(store, publisher, queue, b),
                batch.clone(),
            )
            .await;
            batches.push(batch);
        }
        batches
    }
}

/// Captures every log line written on this thread while the guard lives (the tests' tokio
/// runtime is single-threaded, so that is every line the code under test writes).
pub struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Starts capturing, at every level. The lines still go to `$TEST_LOG_DIR` as well, for
    /// the scan after the suite.
    pub fn start() -> Self {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = SharedWriter(Arc::clone(&buffer));
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone())
                    .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
            )
            .with(crate::captured_log_layer());
        Self {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

/// The ways a private key could be written out: hex (both cases), base64 and base58. A scan
/// for leaked keys looks for each.
pub fn spellings(key: &[u8]) -> Vec<String> {
    use base64::Engine;
    let hex = hex::encode(key);
    vec![
        hex.clone(),
        hex.to_uppercase(),
        base64::engine::general_purpose::STANDARD.encode(key),
        bs58::encode(key).into_string(),
    ]
}
