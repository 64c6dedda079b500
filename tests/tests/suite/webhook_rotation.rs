//! Rotating an endpoint's signing secret against DynamoDB Local: at most two secrets sign (the
//! current one and the one it replaced), racing rotations included, and a rotation moments
//! after the last is a 429 with `Retry-After`.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{TestStack, parts, request};
use futures::future::join_all;
use local_api::{LOCAL_DESTINATIONS, Services};
use serde_json::{Value, json};
use shared::domain::webhooks::endpoint::MIN_ROTATION_INTERVAL_SECS;
use shared::ports::WebhookStore;

async fn call(
    stack: &TestStack,
    services: &Services,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let context = webhooks::Webhooks {
        store: &stack.store,
        sealer: &services.sealer,
        queue: services.queue.as_ref(),
        policy: LOCAL_DESTINATIONS,
    };
    let request = request(method, path, &stack.api_key, body.as_ref());
    let response = webhooks::handle(&context, request).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = parts(&response);
    (status, retry_after, body)
}

async fn register(stack: &TestStack, services: &Services) -> String {
    let body = json!({"url": "http://127.0.0.1:9/hooks", "events": ["user.created"]});
    let (status, _, body) = call(stack, services, "POST", "/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn racing_rotations_leave_two_signing_secrets_and_the_rest_are_rate_limited() {
    let stack = TestStack::new().await;
    let services = stack.services(3);
    let endpoint = register(&stack, &services).await;
    let path = format!("/v1/webhooks/{endpoint}/rotate-secret");
    let answers = join_all((0..8).map(|_| call(&stack, &services, "POST", &path, None))).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for (status, retry_after, body) in answers.iter().filter(|(s, _, _)| *s != 200) {
        assert_eq!(
            (*status, body["error"]["code"].as_str()),
            (429, Some("rate_limited")),
            "{body}"
        );
        let wait: i64 = retry_after.as_deref().unwrap().parse().unwrap();
        assert!(
            (1..=MIN_ROTATION_INTERVAL_SECS + 1).contains(&wait),
            "{wait}"
        );
    }
    let stored = stack
        .store
        .get_endpoint(&stack.app, &endpoint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.secrets.len(),
        2,
        "the new secret and the one it replaced"
    );
    // And at once again: refused, nothing stored.
    let (status, _, body) = call(&stack, &services, "POST", &path, None).await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn a_rotation_drops_every_secret_older_than_the_one_it_replaces() {
    let stack = TestStack::new().await;
    let services = stack.services(3);
    let endpoint = register(&stack, &services).await;
    // An endpoint as rotations before this rule left it: three secrets signing, the current
    // one made by a rotation long ago.
    let mut stored = stack
        .store
        .get_endpoint(&stack.app, &endpoint)
        .await
        .unwrap()
        .unwrap();
    let mut current = stored.secrets[0].clone();
    current.created_at = "2026-01-03T00:00:00.000Z".into();
    let mut older = current.clone();
    older.created_at = "2026-01-02T00:00:00.000Z".into();
    older.expires_at = Some("2999-01-01T00:00:00.000Z".into());
    let mut oldest = older.clone();
    oldest.created_at = "2026-01-01T00:00:00.000Z".into();
    stored.secrets = vec![current.clone(), older, oldest];
    let version = stored.version;
    stored.version += 1;
    assert!(
        stack
            .store
            .replace_endpoint(&stack.app, &stored, version)
            .await
            .unwrap()
    );

    let path = format!("/v1/webhooks/{endpoint}/rotate-secret");
    let (status, _, body) = call(&stack, &services, "POST", &path, None).await;
    assert_eq!(status, 200, "{body}");
    let after = stack
        .store
        .get_endpoint(&stack.app, &endpoint)
        .await
        .unwrap()
        .unwrap();
    let created: Vec<&str> = after
        .secrets
        .iter()
        .map(|s| s.created_at.as_str())
        .collect();
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(created[1], current.created_at, "the replaced secret stays");
    assert!(after.secrets[0].expires_at.is_none());
    assert!(after.secrets[1].expires_at.is_some());
}
