//! An SDK interceptor that watches every DynamoDB call a handler makes: how long the SDK call
//! took, and the capacity units DynamoDB charged (`ReturnConsumedCapacity: TOTAL` is added to
//! each request before signing, and the answer's `ConsumedCapacity` read back). The handler
//! code is the shipped code; only the client it is given differs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use serde_json::Value;

/// What the calls since the last [`Meter::take`] cost.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    /// DynamoDB operations made, by name.
    pub operations: Vec<String>,
    /// Each SDK call's span, from `send()` to its result (retries included).
    pub spans: Vec<(Instant, Instant)>,
    /// Read request units charged (on-demand: what is billed).
    pub read_units: f64,
    /// Write request units charged.
    pub write_units: f64,
}

impl Usage {
    /// The wall-clock time at least one SDK call was in flight: calls made concurrently (a
    /// page queries every listing shard at once) count once.
    pub fn sdk_time(&self) -> Duration {
        let mut spans = self.spans.clone();
        spans.sort();
        let (mut total, mut covered_to) = (Duration::ZERO, None::<Instant>);
        for (start, end) in spans {
            let start = covered_to.map_or(start, |to| start.max(to));
            if end > start {
                total += end - start;
                covered_to = Some(end);
            }
        }
        total
    }
}

/// The interceptor; clone it into a client's config and keep a clone to read.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    usage: Arc<Mutex<Usage>>,
}

impl Meter {
    /// Everything recorded since the last call, and a fresh start.
    pub fn take(&self) -> Usage {
        std::mem::take(&mut *self.usage.lock().unwrap())
    }

    /// A DynamoDB client on `config` with this meter installed.
    pub fn client(&self, config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(self.clone())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone)]
struct Operation(String);

impl Storable for Operation {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "bench::Meter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|target| target.split_once('.'))
            .map(|(_, operation)| operation.to_owned())
            .unwrap_or_default();
        let Some(body) = request.body().bytes() else {
            return Ok(());
        };
        let mut json: Value = serde_json::from_slice(body)?;
        if takes_capacity(&operation)
            && let Some(object) = json.as_object_mut()
        {
            object.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
            let body = serde_json::to_vec(&json)?;
            request
                .headers_mut()
                .insert("content-length", body.len().to_string());
            *request.body_mut() = SdkBody::from(body);
        }
        cfg.interceptor_state().store_put(Operation(operation));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let ended = Instant::now();
        let started = cfg.load::<Started>().map_or(ended, |started| started.0);
        let operation = cfg
            .load::<Operation>()
            .map(|operation| operation.0.clone())
            .unwrap_or_default();
        let consumed = context
            .response()
            .and_then(|response| response.body().bytes())
            .and_then(|body| serde_json::from_slice::<Value>(body).ok())
            .map(|answer| answer["ConsumedCapacity"].clone())
            .unwrap_or(Value::Null);
        let mut usage = self.usage.lock().unwrap();
        usage.spans.push((started, ended));
        for table in consumed.as_array().cloned().unwrap_or(vec![consumed]) {
            let units = table["CapacityUnits"].as_f64().unwrap_or(0.0);
            if is_write(&operation) {
                usage.write_units += units;
            } else {
                usage.read_units += units;
            }
        }
        usage.operations.push(operation);
        Ok(())
    }
}

fn takes_capacity(operation: &str) -> bool {
    matches!(
        operation,
        "GetItem"
            | "PutItem"
            | "UpdateItem"
            | "DeleteItem"
            | "Query"
            | "Scan"
            | "BatchGetItem"
            | "BatchWriteItem"
            | "TransactGetItems"
            | "TransactWriteItems"
    )
}

fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems"
    )
}
