//! The local server over real HTTP: routing as API Gateway does, the body limit enforced while
//! reading, and the README's flow.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Reply {
    status: u16,
    headers: String,
    body: Value,
}

async fn start(stack: &TestStack) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(local_api::serve(listener, stack.services(7)));
    address
}

/// One HTTP/1.1 exchange over a fresh connection, exactly as written.
async fn exchange(address: &str, head: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.ok();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap();
    let status = headers[9..12].parse().unwrap();
    Reply {
        status,
        headers: headers.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

async fn call(address: &str, method: &str, path: &str, key: &str, body: Option<&Value>) -> Reply {
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    exchange(address, &head, body.as_bytes()).await
}

#[tokio::test]
async fn the_readme_flow_works_over_http() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    let created = call(
        &address,
        "POST",
        "/v1/users",
        key,
        Some(&json!({"email": "ada+test@example.com", "external_id": "user-123"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap();

    let got = call(&address, "GET", &format!("/v1/users/{id}"), key, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["data"], created.body["data"]);

    // Query values are percent-decoded, as API Gateway does.
    let by_email = call(
        &address,
        "GET",
        "/v1/users?email=ada%2Btest%40example.com",
        key,
        None,
    )
    .await;
    assert_eq!(by_email.body["data"]["id"], id);

    let found = call(
        &address,
        "POST",
        "/v1/users/find-or-create",
        key,
        Some(&json!({"external_id": "user-123"})),
    )
    .await;
    assert_eq!(
        (found.status, found.body["data"]["created"].clone()),
        (200, json!(false))
    );
    assert!(created.headers.contains("x-request-id:"));
}

#[tokio::test]
async fn unrouted_requests_get_404_and_405_in_the_envelope() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let wrong_method = call(&address, "DELETE", "/v1/users", &stack.api_key, None).await;
    assert_eq!(wrong_method.status, 405);
    assert!(
        wrong_method.headers.contains("allow: post, get"),
        "{}",
        wrong_method.headers
    );
    assert_eq!(wrong_method.body["error"]["code"], "method_not_allowed");
    let unknown = call(&address, "GET", "/v1/nothing", &stack.api_key, None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "not_found");
}

#[tokio::test]
async fn oversized_bodies_are_413_with_or_without_a_length() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let big = format!("{{\"username\":\"{}\"}}", "x".repeat(70 * 1024));
    let sized = call(&address, "POST", "/v1/users", &stack.api_key, None).await;
    assert_eq!(sized.status, 201, "an empty body still creates");
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        stack.api_key,
        big.len()
    );
    let reply = exchange(&address, &head, big.as_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.body["error"]["code"], "payload_too_large");

    let chunked_head = format!(
        "POST /v1/users HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        stack.api_key
    );
    let chunked = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let reply = exchange(&address, &chunked_head, chunked.as_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(stack.user_items().await.len(), 1);
}
