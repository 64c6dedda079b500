//! Webhooks end to end against DynamoDB Local: endpoints registered through the handler, users
//! changed through the API, the table's real stream feeding the event publisher, the delivery
//! queue feeding deliveries to a receiver on loopback, and signatures checked with both our
//! verifier and the reference `standardwebhooks` library.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use api_tests::receiver::{Answer, Receiver, reference_verifies};
use api_tests::wallets::{Pipeline, test_sealer};
use api_tests::{TestStack, parts, request};
use local_api::{LOCAL_DESTINATIONS, Services, workers};
use serde_json::{Value, json};
use shared::adapters::http_sender::Sender;
use shared::domain::events::EventType;
use shared::domain::webhooks::delivery::{self, DeliveryJob, RetrySchedule, SecretOpener, Verdict};
use shared::domain::webhooks::destination::DestinationPolicy;
use shared::domain::webhooks::signature::{self, SigningSecret};

/// A local stack on its own table: the wallet creator, the event publisher and deliveries
/// running as `local-api` runs them, with `schedule` and attempts timing out after `timeout`.
struct Local {
    stack: TestStack,
    services: Services,
}

impl Local {
    async fn start(schedule: RetrySchedule, timeout: Duration) -> Self {
        let stack = TestStack::new().await;
        let services = stack.services(schedule.attempts());
        let endpoint = api_tests::endpoint();
        tokio::spawn(workers::run_wallet_creator(
            services.clone(),
            endpoint.clone(),
            test_sealer(),
        ));
        tokio::spawn(workers::run_event_publisher(services.clone(), endpoint));
        let sender = Sender::with_timeout(LOCAL_DESTINATIONS, timeout).unwrap();
        tokio::spawn(workers::run_deliveries(services.clone(), sender, schedule));
        Self { stack, services }
    }

    async fn call(&self, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        call(
            &self.stack,
            &self.services,
            LOCAL_DESTINATIONS,
            key,
            method,
            path,
            body,
        )
        .await
    }

    /// Registers `url` for `events`; returns the endpoint id and its secret.
    async fn register(&self, url: &str, events: &[&str]) -> (String, String) {
        let (status, body) = self
            .call(
                &self.stack.api_key,
                "POST",
                "/v1/webhooks",
                Some(json!({"url": url, "events": events})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let data = &body["data"];
        (
            data["id"].as_str().unwrap().to_owned(),
            data["secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn create_user(&self, body: Value) -> Value {
        let request = request("POST", "/v1/users", &self.stack.api_key, Some(&body));
        let (status, body) = parts(&create_user::handle(&self.stack.store, request).await);
        assert_eq!(status, 201, "{body}");
        body["data"].clone()
    }

    async fn deliveries(&self, endpoint: &str) -> Vec<Value> {
        let path = format!("/v1/webhooks/{endpoint}/deliveries");
        let (status, body) = self.call(&self.stack.api_key, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}");
        body["data"]["deliveries"].as_array().unwrap().clone()
    }
}

async fn call(
    stack: &TestStack,
    services: &Services,
    policy: DestinationPolicy,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy,
    };
    parts(&webhooks::handle(&context, request(method, path, key, body.as_ref())).await)
}

fn quick_retries(attempts: usize) -> RetrySchedule {
    RetrySchedule::new(vec![Duration::from_millis(100); attempts - 1])
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn a_registered_url_gets_user_created_then_wallet_created_signed() {
    let local = Local::start(RetrySchedule::default(), Duration::from_secs(5)).await;
    let receiver = Receiver::start(vec![]).await;
    let (endpoint, secret) = local
        .register(&receiver.url, &["user.created", "user.wallet_created"])
        .await;
    assert!(secret.starts_with("whsec_"));

    let created_at = Instant::now();
    let user = local
        .create_user(json!({"email": "hook@example.com"}))
        .await;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    println!(
        "commit -> receiver (local): user.created {} ms, user.wallet_created {} ms",
        (received[0].at - created_at).as_millis(),
        (received[1].at - created_at).as_millis()
    );
    let types: Vec<Value> = received.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(types, ["user.created", "user.wallet_created"]);
    let created = received[0].json();
    assert_eq!(created["data"]["id"], user["id"]);
    assert_eq!(created["data"]["email"], "hook@example.com");
    assert_eq!(created["app_id"], local.stack.app.as_str());
    let wallet = received[1].json();
    assert_eq!(wallet["data"]["user_id"], user["id"]);
    assert!(wallet["data"]["wallet"]["address"].is_string());

    let key = SigningSecret::parse(&secret).unwrap();
    for message in &received {
        assert_eq!(message.id, message.json()["id"].as_str().unwrap());
        assert!(
            reference_verifies(&secret, message),
            "reference refused {message:?}"
        );
        let ours = signature::verify(
            &key,
            &message.id,
            &message.timestamp,
            &message.signature,
            message.body.as_bytes(),
            now(),
        );
        assert_eq!(ours, Ok(()));
    }
    // Any alteration fails, for the reference verifier and ours alike.
    let original = received[0].clone();
    let altered = [
        api_tests::receiver::Received {
            body: original
                .body
                .replace("hook@example.com", "evil@example.com"),
            ..original.clone()
        },
        api_tests::receiver::Received {
            timestamp: (original.timestamp.parse::<i64>().unwrap() - 1).to_string(),
            ..original.clone()
        },
    ];
    for message in &altered {
        assert!(!reference_verifies(&secret, message));
        assert!(
            signature::verify(
                &key,
                &message.id,
                &message.timestamp,
                &message.signature,
                message.body.as_bytes(),
                now()
            )
            .is_err()
        );
    }
    let other = SigningSecret::generate().unwrap().reveal().to_string();
    assert!(!reference_verifies(&other, &original));

    let attempts = local.deliveries(&endpoint).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for attempt in &attempts {
        assert_eq!(attempt["outcome"], "delivered");
        assert_eq!(attempt["status_code"], 200);
        assert_eq!(attempt["attempt"], 1);
    }
    // The secret is shown once: the endpoint as listed carries none.
    let (_, listed) = local
        .call(&local.stack.api_key, "GET", "/v1/webhooks", None)
        .await;
    assert_eq!(listed["data"]["endpoints"][0]["id"], endpoint.as_str());
    assert!(!listed.to_string().contains(&secret[6..]));
    assert!(!format!("{:?}", local.stack.items().await).contains(&secret[6..]));
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_once_after_three_attempts() {
    let local = Local::start(quick_retries(7), Duration::from_secs(5)).await;
    let receiver = Receiver::start(vec![Answer::Status(500), Answer::Status(503)]).await;
    let (endpoint, _) = local.register(&receiver.url, &["user.created"]).await;
    local.create_user(json!({"wallets": []})).await;

    let received = receiver.wait_for(3, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received_after = receiver.received();
    assert_eq!(
        received_after.len(),
        3,
        "exactly three attempts: {received_after:?}"
    );
    assert!(
        received.iter().all(|r| r.id == received[0].id),
        "one event id"
    );

    let attempts = local.deliveries(&endpoint).await;
    let summary: Vec<(u64, Value, Value)> = attempts
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["status_code"].clone(),
                a["outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (3, json!(200), json!("delivered")),
            (2, json!(503), json!("retrying")),
            (1, json!(500), json!("retrying")),
        ]
    );
    assert!(attempts[1]["next_retry_at"].is_string());
    assert!(local.services.queue.is_empty());
}

#[tokio::test]
async fn hanging_slow_and_gone_receivers() {
    let local = Local::start(quick_retries(3), Duration::from_millis(400)).await;
    let hanging = Receiver::start(vec![Answer::Hang; 3]).await;
    let slow = Receiver::start(vec![Answer::Slow(Duration::from_millis(100), 200)]).await;
    let gone = Receiver::start(vec![Answer::Status(410)]).await;
    let (hanging_id, _) = local.register(&hanging.url, &["user.created"]).await;
    let (slow_id, _) = local.register(&slow.url, &["user.created"]).await;
    let (gone_id, _) = local.register(&gone.url, &["user.created"]).await;
    local.create_user(json!({"wallets": []})).await;

    assert_eq!(hanging.wait_for(3, Duration::from_secs(30)).await.len(), 3);
    let deadline = Instant::now() + Duration::from_secs(10);
    while local.services.queue.dead_letters().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = local.services.queue.dead_letters();
    assert_eq!(
        dead.len(),
        1,
        "the hanging endpoint's job is dead-lettered: {dead:?}"
    );
    assert_eq!(dead[0].endpoint_id, hanging_id);
    let attempts = local.deliveries(&hanging_id).await;
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a["error"] == "timeout" && a["status_code"].is_null())
    );
    assert_eq!(attempts[0]["outcome"], "exhausted");

    assert_eq!(slow.received().len(), 1);
    assert_eq!(local.deliveries(&slow_id).await[0]["outcome"], "delivered");

    assert_eq!(gone.received().len(), 1);
    assert_eq!(local.deliveries(&gone_id).await[0]["outcome"], "disabled");
    let (_, listed) = local
        .call(&local.stack.api_key, "GET", "/v1/webhooks", None)
        .await;
    let gone_view = listed["data"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == gone_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(gone_view["status"], "disabled", "{gone_view}");

    // The next event reaches the live endpoint but not the disabled one.
    local.create_user(json!({"wallets": []})).await;
    assert_eq!(slow.wait_for(2, Duration::from_secs(30)).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gone.received().len(), 1);
}

#[tokio::test]
async fn deployed_mode_refuses_internal_destinations_at_registration_and_delivery() {
    let stack = TestStack::new().await;
    let services = stack.services(7);
    let deployed = DestinationPolicy::default();
    for url in [
        "https://127.0.0.1/hooks",
        "http://127.0.0.1:8080/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://8.8.8.8:8443/hooks",
    ] {
        let (status, body) = call(
            &stack,
            &services,
            deployed,
            &stack.api_key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": url, "events": ["user.created"]})),
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "url", "{body}");
    }
    assert!(stack.items_with_sk("WEBHOOK#").await.is_empty());

    // Registered while local (loopback allowed), delivered by a deployed-mode sender: refused
    // at delivery, nothing sent.
    let receiver = Receiver::start(vec![]).await;
    let (status, body) = call(
        &stack,
        &services,
        LOCAL_DESTINATIONS,
        &stack.api_key,
        "POST",
        "/v1/webhooks",
        Some(json!({"url": receiver.url, "events": ["user.created"]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let endpoint_id = body["data"]["id"].as_str().unwrap().to_owned();
    let mut pipeline = Pipeline::new(&stack).await;
    let create = request(
        "POST",
        "/v1/users",
        &stack.api_key,
        Some(&json!({"wallets": []})),
    );
    let (_, user) = parts(&create_user::handle(&stack.store, create).await);
    pipeline.drain(&stack, &test_sealer()).await;
    let event = pipeline.publisher.of_type(EventType::UserCreated)[0].clone();
    let job = DeliveryJob {
        app_id: stack.app.clone(),
        event_id: event.id.clone(),
        endpoint_id: endpoint_id.clone(),
        user_id: shared::model::UserId::parse(user["data"]["id"].as_str().unwrap()),
        redelivery: None,
    };
    let opener = SecretOpener::new(services.sealer.clone());
    let sender = Sender::new(deployed).unwrap();
    let verdict = delivery::deliver(&stack.store, &opener, &sender, &quick_retries(2), &job, 1)
        .await
        .unwrap();
    assert!(matches!(verdict, Verdict::RetryAfter(_)));
    assert!(receiver.received().is_empty());
    let (_, attempts) = call(
        &stack,
        &services,
        deployed,
        &stack.api_key,
        "GET",
        &format!("/v1/webhooks/{endpoint_id}/deliveries"),
        None,
    )
    .await;
    assert_eq!(
        attempts["data"]["deliveries"][0]["error"],
        "destination_refused"
    );
}

#[tokio::test]
async fn one_event_per_committed_change_in_order_and_none_for_rejected_requests() {
    let stack = TestStack::new().await;
    let sealer = test_sealer();
    let mut pipeline = Pipeline::new(&stack).await;
    let key = stack.api_key.clone();
    let send = |response: lambda_http::Response<lambda_http::Body>| parts(&response);

    let body = json!({"email": "order@example.com", "wallets": []});
    let (status, user) = send(
        create_user::handle(
            &stack.store,
            request("POST", "/v1/users", &key, Some(&body)),
        )
        .await,
    );
    assert_eq!(status, 201);
    let id = user["data"]["id"].as_str().unwrap().to_owned();
    pipeline.drain(&stack, &sealer).await;
    // Rejected: the email is taken. No event.
    let (status, _) = send(
        create_user::handle(
            &stack.store,
            request("POST", "/v1/users", &key, Some(&body)),
        )
        .await,
    );
    assert_eq!(status, 409);
    pipeline.drain(&stack, &sealer).await;
    let patch = json!({"username": "ordered"});
    let (status, _) = send(
        update_user::handle(
            &stack.store,
            request("PATCH", &format!("/v1/users/{id}"), &key, Some(&patch)),
        )
        .await,
    );
    assert_eq!(status, 200);
    // Rejected: invalid patch. No event.
    let bad = json!({"username": 7});
    let (status, _) = send(
        update_user::handle(
            &stack.store,
            request("PATCH", &format!("/v1/users/{id}"), &key, Some(&bad)),
        )
        .await,
    );
    assert_eq!(status, 400);
    let link = json!({"type": "github", "subject": "42"});
    let (status, _) = send(
        link_account::handle(
            &stack.store,
            request(
                "POST",
                &format!("/v1/users/{id}/linked-accounts"),
                &key,
                Some(&link),
            ),
        )
        .await,
    );
    assert_eq!(status, 201);
    pipeline.drain(&stack, &sealer).await;
    let wallet = json!({"chain_type": "solana"});
    let (status, _) = send(
        add_wallet::handle(
            &stack.store,
            request(
                "POST",
                &format!("/v1/users/{id}/wallets"),
                &key,
                Some(&wallet),
            ),
        )
        .await,
    );
    assert_eq!(status, 202);
    pipeline.drain(&stack, &sealer).await;
    for (action, body) in [
        ("disable", Some(json!({"reason": "fraud"}))),
        ("enable", None),
    ] {
        let path = format!("/v1/users/{id}/{action}");
        let change = request("POST", &path, &key, body.as_ref());
        let (status, _) = send(update_user::handle(&stack.store, change).await);
        assert_eq!(status, 200);
        pipeline.drain(&stack, &sealer).await;
    }
    let delete = request("DELETE", &format!("/v1/users/{id}"), &key, None);
    let status = delete_user::handle(&stack.store, Duration::from_secs(86400), delete)
        .await
        .status();
    assert_eq!(status, 204);
    pipeline.drain(&stack, &sealer).await;

    let events = pipeline.publisher.events.lock().unwrap().clone();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "user.created",
            "user.updated",
            "user.updated",
            "user.updated",
            "user.wallet_created",
            "user.disabled",
            "user.enabled",
            "user.deleted"
        ]
    );
    let versions: Vec<u64> = events
        .iter()
        .map(|e| e.data["version"].as_u64().unwrap())
        .collect();
    // Each change bumps the version; `user.deleted` shows the user as it last was.
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 7]);
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "ids are distinct");
    // Every event was kept for redelivery, once.
    assert_eq!(stack.items_with_prefix_pk("EVENT#").await, events.len());
}

#[tokio::test]
async fn the_same_stream_record_twice_makes_one_event_and_one_delivery() {
    let local = Local::start(quick_retries(3), Duration::from_secs(5)).await;
    let receiver = Receiver::start(vec![]).await;
    local.register(&receiver.url, &["user.created"]).await;
    // A second publisher on the same stream, standing in for a retried batch: every record is
    // published twice.
    let (store, queue) = (local.stack.store.clone(), local.services.queue.clone());
    let endpoint = api_tests::endpoint();
    tokio::spawn(async move {
        local_api::stream::run_consumer(&store, &endpoint, |batch| {
            publish_events::handle(
                &store,
                &shared::adapters::eventbridge::LogPublisher,
                queue.as_ref(),
                batch,
            )
        })
        .await
    });
    local.create_user(json!({"wallets": []})).await;
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1, "{received:?}");
    // The user's event and the endpoint's registration (`webhook_endpoint.created`), once each.
    assert_eq!(local.stack.items_with_prefix_pk("EVENT#").await, 2);
}

/// The race the delivery lease exists for: every record published by four publishers (four
/// jobs per event), the jobs taken by four delivery workers at once. Each event must reach the
/// receiver exactly once.
#[tokio::test]
async fn racing_publishers_and_delivery_workers_deliver_each_event_once() {
    const USERS: usize = 100;
    const WORKERS: usize = 4;
    let local = Local::start(quick_retries(3), Duration::from_secs(2)).await;
    let receiver = Receiver::start(vec![]).await;
    local.register(&receiver.url, &["user.created"]).await;
    let endpoint = api_tests::endpoint();
    for _ in 1..WORKERS {
        tokio::spawn(workers::run_event_publisher(
            local.services.clone(),
            endpoint.clone(),
        ));
        let sender = Sender::with_timeout(LOCAL_DESTINATIONS, Duration::from_secs(2)).unwrap();
        tokio::spawn(workers::run_deliveries(
            local.services.clone(),
            sender,
            quick_retries(3),
        ));
    }
    let mut created = std::collections::HashSet::new();
    for _ in 0..USERS / 10 {
        let batch = (0..10).map(|_| local.create_user(json!({"wallets": []})));
        for user in futures::future::join_all(batch).await {
            created.insert(user["id"].as_str().unwrap().to_owned());
        }
    }
    receiver.wait_for(USERS, Duration::from_secs(60)).await;
    // Every duplicate job has been looked at (and let go) once the queue stays empty; a
    // lagging publisher's late jobs would refill it within the pause.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut empty_checks = 0;
    while empty_checks < 2 && Instant::now() < deadline {
        match local.services.queue.is_empty() {
            true => empty_checks += 1,
            false => empty_checks = 0,
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    assert!(local.services.queue.is_empty(), "jobs left in the queue");
    assert_eq!(local.services.queue.dead_letters(), vec![]);

    let received = receiver.received();
    let mut event_ids = std::collections::HashSet::new();
    let mut users = std::collections::HashSet::new();
    for delivery in &received {
        let event = delivery.json();
        assert_eq!(event["type"], "user.created");
        assert!(
            event_ids.insert(delivery.id.clone()),
            "{} sent twice",
            delivery.id
        );
        users.insert(event["data"]["id"].as_str().unwrap().to_owned());
    }
    println!(
        "{} users, {} deliveries, {} distinct events",
        created.len(),
        received.len(),
        event_ids.len()
    );
    assert_eq!(received.len(), USERS);
    assert_eq!(users, created);
}

#[tokio::test]
async fn endpoints_are_tenant_isolated_limited_and_rotation_signs_with_both_secrets() {
    let local = Local::start(quick_retries(3), Duration::from_secs(5)).await;
    // The first delivery succeeds; the redelivery fails once, then succeeds.
    let receiver = Receiver::start(vec![Answer::Status(200), Answer::Status(500)]).await;
    let (endpoint, old_secret) = local.register(&receiver.url, &["user.created"]).await;
    local.create_user(json!({"wallets": []})).await;
    let first = receiver.wait_for(1, Duration::from_secs(30)).await[0].clone();
    let event_id = first.id.clone();

    let (_, other_key) = local.stack.other_app().await;
    let (_, listed) = local.call(&other_key, "GET", "/v1/webhooks", None).await;
    assert_eq!(listed["data"]["endpoints"], json!([]));
    for (method, path) in [
        ("DELETE", format!("/v1/webhooks/{endpoint}")),
        ("POST", format!("/v1/webhooks/{endpoint}/rotate-secret")),
        ("GET", format!("/v1/webhooks/{endpoint}/deliveries")),
        ("POST", format!("/v1/events/{event_id}/redeliver")),
    ] {
        let (status, body) = local.call(&other_key, method, &path, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}"
        );
    }

    let path = format!("/v1/webhooks/{endpoint}/rotate-secret");
    let (status, rotated) = local.call(&local.stack.api_key, "POST", &path, None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);

    let path = format!("/v1/events/{event_id}/redeliver");
    let (status, queued) = local.call(&local.stack.api_key, "POST", &path, None).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["data"]["endpoint_ids"], json!([endpoint]));
    let received = receiver.wait_for(3, Duration::from_secs(30)).await;
    let (again, retried) = (received[1].clone(), received[2].clone());
    // A receiver that deduplicates on webhook-id would drop a redelivery under the event's
    // id: it gets an id of its own, kept by its retries, and names the event it re-sends.
    assert_eq!(first.redelivery_of, "", "a first delivery is no redelivery");
    assert_ne!(
        again.id, event_id,
        "a redelivery has a webhook-id of its own"
    );
    assert_eq!(
        retried.id, again.id,
        "a redelivery's retry keeps its webhook-id"
    );
    assert_eq!(again.redelivery_of, event_id);
    assert_eq!(
        again.json()["id"],
        json!(event_id),
        "the body is the same event"
    );
    assert_eq!(again.signature.split(' ').count(), 2, "{}", again.signature);
    assert!(reference_verifies(&old_secret, &again));
    assert!(reference_verifies(&new_secret, &again));
    // Asked again, the event is redelivered under yet another id.
    let (status, _) = local.call(&local.stack.api_key, "POST", &path, None).await;
    assert_eq!(status, 202);
    let third = receiver.wait_for(4, Duration::from_secs(30)).await[3].clone();
    assert_ne!(third.id, again.id);
    assert_ne!(third.id, event_id);
    assert_eq!(third.redelivery_of, event_id);

    let mut registered = 1;
    while registered < shared::domain::webhooks::endpoint::MAX_ENDPOINTS_PER_APP {
        local.register(&receiver.url, &["user.deleted"]).await;
        registered += 1;
    }
    let (status, body) = local
        .call(
            &local.stack.api_key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": receiver.url, "events": ["user.deleted"]})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("limit_reached")),
        "{body}"
    );
    // A delete retried with its Idempotency-Key replays the 204; without one, 404.
    let path = format!("/v1/webhooks/{endpoint}");
    let keyed = || {
        let mut delete = request("DELETE", &path, &local.stack.api_key, None);
        delete
            .headers_mut()
            .insert("idempotency-key", "drop-endpoint-1".parse().unwrap());
        delete
    };
    let context = webhooks::Webhooks {
        store: &local.stack.store,
        sealer: &local.services.sealer,
        queue: local.services.queue.as_ref(),
        policy: LOCAL_DESTINATIONS,
    };
    assert_eq!(webhooks::handle(&context, keyed()).await.status(), 204);
    assert_eq!(webhooks::handle(&context, keyed()).await.status(), 204);
    let (status, body) = local
        .call(&local.stack.api_key, "DELETE", &path, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

/// A user's timeline over the API: every event it had, from the table's real stream through
/// the event publisher, newest first, paged by cursors that only its app can use.
#[tokio::test]
async fn a_users_events_are_listed_newest_first_in_pages_for_its_app_only() {
    let local = Local::start(RetrySchedule::default(), Duration::from_secs(5)).await;
    let user = local.create_user(json!({"email": "tl@example.com"})).await;
    let id = user["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (
            "PATCH",
            format!("/v1/users/{id}"),
            Some(json!({"custom_metadata": {"plan": "pro"}})),
        ),
        ("POST", format!("/v1/users/{id}/disable"), None),
    ] {
        let request = request(method, &path, &local.stack.api_key, body.as_ref());
        let (status, body) = parts(&update_user::handle(&local.stack.store, request).await);
        assert_eq!(status, 200, "{body}");
    }
    let timeline = format!("/v1/users/{id}/events");
    let expected = [
        "user.disabled",
        "user.updated",
        "user.wallet_created",
        "user.created",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = loop {
        let (status, body) = local
            .call(&local.stack.api_key, "GET", &timeline, None)
            .await;
        assert_eq!(status, 200, "{timeline}: {body}");
        let events = body["data"]["events"].as_array().unwrap().clone();
        if events.len() >= expected.len() || Instant::now() > deadline {
            assert_eq!(body["data"]["next_cursor"], Value::Null);
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    // The wallet may be made before or after the change: the four, with the order of
    // `created_at` (then id) whatever it is.
    let mut sorted = types.clone();
    sorted.sort();
    let mut wanted = expected.to_vec();
    wanted.sort();
    assert_eq!(sorted, wanted, "{events:#?}");
    assert_eq!(types[types.len() - 1], "user.created");
    let positions: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["created_at"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] > pair[1]),
        "{positions:?}"
    );
    // Each event's data names this user: a user's (`data.id`), or a wallet's (`data.user_id`).
    assert!(
        events
            .iter()
            .all(|e| e["data"]["id"] == id.as_str() || e["data"]["user_id"] == id.as_str()),
        "{events:#?}"
    );

    // One at a time, by cursor: the same events in the same order, then no cursor.
    let mut paged = Vec::new();
    let mut path = format!("{timeline}?limit=1");
    loop {
        let (status, body) = local.call(&local.stack.api_key, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}");
        paged.extend(body["data"]["events"].as_array().unwrap().iter().cloned());
        match body["data"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("{timeline}?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(paged.len() <= events.len(), "the cursor never ends");
    }
    assert_eq!(paged, events);

    // A cursor is its app's; the user too. Bad parameters are refused.
    let (_, cursor_body) = local
        .call(
            &local.stack.api_key,
            "GET",
            &format!("{timeline}?limit=1"),
            None,
        )
        .await;
    let cursor = cursor_body["data"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = local.stack.other_app().await;
    let (status, body) = local.call(&other_key, "GET", &timeline, None).await;
    assert_eq!(status, 404, "{body}");
    // Another app's cursor is refused before its user is looked up; another user's cursor too.
    let (status, body) = local
        .call(
            &other_key,
            "GET",
            &format!("{timeline}?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let other_user = local.create_user(json!({"wallets": []})).await;
    let other_timeline = format!("/v1/users/{}/events", other_user["id"].as_str().unwrap());
    let (status, body) = local
        .call(
            &local.stack.api_key,
            "GET",
            &format!("{other_timeline}?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let tampered = format!("{}x", cursor);
    for query in [
        format!("cursor={tampered}"),
        "limit=0".into(),
        "since=1".into(),
    ] {
        let (status, body) = local
            .call(
                &local.stack.api_key,
                "GET",
                &format!("{timeline}?{query}"),
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
    }
}
