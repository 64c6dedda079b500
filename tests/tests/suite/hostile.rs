//! Hostile input: each case gets its 4xx in the one JSON envelope, quickly (the 5 s bound is a
//! hang detector, not a benchmark), without reading more than the body limit, and changes no
//! item in the table. Each case runs over real HTTP against the local server and, where the
//! request could reach a Lambda function that way, through the handler functions directly.
//!
//! Where hyper refuses a request head before our code sees it (a head over its 400 KB buffer,
//! more than 100 headers, a URI over 64 KiB) the answer is hyper's bare status with an empty
//! body; behind API Gateway such a request never reaches a function either (the README's
//! "Errors" section says so).
//!
//! Elsewhere: email spellings (one user or two) in `users.rs`; a handler panic becoming an
//! enveloped 500 in `shared::edge::lambda`'s unit tests (`catch_panics`, which `shared::edge::lambda::serve` uses).

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use api_tests::TestStack;
use api_tests::aws_sdk_dynamodb::types::AttributeValue;
use api_tests::raw_http::{Reply, assert_error, call, exchange, start};
use http::{HeaderName, HeaderValue};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::edge::api::MAX_BODY_BYTES;
use shared::edge::routes::Route;

/// The hang detector's bound.
const QUICKLY: Duration = Duration::from_secs(5);

async fn quickly<T>(what: &str, answer: impl Future<Output = T>) -> T {
    tokio::time::timeout(QUICKLY, answer)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {QUICKLY:?}"))
}

/// Every item of the table, in a stable order, to compare before and after a request.
async fn snapshot(stack: &TestStack) -> Vec<String> {
    let mut items: Vec<String> = stack
        .items()
        .await
        .into_iter()
        .map(|item| canonical(&AttributeValue::M(item)))
        .collect();
    items.sort();
    items
}

/// An attribute as text with maps' keys and sets' members sorted.
fn canonical(value: &AttributeValue) -> String {
    let sorted = |members: &[String]| {
        let mut members = members.to_vec();
        members.sort();
        members
    };
    match value {
        AttributeValue::M(fields) => {
            let fields: BTreeMap<&String, String> = fields
                .iter()
                .map(|(name, value)| (name, canonical(value)))
                .collect();
            format!("M{fields:?}")
        }
        AttributeValue::L(items) => {
            format!("L{:?}", items.iter().map(canonical).collect::<Vec<_>>())
        }
        AttributeValue::Ss(members) => format!("Ss{:?}", sorted(members)),
        AttributeValue::Ns(members) => format!("Ns{:?}", sorted(members)),
        other => format!("{other:?}"),
    }
}

/// A request as bytes: method, path with query, headers, body.
#[derive(Clone)]
struct Hostile {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

impl Hostile {
    /// An authenticated request with a JSON body.
    fn new(stack: &TestStack, method: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            method,
            path: path.to_owned(),
            headers: vec![
                (
                    "authorization",
                    format!("Bearer {}", stack.api_key).into_bytes(),
                ),
                ("content-type", b"application/json".to_vec()),
            ],
            body: body.into(),
        }
    }

    /// The same request with header `name` set to `value` (replacing any).
    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.retain(|(have, _)| *have != name);
        self.headers.push((name, value.into()));
        self
    }

    /// The same request without header `name`.
    fn without(mut self, name: &'static str) -> Self {
        self.headers.retain(|(have, _)| *have != name);
        self
    }

    fn describe(&self) -> String {
        let path: String = self.path.chars().take(60).collect();
        format!("{} {path} ({} body bytes)", self.method, self.body.len())
    }

    /// The request head over HTTP/1.1, with the body's length.
    fn head(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: localhost\r\n",
            self.method, self.path
        )
        .into_bytes();
        for (name, value) in &self.headers {
            head.extend_from_slice(format!("{name}: ").as_bytes());
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(
            format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        head
    }

    /// The request as `lambda_http` gives it to a handler: path parameters as API Gateway
    /// routes them, a body that is not UTF-8 as binary (API Gateway base64-encodes it).
    fn lambda(&self) -> Request {
        let mut request = api_tests::request(self.method, &self.path, "", None);
        let headers = request.headers_mut();
        headers.clear();
        for (name, value) in &self.headers {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        *request.body_mut() = match String::from_utf8(self.body.clone()) {
            Ok(text) if text.is_empty() => Body::Empty,
            Ok(text) => Body::Text(text),
            Err(error) => Body::Binary(error.into_bytes()),
        };
        request
    }
}

/// The handler function the route's Lambda runs.
async fn handler(stack: &TestStack, request: Request) -> Response<Body> {
    let store = &stack.store;
    let route = shared::edge::routes::resolve(request.method(), request.uri().path())
        .map(|resolved| resolved.route);
    match route {
        Ok(Route::CreateUser) => create_user::handle(store, request).await,
        Ok(Route::FindOrCreateUser) => find_or_create_user::handle(store, request).await,
        Ok(Route::UpdateUser | Route::DisableUser | Route::EnableUser) => {
            update_user::handle(store, request).await
        }
        Ok(Route::ImportUsers) => import_users::handle(store, request).await,
        Ok(Route::LinkAccount) => link_account::handle(store, request).await,
        Ok(Route::GetUser | Route::LookupUser) => get_user::handle(store, request).await,
        other => panic!("no handler in this test for {other:?}"),
    }
}

/// Asserts `request` over HTTP gets `status` and `code` in the envelope, quickly, changing
/// nothing; returns the envelope.
async fn refused_over_http(
    stack: &TestStack,
    address: &str,
    request: &Hostile,
    status: u16,
    code: &str,
) -> Value {
    let before = snapshot(stack).await;
    let what = format!("over HTTP: {}", request.describe());
    let reply = quickly(&what, exchange(address, request.head(), &request.body)).await;
    let body = assert_error(&reply, status, code);
    assert_eq!(snapshot(stack).await, before, "{what} changed the table");
    body
}

/// Asserts the handler answers `request` with `status` and `code` in the envelope, quickly,
/// changing nothing; returns the envelope.
async fn refused_in_lambda(stack: &TestStack, request: &Hostile, status: u16, code: &str) -> Value {
    let before = snapshot(stack).await;
    let what = format!("in Lambda: {}", request.describe());
    let response = quickly(&what, handler(stack, request.lambda())).await;
    let body = api_tests::assert_error(&response, status, code);
    assert_eq!(snapshot(stack).await, before, "{what} changed the table");
    body
}

/// Both: over HTTP and through the handler. Returns both envelopes' `details`.
async fn refused(
    stack: &TestStack,
    address: &str,
    request: &Hostile,
    status: u16,
    code: &str,
) -> [Value; 2] {
    let http = refused_over_http(stack, address, request, status, code).await;
    let lambda = refused_in_lambda(stack, request, status, code).await;
    [
        http["error"]["details"].clone(),
        lambda["error"]["details"].clone(),
    ]
}

/// A user to PATCH; returns its path.
async fn a_user(stack: &TestStack, address: &str) -> String {
    let created = call(
        address,
        "POST",
        "/v1/users",
        &stack.api_key,
        Some(&json!({"email": "ada@example.com", "wallets": []})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    format!("/v1/users/{}", created.body["data"]["id"].as_str().unwrap())
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}0{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// `[0,0,…]` with `count` elements.
fn zeros(count: usize) -> String {
    format!("[{}]", vec!["0"; count].join(","))
}

#[tokio::test]
async fn json_nested_ten_thousand_deep_is_a_400() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let user = a_user(&stack, &address).await;
    for deep in [nested_arrays(10_000), nested_objects(10_000)] {
        for (method, path, body) in [
            ("POST", "/v1/users", deep.clone()),
            (
                "POST",
                "/v1/users",
                format!(r#"{{"custom_metadata":{deep}}}"#),
            ),
            ("POST", "/v1/users/find-or-create", deep.clone()),
            ("PATCH", user.as_str(), deep.clone()),
            (
                "PATCH",
                user.as_str(),
                format!(r#"{{"custom_metadata":{deep}}}"#),
            ),
            (
                "POST",
                "/v1/users/batch",
                format!(r#"{{"users":[{deep}]}}"#),
            ),
        ] {
            assert!(body.len() < MAX_BODY_BYTES, "under the size limit");
            let request = Hostile::new(&stack, method, path, body);
            refused(&stack, &address, &request, 400, "malformed_json").await;
        }
    }
    // serde_json's limit is 128 levels; custom_metadata's own is 8.
    let request = Hostile::new(
        &stack,
        "PATCH",
        &user,
        format!(r#"{{"custom_metadata":{}}}"#, nested_objects(100)),
    );
    let details = refused(&stack, &address, &request, 400, "validation_failed").await;
    assert_eq!(details[0][0]["field"], "custom_metadata", "{}", details[0]);
}

#[tokio::test]
async fn a_hundred_thousand_element_array_is_413_and_an_overlong_one_under_the_limit_400() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let big = zeros(100_000);
    let fits = zeros(30_000);
    assert!(big.len() > MAX_BODY_BYTES && fits.len() < MAX_BODY_BYTES);
    for (path, field) in [
        ("/v1/users", "linked_accounts"),
        ("/v1/users", "wallets"),
        ("/v1/users/find-or-create", "linked_accounts"),
        ("/v1/users/batch", "users"),
    ] {
        let over = Hostile::new(&stack, "POST", path, format!(r#"{{"{field}":{big}}}"#));
        refused(&stack, &address, &over, 413, "payload_too_large").await;
        // Under the limit, the count is refused at once: one error, not 30,000.
        let under = Hostile::new(&stack, "POST", path, format!(r#"{{"{field}":{fits}}}"#));
        for details in refused(&stack, &address, &under, 400, "validation_failed").await {
            let count = details.as_array().map(Vec::len);
            assert_eq!(count, Some(1), "{path} {field}: {}, …", details[0]);
            assert_eq!(details[0]["field"], field, "{details}");
        }
    }
    let items = format!(r#"{{"users":[{}]}}"#, vec!["{}"; 101].join(","));
    let request = Hostile::new(&stack, "POST", "/v1/users/batch", items);
    let details = refused(&stack, &address, &request, 400, "validation_failed").await;
    assert_eq!(
        details[0][0]["message"],
        "must hold 1 to 100 users, got 101"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_however_it_is_framed() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let big = format!(r#"{{"username":"{}"}}"#, "x".repeat(70 * 1024));
    let sized = Hostile::new(&stack, "POST", "/v1/users", big.clone());
    refused(&stack, &address, &sized, 413, "payload_too_large").await;

    // A length over the limit is refused at once, before any of the body arrives.
    let mut promised = Hostile::new(&stack, "POST", "/v1/users", big.clone()).head();
    let length = format!("content-length: {}", big.len());
    let head = String::from_utf8(promised.clone())
        .unwrap()
        .replace(&length, "content-length: 1000000000000");
    promised = head.into_bytes();
    let before = snapshot(&stack).await;
    let reply = quickly(
        "a promised terabyte",
        exchange(&address, &promised, b"{\"username\":"),
    )
    .await;
    assert_error(&reply, 413, "payload_too_large");

    // Without Content-Length (chunked) the limit is enforced while reading: the server stops
    // after 64 KiB of a 4 MiB stream and answers, so it never holds more than the limit.
    let chunked_head = |stack: &TestStack| {
        format!(
            "POST /v1/users HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            stack.api_key
        )
    };
    let one_chunk = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let reply = quickly(
        "one big chunk",
        exchange(&address, chunked_head(&stack), one_chunk.as_bytes()),
    )
    .await;
    assert_error(&reply, 413, "payload_too_large");
    let mut stream = b"400\r\n{\"username\":\"".to_vec();
    stream.extend_from_slice(&[b'x'; 1024 - 13]);
    stream.extend_from_slice(b"\r\n");
    for _ in 0..4 * 1024 {
        stream.extend_from_slice(b"400\r\n");
        stream.extend_from_slice(&[b'x'; 1024]);
        stream.extend_from_slice(b"\r\n");
    }
    stream.extend_from_slice(b"0\r\n\r\n");
    let reply = quickly(
        "4 MiB in 1 KiB chunks",
        exchange(&address, chunked_head(&stack), &stream),
    )
    .await;
    assert_error(&reply, 413, "payload_too_large");
    assert_eq!(snapshot(&stack).await, before);

    // The server still serves.
    let fine = call(&address, "POST", "/v1/users", &stack.api_key, None).await;
    assert_eq!(fine.status, 201, "{}", fine.body);
}

#[tokio::test]
async fn invalid_utf8_is_refused_in_a_body_and_in_a_header() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let user = a_user(&stack, &address).await;
    for body in [
        b"{\"email\":\"\xff@example.com\"}".to_vec(),
        b"{\"username\":\"ad\xc3\x28\"}".to_vec(),
        b"{\"\xed\xa0\x80\":1}".to_vec(),
        b"\xff".to_vec(),
    ] {
        let request = Hostile::new(&stack, "POST", "/v1/users", body.clone());
        refused(&stack, &address, &request, 400, "malformed_json").await;
        let request = Hostile::new(&stack, "PATCH", &user, body);
        refused(&stack, &address, &request, 400, "malformed_json").await;
    }

    let valid = Hostile::new(&stack, "POST", "/v1/users", "{}");
    for request in [
        valid
            .clone()
            .header("authorization", b"Bearer \xff\xfe".to_vec()),
        valid.clone().header(
            "authorization",
            [stack.api_key.as_bytes(), b"\xff"].concat(),
        ),
        valid.clone().without("authorization").header(
            "x-api-key",
            [b"\xc3\x28".as_slice(), stack.api_key.as_bytes()].concat(),
        ),
    ] {
        refused(&stack, &address, &request, 401, "unauthorized").await;
    }
    let request = valid
        .clone()
        .header("content-type", b"application/json\xff".to_vec());
    refused(&stack, &address, &request, 415, "unsupported_media_type").await;
    let request = valid
        .clone()
        .header("idempotency-key", b"key-\xff".to_vec());
    let details = refused(&stack, &address, &request, 400, "validation_failed").await;
    assert_eq!(details[0][0]["field"], "Idempotency-Key");
    let request = Hostile::new(&stack, "PATCH", &user, r#"{"username":"ada"}"#)
        .header("if-match", b"\"1\xff\"".to_vec());
    let details = refused(&stack, &address, &request, 400, "validation_failed").await;
    assert_eq!(details[0][0]["field"], "If-Match");
}

#[tokio::test]
async fn nul_bytes_are_refused_escaped_or_raw() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let user = a_user(&stack, &address).await;
    for (body, field) in [
        (r#"{"email":"ada\u0000@example.com"}"#, "email"),
        (r#"{"email":"ada@example.com\u0000"}"#, "email"),
        (r#"{"email":"\"ada\u0000\"@example.com"}"#, "email"),
        (r#"{"external_id":"user-1\u0000"}"#, "external_id"),
        (r#"{"username":"a\u0000da"}"#, "username"),
        (
            r#"{"linked_accounts":[{"type":"custom","subject":"a\u0000"}]}"#,
            "linked_accounts[0].subject",
        ),
    ] {
        for (method, path) in [
            ("POST", "/v1/users"),
            ("POST", "/v1/users/find-or-create"),
            ("PATCH", user.as_str()),
        ] {
            if method == "PATCH" && field.starts_with("linked") {
                continue;
            }
            let request = Hostile::new(&stack, method, path, body);
            let details = refused(&stack, &address, &request, 400, "validation_failed").await;
            assert_eq!(
                details[0][0]["field"], field,
                "{method} {body}: {}",
                details[0]
            );
        }
    }
    for body in [
        b"{\"email\":\"ada\0@example.com\"}".as_slice(),
        b"{\"external_id\":\"user-1\"}\0",
        b"\0",
        b"{\0}",
    ] {
        let request = Hostile::new(&stack, "POST", "/v1/users", body);
        refused(&stack, &address, &request, 400, "malformed_json").await;
    }
    let lookup = Hostile::new(&stack, "GET", "/v1/users?external_id=user-1%00", "");
    let details = refused_over_http(&stack, &address, &lookup, 400, "validation_failed").await;
    assert_eq!(details["error"]["details"][0]["field"], "external_id");
}

#[tokio::test]
async fn an_email_lookup_over_http_decodes_non_ascii_spellings_and_refuses_confusables() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let key = &stack.api_key;
    let created = call(
        &address,
        "POST",
        "/v1/users",
        key,
        Some(&json!({"email": "ada@bücher.example"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    // ADA@BÜCHER.example, percent-encoded as UTF-8, and the IDNA ASCII form: the same mailbox.
    for query in [
        "email=ADA%40B%C3%9CCHER.example",
        "email=ada%40xn--bcher-kva.example",
    ] {
        let found = call(&address, "GET", &format!("/v1/users?{query}"), key, None).await;
        assert_eq!(found.status, 200, "{query}: {}", found.body);
        assert_eq!(found.body["data"]["id"], created.body["data"]["id"]);
    }
    // ＡＤＡ@ (fullwidth) is another mailbox that only NFKC folds into this one: decoded, then
    // refused as a conflict on `email`, never answered with the user.
    let confusable = call(
        &address,
        "GET",
        "/v1/users?email=%EF%BC%A1%EF%BC%A4%EF%BC%A1%40B%C3%9CCHER.example",
        key,
        None,
    )
    .await;
    let body = assert_error(&confusable, 409, "conflict");
    assert_eq!(body["error"]["details"][0]["field"], "email");
    // Cyrillic а (U+0430) is another letter: no such user.
    let other = call(
        &address,
        "GET",
        "/v1/users?email=%D0%B0da%40b%C3%BCcher.example",
        key,
        None,
    )
    .await;
    assert_error(&other, 404, "not_found");
    // A fullwidth at sign is not an address's @, and bytes that are not UTF-8 are no email.
    for query in [
        "email=ada%EF%BC%A0example.com",
        "email=ada%FF%40example.com",
    ] {
        let request = Hostile::new(&stack, "GET", &format!("/v1/users?{query}"), "");
        let reply = refused_over_http(&stack, &address, &request, 400, "validation_failed").await;
        assert_eq!(reply["error"]["details"][0]["field"], "email", "{query}");
    }
}

#[tokio::test]
async fn very_long_headers_queries_and_paths_are_refused() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let long = "k".repeat(100 * 1024);
    let valid = Hostile::new(&stack, "GET", "/v1/users", "");

    // Under hyper's 400 KB head buffer: our code answers, in the envelope.
    let bearer = valid
        .clone()
        .header("authorization", format!("Bearer {long}"));
    refused(&stack, &address, &bearer, 401, "unauthorized").await;
    let api_key = valid
        .clone()
        .without("authorization")
        .header("x-api-key", long.clone());
    refused(&stack, &address, &api_key, 401, "unauthorized").await;
    let key = valid.clone().header("idempotency-key", long.clone());
    let post_key = Hostile {
        method: "POST",
        path: "/v1/users".into(),
        ..key
    };
    refused(&stack, &address, &post_key, 400, "validation_failed").await;
    let cursor = format!("/v1/users?cursor={}", "c".repeat(60 * 1024));
    let request = Hostile::new(&stack, "GET", &cursor, "");
    let details = refused(&stack, &address, &request, 400, "validation_failed").await;
    assert_eq!(details[0][0]["field"], "cursor");
    let id = format!("/v1/users/{}", "1".repeat(60 * 1024));
    refused(
        &stack,
        &address,
        &Hostile::new(&stack, "GET", &id, ""),
        404,
        "not_found",
    )
    .await;
    let name = format!("/v1/users/{}", "n".repeat(60 * 1024));
    let request = Hostile::new(&stack, "PATCH", &name, "{}");
    refused(&stack, &address, &request, 404, "not_found").await;

    // Beyond hyper's limits, hyper answers before our code runs, with a bare status.
    let before = snapshot(&stack).await;
    let bare = |reply: &Reply, status: u16| {
        assert_eq!(reply.status, status, "{}", reply.headers);
        assert!(
            reply.headers.contains("content-length: 0"),
            "{}",
            reply.headers
        );
    };
    let huge = valid.clone().header("x-filler", "f".repeat(500 * 1024));
    bare(
        &quickly("a 500 KB header", exchange(&address, huge.head(), b"")).await,
        431,
    );
    let mut many = valid.clone();
    for index in 0..200 {
        many.headers
            .push(("x-many", format!("{index}").into_bytes()));
    }
    bare(
        &quickly("200 headers", exchange(&address, many.head(), b"")).await,
        431,
    );
    for path in [
        format!("/v1/users?cursor={}", "c".repeat(100 * 1024)),
        format!("/v1/users/{}", "1".repeat(100 * 1024)),
    ] {
        let request = Hostile {
            path,
            ..valid.clone()
        };
        bare(
            &quickly("a 100 KB URI", exchange(&address, request.head(), b"")).await,
            414,
        );
    }
    assert_eq!(snapshot(&stack).await, before);
}

#[tokio::test]
async fn a_member_named_twice_is_a_400_naming_it() {
    let stack = TestStack::new().await;
    let address = start(&stack).await;
    let user = a_user(&stack, &address).await;
    for (method, path, body, field) in [
        (
            "POST",
            "/v1/users",
            r#"{"email":"a@x.com","email":"b@x.com"}"#,
            "email",
        ),
        (
            "POST",
            "/v1/users",
            r#"{"email":"a@x.com","em\u0061il":"b@x.com"}"#,
            "email",
        ),
        (
            "POST",
            "/v1/users",
            r#"{"custom_metadata":{"role":"user","role":"admin"}}"#,
            "custom_metadata.role",
        ),
        (
            "POST",
            "/v1/users/find-or-create",
            r#"{"external_id":"x","external_id":"y"}"#,
            "external_id",
        ),
        (
            "PATCH",
            user.as_str(),
            r#"{"email":"b@x.com","email":"c@x.com"}"#,
            "email",
        ),
        (
            "PATCH",
            user.as_str(),
            r#"{"custom_metadata":{"plan":"free","plan":"pro"}}"#,
            "custom_metadata.plan",
        ),
        (
            "POST",
            "/v1/users/batch",
            r#"{"users":[{"external_id":"x"},{"external_id":"y","external_id":"z"}]}"#,
            "users[1].external_id",
        ),
        (
            "POST",
            &format!("{user}/linked-accounts"),
            r#"{"type":"custom","subject":"a","subject":"b"}"#,
            "subject",
        ),
    ] {
        let request = Hostile::new(&stack, method, path, body);
        for details in refused(&stack, &address, &request, 400, "validation_failed").await {
            assert_eq!(
                details,
                json!([{"field": field, "message": "must be given at most once"}]),
                "{method} {path} {body}"
            );
        }
    }
}
