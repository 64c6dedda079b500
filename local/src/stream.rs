//! The local stand-in for Lambda's DynamoDB event source mapping: reads the table's stream
//! through the DynamoDB Streams API (DescribeStream, GetShardIterator, GetRecords), shapes each
//! batch exactly as Lambda's `DynamoDBEvent`, and calls the same handler the Lambda runs,
//! retrying failed records from the first one reported, as the mapping does.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};
use shared::adapters::DynamoStore;

/// How often a batch is retried before it goes to the "on-failure destination" (locally: an
/// error in the log), as the template's `MaximumRetryAttempts`.
pub const MAX_RETRIES: u32 = 5;
const MAX_BATCH: i32 = 100;

/// Reads a table's stream from the start, shard by shard, following new shards as they open.
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    iterators: HashMap<String, String>,
    finished: HashSet<String>,
}

/// A stream failure.
#[derive(Debug, thiserror::Error)]
#[error("reading the stream: {0}")]
pub struct StreamError(String);

fn stream_error<E: std::error::Error>(error: E) -> StreamError {
    StreamError(error.to_string())
}

impl StreamReader {
    /// A reader of `store`'s table stream at `endpoint` (DynamoDB Local).
    pub async fn new(store: &DynamoStore, endpoint: &str) -> Result<Self, StreamError> {
        let described = store
            .client()
            .describe_table()
            .table_name(store.table())
            .send()
            .await
            .map_err(|e| {
                StreamError(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
            })?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| StreamError(format!("table {} has no stream", store.table())))?
            .to_owned();
        let config = shared::config::sdk_config(Some(endpoint)).await;
        Ok(Self {
            client: aws_sdk_dynamodbstreams::Client::new(&config),
            stream_arn,
            iterators: HashMap::new(),
            finished: HashSet::new(),
        })
    }

    /// The next batch of records (at most 100, from one shard), or `None` if none are waiting.
    pub async fn next_batch(&mut self) -> Result<Option<Event>, StreamError> {
        self.discover_shards().await?;
        let shards: Vec<String> = self.iterators.keys().cloned().collect();
        for shard in shards {
            let Some(iterator) = self.iterators.get(&shard).cloned() else {
                continue;
            };
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(MAX_BATCH)
                .send()
                .await
                .map_err(|e| {
                    StreamError(aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e).to_string())
                })?;
            match output.next_shard_iterator {
                Some(next) => {
                    self.iterators.insert(shard.clone(), next);
                }
                None => {
                    self.iterators.remove(&shard);
                    self.finished.insert(shard.clone());
                }
            }
            let records = output.records.unwrap_or_default();
            if !records.is_empty() {
                return Ok(Some(to_lambda_event(&self.stream_arn, &records)?));
            }
        }
        Ok(None)
    }

    async fn discover_shards(&mut self) -> Result<(), StreamError> {
        let described = self
            .client
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(stream_error)?;
        let shards = described
            .stream_description()
            .map(|d| d.shards().to_vec())
            .unwrap_or_default();
        for shard in shards {
            let Some(id) = shard.shard_id() else { continue };
            if self.iterators.contains_key(id) || self.finished.contains(id) {
                continue;
            }
            let iterator = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(stream_error)?;
            if let Some(iterator) = iterator.shard_iterator {
                self.iterators.insert(id.to_owned(), iterator);
            }
        }
        Ok(())
    }
}

/// Runs `handler` on the stream until the task is dropped, as an event source mapping with
/// its own position in the stream: each consumer sees every record once (or more, on retry).
pub async fn run_consumer<F, Fut>(
    store: &DynamoStore,
    endpoint: &str,
    handler: F,
) -> Result<(), StreamError>
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = DynamoDbEventResponse>,
{
    let mut reader = StreamReader::new(store, endpoint).await?;
    loop {
        match reader.next_batch().await {
            Ok(Some(batch)) => deliver(&handler, batch).await,
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(error) => {
                tracing::warn!(%error, "stream read failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Delivers a batch as the event source mapping does: on reported failures, the batch is
/// retried from the first failed record, with back-off, up to [`MAX_RETRIES`] times.
pub async fn deliver<F, Fut>(handler: F, mut batch: Event)
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = DynamoDbEventResponse>,
{
    for attempt in 0..=MAX_RETRIES {
        let response = handler(batch.clone()).await;
        let failed: HashSet<String> = response
            .batch_item_failures
            .into_iter()
            .filter_map(|failure| failure.item_identifier)
            .collect();
        let Some(first) = batch.records.iter().position(|record| {
            record
                .change
                .sequence_number
                .as_ref()
                .is_some_and(|sequence| failed.contains(sequence))
        }) else {
            return;
        };
        batch.records.drain(..first);
        if attempt < MAX_RETRIES {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
    }
    let ids: Vec<&str> = batch.records.iter().map(|r| r.event_id.as_str()).collect();
    tracing::error!(
        ?ids,
        "records exhausted their retries (on-failure destination)"
    );
}

/// Shapes Streams API records as the `Records` of Lambda's DynamoDB event.
pub fn to_lambda_event(stream_arn: &str, records: &[Record]) -> Result<Event, StreamError> {
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            let change = record.dynamodb();
            let image = |image: Option<&HashMap<String, AttributeValue>>| {
                image.map(|image| {
                    Value::Object(
                        image
                            .iter()
                            .map(|(k, v)| (k.clone(), attribute_json(v)))
                            .collect(),
                    )
                })
            };
            let mut dynamodb = Map::new();
            if let Some(change) = change {
                let at = change
                    .approximate_creation_date_time()
                    .map(|t| t.secs())
                    .unwrap_or_default();
                dynamodb.insert("ApproximateCreationDateTime".into(), json!(at));
                for (name, value) in [
                    ("Keys", image(change.keys.as_ref())),
                    ("NewImage", image(change.new_image.as_ref())),
                    ("OldImage", image(change.old_image.as_ref())),
                ] {
                    if let Some(value) = value {
                        dynamodb.insert(name.into(), value);
                    }
                }
                dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number()));
                dynamodb.insert("SizeBytes".into(), json!(change.size_bytes().unwrap_or(0)));
                dynamodb.insert(
                    "StreamViewType".into(),
                    json!(change.stream_view_type().map(|v| v.as_str())),
                );
            }
            json!({
                "eventID": record.event_id(),
                "eventName": record.event_name().map(|n| n.as_str()),
                "eventVersion": record.event_version(),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.aws_region().unwrap_or("us-east-1"),
                "eventSourceARN": stream_arn,
                "dynamodb": dynamodb,
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).map_err(stream_error)
}

/// DynamoDB JSON (`{"S": "…"}`), the encoding of images in Lambda's stream events.
fn attribute_json(value: &AttributeValue) -> Value {
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b.as_ref()) }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(n) => json!({ "NS": n }),
        AttributeValue::Bs(b) => {
            json!({ "BS": b.iter().map(|b| base64(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::M(m) => {
            json!({ "M": m.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect::<Map<_, _>>() })
        }
        AttributeValue::L(l) => json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        _ => Value::Null,
    }
}
