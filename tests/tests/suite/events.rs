//! The `events/` payloads of the routes added after the core API, each fed to its handler as
//! Lambda would, against DynamoDB Local. The user they name is the one the test creates.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use api_tests::{TestStack, parts};
use lambda_http::{Request, RequestExt};

/// Creates the user of `events/create-user.json` and returns its id.
async fn ada(stack: &TestStack) -> String {
    let (status, body) =
        parts(&create_user::handle(&stack.store, stack.event("create-user")).await);
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

/// `events/<name>.json` with its `{id}` path parameter naming `id` (its others kept).
fn event_for(stack: &TestStack, name: &str, id: &str) -> Request {
    let request = stack.event(name);
    let mut params: HashMap<String, String> = request
        .path_parameters()
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    params.insert("id".into(), id.to_owned());
    request.with_path_parameters(params)
}

#[tokio::test]
async fn each_lifecycle_event_gets_its_status() {
    let stack = TestStack::new().await;
    let id = ada(&stack).await;

    let (status, list) = parts(&get_user::handle(&stack.store, stack.event("list-users")).await);
    assert_eq!(status, 200);
    assert_eq!(list["data"]["users"][0]["id"], id.as_str());

    let response = add_wallet::handle(&stack.store, event_for(&stack, "add-wallet", &id)).await;
    assert_eq!(
        response.status(),
        200,
        "solana was requested at create: unchanged"
    );

    let (status, patched) =
        parts(&update_user::handle(&stack.store, event_for(&stack, "update-user", &id)).await);
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["data"]["username"], "ada_lovelace");

    let response = link_account::handle(&stack.store, event_for(&stack, "link-account", &id)).await;
    assert_eq!(response.status(), 201);
    let (status, unlinked) = parts(
        &unlink_account::handle(&stack.store, event_for(&stack, "unlink-account", &id)).await,
    );
    assert_eq!(status, 200, "{unlinked}");
    assert!(
        unlinked["data"]["linked_accounts"]
            .to_string()
            .contains("phone")
    );
    assert!(
        !unlinked["data"]["linked_accounts"]
            .to_string()
            .contains("twitter")
    );

    let (status, disabled) =
        parts(&update_user::handle(&stack.store, event_for(&stack, "disable-user", &id)).await);
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["data"]["status"], "disabled");
    assert_eq!(
        disabled["data"]["disabled_reason"],
        "chargeback on order 1042"
    );
    let response = add_wallet::handle(&stack.store, event_for(&stack, "add-wallet", &id)).await;
    assert_eq!(response.status(), 403, "a disabled user gains no wallet");
    let (status, enabled) =
        parts(&update_user::handle(&stack.store, event_for(&stack, "enable-user", &id)).await);
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["data"]["status"], "active");
    assert_eq!(enabled["data"]["disabled_at"], serde_json::Value::Null);

    let (status, batch) =
        parts(&import_users::handle(&stack.store, stack.event("import-users")).await);
    assert_eq!(status, 200);
    assert_eq!(batch["data"]["results"][1]["status"], 400);

    let retention = Duration::from_secs(86400);
    let response = delete_user::handle(
        &stack.store,
        retention,
        event_for(&stack, "delete-user", &id),
    )
    .await;
    assert_eq!(response.status(), 204);
    stack.assert_guards_match_users().await;
    let restored = delete_user::handle(
        &stack.store,
        retention,
        event_for(&stack, "restore-user", &id),
    )
    .await;
    let (status, restored) = parts(&restored);
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["data"]["id"], id.as_str());
    stack.assert_guards_match_users().await;
}

/// The webhook routes' payloads through the `webhooks` handler, in local mode (the payload's
/// public URL is replaced by a receiver on loopback: tests do not reach the internet).
#[tokio::test]
async fn each_webhook_event_gets_its_status() {
    let stack = TestStack::new().await;
    let services = stack.services(7);
    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: local_api::LOCAL_DESTINATIONS,
    };
    let mut create: serde_json::Value =
        serde_json::from_str(&stack.event_text("create-webhook")).unwrap();
    let mut body: serde_json::Value =
        serde_json::from_str(create["body"].as_str().unwrap()).unwrap();
    body["url"] = "http://127.0.0.1:9/wallet-users".into();
    create["body"] = body.to_string().into();
    let create = lambda_http::request::from_str(&create.to_string()).unwrap();
    let (status, created) = parts(&webhooks::handle(&context, create).await);
    assert_eq!(status, 201, "{created}");
    let endpoint = created["data"]["id"].as_str().unwrap().to_owned();

    let (status, listed) = parts(&webhooks::handle(&context, stack.event("list-webhooks")).await);
    assert_eq!(
        (status, listed["data"]["endpoints"][0]["id"].as_str()),
        (200, Some(endpoint.as_str()))
    );
    // The payloads name an endpoint and an event of their own: in this app, not found.
    for name in [
        "rotate-webhook-secret",
        "list-deliveries",
        "redeliver-event",
        "delete-webhook",
    ] {
        let (status, body) = parts(&webhooks::handle(&context, stack.event(name)).await);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{name}: {body}"
        );
    }
    for name in ["rotate-webhook-secret", "list-deliveries", "delete-webhook"] {
        let response = webhooks::handle(&context, event_for(&stack, name, &endpoint)).await;
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.status()
        );
    }
}

/// The stream batch feeds the event publisher; the queue message feeds deliveries.
#[tokio::test]
async fn the_stream_and_queue_payloads_feed_their_functions() {
    let stack = TestStack::new().await;
    let services = stack.services(7);
    let batch: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_str(&api_tests::read_event("create-wallets-insert")).unwrap();
    let publisher = api_tests::wallets::RecordingPublisher::default();
    let response =
        publish_events::handle(&stack.store, &publisher, services.queue.as_ref(), batch).await;
    assert!(response.batch_item_failures.is_empty());
    let events = publisher.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type.as_str(), "user.created");
    assert_eq!(events[0].data["email"], "ada@example.com");

    // The job names an endpoint this table does not have: nothing to deliver, nothing to retry.
    let message: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&api_tests::read_event("deliver-webhooks")).unwrap();
    let opener = shared::domain::webhooks::delivery::SecretOpener::new(services.sealer.clone());
    let sender = shared::adapters::http_sender::Sender::new(local_api::LOCAL_DESTINATIONS).unwrap();
    let schedule = shared::domain::webhooks::delivery::RetrySchedule::default();
    let context = deliver_webhooks::Deliveries {
        store: &stack.store,
        opener: &opener,
        sender: &sender,
        queue: services.queue.as_ref(),
        schedule: &schedule,
    };
    let response = deliver_webhooks::handle(&context, message).await;
    assert!(response.batch_item_failures.is_empty());
}

/// The access routes' payloads through the `access` handler: settings, an allowlist entry
/// added, listed and removed, invitations made (by the app and by the sample user), listed and
/// revoked (by the id the invitation got).
#[tokio::test]
async fn each_access_event_gets_its_status() {
    let stack = TestStack::new().await;
    let id = ada(&stack).await;
    let status = |name: &'static str| {
        let stack = &stack;
        let id = id.clone();
        async move {
            let request = if name.contains("user") {
                event_for(stack, name, &id)
            } else {
                stack.event(name)
            };
            parts(&access::handle(&stack.store, &api_tests::wallets::stack_sealer(), request).await)
        }
    };
    for (name, expected) in [
        ("get-settings", 200),
        ("change-settings", 200),
        ("add-allow-entry", 201),
        ("list-allow-entries", 200),
        ("delete-allow-entry", 204),
        ("invite-as-user", 201),
        ("list-user-invitations", 200),
    ] {
        let (got, body) = status(name).await;
        assert_eq!(got, expected, "{name}: {body}");
    }
    let (got, invitation) = status("create-invitation").await;
    assert_eq!(got, 201, "{invitation}");
    let (_, listed) = status("list-invitations").await;
    assert_eq!(
        listed["data"]["invitations"][0]["id"],
        invitation["data"]["id"]
    );
    let revoke = event_for(
        &stack,
        "revoke-invitation",
        invitation["data"]["id"].as_str().unwrap(),
    );
    let (got, revoked) =
        parts(&access::handle(&stack.store, &api_tests::wallets::stack_sealer(), revoke).await);
    assert_eq!(got, 200, "{revoked}");
    assert_eq!(revoked["data"]["status"], "revoked");
}
