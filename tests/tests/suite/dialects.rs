//! The four dialects against DynamoDB Local, through the local API: each seed service's own
//! client runs its calls unchanged (original-sdk, ost-kit-python, @privy-io/node, installed
//! by scripts/seed-clients.sh), the find-or-create API's documented request works as printed,
//! and every dialect refuses forged or revoked credentials, keeps apps apart, and answers bad
//! input in its own envelope, writing nothing.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use api_tests::TestStack;
use api_tests::dialects::{ost_signed, privy_basic};
use api_tests::wallets::stack_sealer;
use base64::Engine;
use serde_json::{Value, json};
use shared::dialects::credentials::{self, OST_WINDOW_SECS};
use shared::model::AppId;

/// A plain HTTP client (TLS set up as everywhere in the workspace, though the local API is http).
fn http_client() -> reqwest::Client {
    shared::tls::reqwest_builder().build().unwrap()
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// A new key of `app` and what each dialect's client is configured with for it.
async fn clients(stack: &TestStack, app: &AppId) -> (String, Value) {
    let key = shared::domain::apps::issue_api_key(
        &stack.store,
        &stack_sealer(),
        app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    (key.record.key_id.clone(), credentials::clients(app, &key))
}

/// Runs one of tests/clients' scripts with `program` against `base_url`; its output.
async fn run_client(program: &str, script: &str, base_url: &str, clients: &Value) -> String {
    let output = tokio::process::Command::new(program)
        .arg(clients_dir().join(script))
        .current_dir(clients_dir())
        .env("BASE_URL", base_url)
        .env("CLIENTS", clients.to_string())
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {program} {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{script}:\n{stdout}");
    stdout
}

fn seed_python() -> String {
    std::env::var("SEED_CLIENTS_PYTHON").expect(
        "SEED_CLIENTS_PYTHON is not set: run the tests with scripts/test.sh, which installs the \
         seed clients (scripts/seed-clients.sh)",
    )
}

/// Runs one seed client's script on a fresh stack, its base URL `<api><mount>`; the number of
/// calls it reports passed.
async fn seed_client_on_a_fresh_stack(program: &str, script: &str, mount: &str) -> usize {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, clients) = clients(&stack, &stack.app).await;
    let out = run_client(program, script, &format!("{address}{mount}"), &clients).await;
    out.lines().filter(|l| l.starts_with("ok ")).count()
}

#[tokio::test]
async fn original_sdk_runs_its_user_calls_unchanged() {
    let python = seed_python();
    let passed = seed_client_on_a_fresh_stack(&python, "original_calls.py", "/original");
    assert_eq!(passed.await, 11);
}

#[tokio::test]
async fn ost_kit_python_runs_its_user_calls_unchanged() {
    let python = seed_python();
    let passed = seed_client_on_a_fresh_stack(&python, "ost_calls.py", "/ost/v1");
    assert_eq!(passed.await, 10);
}

#[tokio::test]
async fn privy_node_client_runs_its_user_and_allowlist_calls_unchanged() {
    let passed = seed_client_on_a_fresh_stack("node", "privy_calls.mjs", "/privy");
    assert_eq!(passed.await, 22);
}

/// The seed's own request (`004`), verbatim but for host and key: 201, then 200 for the same.
#[tokio::test]
async fn the_find_or_create_apis_documented_request_works_as_printed() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let body = r#"
{
  "username": "john_doe",
  "address": "0x123abc456def789012345678901234567890abcd",
  "id_x": 1234567890,
  "privy_id": "did:privy:cmflfuqfy004xla0cbguzvtmw",
  "privy_address": "0x456def789012345678901234567890abcdef123"
}
"#;
    let http = http_client();
    let send = || {
        http.post(format!("{address}/onboarding/v1/users/find-or-create"))
            .header("Authorization", format!("ApiKey {}", stack.api_key))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["statusCode"], 201);
    assert_eq!(first["path"], "users/find-or-create");
    let data = &first["data"];
    assert_eq!(data["created"], true);
    assert_eq!(data["user"]["username"], "john_doe");
    assert_eq!(
        data["user"]["address"].as_str().unwrap().to_lowercase(),
        "0x123abc456def789012345678901234567890abcd"
    );
    for key in ["on_whitelist", "disabled", "onboarded"] {
        assert_eq!(data[key], false, "{key}");
    }
    assert_eq!(data["users_onboarded"], 0);
    assert_eq!(data["user_onboarded"], Value::Null);
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"]["created"], false);
    assert_eq!(again["message"], "User found successfully");
    assert_eq!(again["data"]["user"]["id"], data["user"]["id"]);
    assert_eq!(stack.user_count().await, 1);
}

/// A JWT as Original's client makes one, with what `header` and `claims` say, signed with
/// `secret` under `algorithm`.
fn jwt(algorithm: jsonwebtoken::Algorithm, claims: &Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), claims, &key).unwrap()
}

#[tokio::test]
async fn original_refuses_every_token_but_its_own() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (key_id, clients) = clients(&stack, &stack.app).await;
    let secret = clients["original"]["api_secret"].as_str().unwrap();
    let http = http_client();
    let get = |api_key: String, token: String| {
        http.get(format!(
            "{address}/original/v1/user?email=nobody@example.com"
        ))
        .header("X-API-KEY", api_key)
        .header("Authorization", format!("Bearer {token}"))
        .send()
    };
    let claims =
        |api_key: &str| json!({"resource": "*", "action": "*", "user_id": "*", "api_key": api_key});
    let good = get(
        key_id.clone(),
        jwt(jsonwebtoken::Algorithm::HS256, &claims(&key_id), secret),
    )
    .await
    .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(
        good.json::<Value>().await.unwrap(),
        json!({"success": false, "data": null})
    );

    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(&key_id))
    );
    let (other_key, _) = self::clients(&stack, &stack.app).await;
    let forged = [
        ("alg none", key_id.clone(), unsigned),
        (
            "HS384",
            key_id.clone(),
            jwt(jsonwebtoken::Algorithm::HS384, &claims(&key_id), secret),
        ),
        (
            "wrong secret",
            key_id.clone(),
            jwt(
                jsonwebtoken::Algorithm::HS256,
                &claims(&key_id),
                "wucs_other",
            ),
        ),
        (
            "claim of another key",
            key_id.clone(),
            jwt(jsonwebtoken::Algorithm::HS256, &claims(&other_key), secret),
        ),
        (
            "header of another key",
            other_key.clone(),
            jwt(jsonwebtoken::Algorithm::HS256, &claims(&other_key), secret),
        ),
        (
            "unknown key",
            "0123456789abcdef".to_owned(),
            jwt(
                jsonwebtoken::Algorithm::HS256,
                &claims("0123456789abcdef"),
                secret,
            ),
        ),
    ];
    for (case, api_key, token) in forged {
        let response = get(api_key, token).await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false, "{case}");
        assert_eq!(body["error"]["type"], "client_error", "{case}");
    }
}

/// A request signed as OST's client signs one, at `timestamp`.
fn ost_query(clients: &Value, endpoint: &str, timestamp: u64) -> Vec<(String, String)> {
    ost_signed(clients, endpoint, Vec::new(), timestamp)
}

#[tokio::test]
async fn revoking_a_key_revokes_every_dialects_credential_for_it() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (key_id, clients) = clients(&stack, &stack.app).await;
    let http = http_client();
    let now = || shared::clock::now_ms() / 1000;
    let token = clients["original"]["token"].as_str().unwrap().to_owned();
    let (basic, app_id) = privy_basic(&clients);
    let key = clients["onboarding"]["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let statuses = || async {
        let original = http
            .get(format!("{address}/original/v1/user?email=a@example.com"))
            .header("X-API-KEY", &key_id)
            .header("Authorization", format!("Bearer {token}"))
            .send();
        let ost = http
            .get(format!("{address}/ost/v1/users/"))
            .query(&ost_query(&clients, "/users/", now()));
        let privy = http
            .get(format!("{address}/privy/v1/users"))
            .header("Authorization", basic.clone())
            .header("privy-app-id", &app_id);
        let onboarding = http
            .post(format!("{address}/onboarding/v1/users/find-or-create"))
            .header("Authorization", format!("ApiKey {key}"))
            .header("Content-Type", "application/json")
            .body("{}");
        let mut statuses = Vec::new();
        for request in [original, ost.send(), privy.send(), onboarding.send()] {
            statuses.push(request.await.unwrap().status().as_u16());
        }
        statuses
    };
    // The onboarding body is empty: authenticated, it is refused as invalid.
    assert_eq!(statuses().await, [200, 200, 200, 400]);
    shared::edge::auth::revoke_api_key(&stack.store, &stack.app, &key_id)
        .await
        .unwrap();
    assert_eq!(statuses().await, [401, 401, 401, 401]);
}

#[tokio::test]
async fn ost_refuses_timestamps_outside_its_window() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, clients) = clients(&stack, &stack.app).await;
    let http = http_client();
    let now = shared::clock::now_ms() / 1000;
    for (timestamp, status) in [
        (now - OST_WINDOW_SECS - 5, 401),
        (now + OST_WINDOW_SECS + 5, 401),
        (now - OST_WINDOW_SECS + 5, 200),
    ] {
        let response = http
            .get(format!("{address}/ost/v1/users/"))
            .query(&ost_query(&clients, "/users/", timestamp))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{timestamp} at {now}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], status == 200, "{body}");
    }
}

#[tokio::test]
async fn privy_refuses_an_app_id_that_is_not_the_keys() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (other_app, other_key) = stack.other_app().await;
    let http = http_client();
    let basic = |app: &str, secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{app}:{secret}"))
    };
    for (case, user, secret, header) in [
        (
            "another app's key",
            stack.app.as_str(),
            other_key.as_str(),
            stack.app.as_str(),
        ),
        (
            "header and user differ",
            other_app.as_str(),
            other_key.as_str(),
            stack.app.as_str(),
        ),
        ("no secret", stack.app.as_str(), "", stack.app.as_str()),
    ] {
        let response = http
            .get(format!("{address}/privy/v1/users"))
            .header("Authorization", format!("Basic {}", basic(user, secret)))
            .header("privy-app-id", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(response.headers()["x-should-retry"], "false", "{case}");
    }
}

#[tokio::test]
async fn each_dialect_keeps_apps_apart() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, mine) = clients(&stack, &stack.app).await;
    let (other_app, _) = stack.other_app().await;
    let (_, theirs) = clients(&stack, &other_app).await;
    // A user of the other app, with an address, made through its onboarding dialect.
    let http = http_client();
    let find_or_create = |key: &str| {
        http.post(format!("{address}/onboarding/v1/users/find-or-create"))
            .header("Authorization", format!("ApiKey {key}"))
            .header("Content-Type", "application/json")
            .body(r#"{"username":"theirs","address":"0x00000000000000000000000000000000000000aa"}"#)
            .send()
    };
    let created: Value = find_or_create(theirs["onboarding"]["api_key"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let their_user = created["data"]["user"]["id"].as_str().unwrap().to_owned();

    let original = http
        .get(format!("{address}/original/v1/user/{their_user}"))
        .header("X-API-KEY", mine["original"]["api_key"].as_str().unwrap())
        .header(
            "Authorization",
            format!("Bearer {}", mine["original"]["token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 404);
    let endpoint = format!("/users/{their_user}");
    let ost: Value = http
        .get(format!("{address}/ost/v1{endpoint}"))
        .query(&ost_query(&mine, &endpoint, shared::clock::now_ms() / 1000))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ost["err"]["code"], "NOT_FOUND");
    let (basic, app_id) = privy_basic(&mine);
    let privy = http
        .get(format!("{address}/privy/v1/users/did:privy:{their_user}"))
        .header("Authorization", basic.clone())
        .header("privy-app-id", &app_id)
        .send()
        .await
        .unwrap();
    assert_eq!(privy.status(), 404);
    // The same address in my app is a new user of mine, not theirs.
    let mine_created = find_or_create(mine["onboarding"]["api_key"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(mine_created.status(), 201);
    let mine_created: Value = mine_created.json().await.unwrap();
    assert_ne!(mine_created["data"]["user"]["id"], their_user.as_str());
}

#[tokio::test]
async fn bad_input_is_refused_in_each_dialects_envelope_and_writes_nothing() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, clients) = clients(&stack, &stack.app).await;
    let before = stack.snapshot().await;
    let http = http_client();
    let (basic, app_id) = privy_basic(&clients);
    let json_post = |url: String, body: &'static str| {
        http.post(url)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let oversized: &'static str =
        Box::leak(format!("{{\"email\":\"{}\"}}", "a".repeat(70_000)).into_boxed_str());
    for body in [
        "{",
        "[]",
        r#"{"email":5}"#,
        r#"{"user_external_id":"","email":"x"}"#,
        oversized,
    ] {
        let response = json_post(format!("{address}/original/v1/user"), body)
            .header(
                "X-API-KEY",
                clients["original"]["api_key"].as_str().unwrap(),
            )
            .header(
                "Authorization",
                format!("Bearer {}", clients["original"]["token"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{body:.40}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert!(
            body["error"]["detail"].is_object() || body["error"]["detail"].is_array(),
            "{body}"
        );
    }
    for body in [
        "{",
        r#"{"linked_accounts":[{"type":"twitch_oauth","subject":"1"}]}"#,
        r#"{"linked_accounts":[],"wallets":[{"chain_type":"bitcoin"}]}"#,
        oversized,
    ] {
        let response = json_post(format!("{address}/privy/v1/users"), body)
            .header("Authorization", basic.clone())
            .header("privy-app-id", &app_id)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{body:.40}");
        assert_eq!(response.headers()["x-should-retry"], "false");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    for body in [
        "{",
        r#"{"username":"x","address":"0x1"}"#,
        r#"{"username":1,"address":[]}"#,
        oversized,
    ] {
        let response = json_post(
            format!("{address}/onboarding/v1/users/find-or-create"),
            body,
        )
        .header("Authorization", format!("ApiKey {}", stack.api_key))
        .send()
        .await
        .unwrap();
        assert!(response.status().is_client_error(), "{body:.40}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["path"], "users/find-or-create");
        assert!(body["statusCode"].as_u64().unwrap() >= 400, "{body}");
    }
    // OST: a form it cannot read as a user, and an unknown route; both JSON, both OST's.
    let now = shared::clock::now_ms() / 1000;
    let mut form = ost_query(&clients, "/users/", now);
    form.push(("name".to_owned(), "A".to_owned()));
    let response = http
        .post(format!("{address}/ost/v1/users/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        status, 401,
        "the name is not part of what was signed: {body}"
    );
    let unknown: Value = http
        .get(format!("{address}/ost/v1/airdrops/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["err"]["code"], "NOT_FOUND");
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused request changed the table"
    );
}

/// Privy answers a create with its wallets: ours come from the stream, so the create waits
/// for them, boundedly: either its answer holds them, or it waited the whole bound.
#[tokio::test]
async fn a_privy_create_waits_for_its_wallets_boundedly() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, clients) = clients(&stack, &stack.app).await;
    let (basic, app_id) = privy_basic(&clients);
    let started = std::time::Instant::now();
    let response = http_client()
        .post(format!("{address}/privy/v1/users"))
        .header("Authorization", basic.clone())
        .header("privy-app-id", &app_id)
        .header("Content-Type", "application/json")
        .body(r#"{"linked_accounts":[],"wallets":[{"chain_type":"ethereum"}]}"#)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    let wallets: Vec<&Value> = user["linked_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["connector_type"] == "embedded")
        .collect();
    assert!(
        wallets.len() == 1 || took >= privy::WALLET_WAIT,
        "answered after {took:?} without its wallet"
    );
    assert!(
        took < privy::WALLET_WAIT + std::time::Duration::from_secs(2),
        "{took:?}"
    );
    println!(
        "a privy create with a wallet answered in {took:?}, {} wallet(s)",
        wallets.len()
    );
}

#[test]
fn every_dialect_route_is_in_its_contract_and_back() {
    let trimmed = |path: &str| path.trim_end_matches('/').to_owned();
    let documented: std::collections::BTreeSet<(String, String)> =
        super::contract::Contract::dialects()
            .operations()
            .into_iter()
            .map(|(method, path)| (method, trimmed(&path)))
            .collect();
    let routed: std::collections::BTreeSet<(String, String)> = [
        onboarding::routes(),
        original::routes(),
        ost::routes(),
        privy::routes(),
    ]
    .concat()
    .into_iter()
    .map(|(method, path)| (method.to_string(), trimmed(&path)))
    .chain(
        shared::dialects::ROUTED_APART
            .iter()
            .map(|(method, path, _)| (method.to_string(), trimmed(path))),
    )
    .collect();
    assert_eq!(documented, routed);
}

/// One dialect request, its answer checked against `openapi.dialects.yaml`.
async fn exchange(
    contract: &super::contract::Contract,
    request: reqwest::RequestBuilder,
    template: &str,
) -> (u16, Value) {
    let request = request.build().unwrap();
    let method = request.method().as_str().to_ascii_lowercase();
    let response = http_client().execute(request).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    contract.check(&method, template, status, &body);
    (status, body)
}

#[tokio::test]
async fn every_dialect_answer_matches_its_contract() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let (_, clients) = clients(&stack, &stack.app).await;
    let contract = super::contract::Contract::dialects();
    let http = http_client();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut statuses = Vec::new();

    // The find-or-create API.
    let onboarding = |body: String, key: &str| {
        http.post(format!("{address}/onboarding/v1/users/find-or-create"))
            .header("Authorization", format!("ApiKey {key}"))
            .header("Content-Type", "application/json")
            .body(body)
    };
    let key = clients["onboarding"]["api_key"].as_str().unwrap();
    let body = format!(
        r#"{{"username":"john_{}","address":"0x{}","id_x":{}}}"#,
        &tag[..8],
        &tag[..40.min(tag.len())].repeat(2)[..40],
        u32::from_str_radix(&tag[..6], 16).unwrap()
    );
    let template = "/onboarding/v1/users/find-or-create";
    for (request, expected) in [
        (onboarding(body.clone(), key), 201),
        (onboarding(body.clone(), key), 200),
        (onboarding("{}".into(), key), 400),
        (onboarding(body, "nope"), 401),
    ] {
        let (status, _) = exchange(&contract, request, template).await;
        assert_eq!(status, expected);
        statuses.push(status);
    }

    // Original.
    let original = |request: reqwest::RequestBuilder| {
        request
            .header(
                "X-API-KEY",
                clients["original"]["api_key"].as_str().unwrap(),
            )
            .header(
                "Authorization",
                format!("Bearer {}", clients["original"]["token"].as_str().unwrap()),
            )
    };
    let email = format!("grace.{tag}@example.com");
    let create = || {
        original(http.post(format!("{address}/original/v1/user")))
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"email":"{email}","user_external_id":null}}"#))
    };
    let (_, created) = exchange(&contract, create(), "/original/v1/user").await;
    let uid = created["data"]["uid"].as_str().unwrap().to_owned();
    let lookup = |query: String| original(http.get(format!("{address}/original/v1/user?{query}")));
    for (request, template, expected) in [
        (create(), "/original/v1/user", 409),
        (
            original(http.get(format!("{address}/original/v1/user/{uid}"))),
            "/original/v1/user/{uid}",
            200,
        ),
        (
            original(http.get(format!(
                "{address}/original/v1/user/{}",
                uuid::Uuid::new_v4()
            ))),
            "/original/v1/user/{uid}",
            404,
        ),
        (lookup(format!("email={email}")), "/original/v1/user", 200),
        (
            lookup("user_external_id=nobody".into()),
            "/original/v1/user",
            200,
        ),
        (lookup("email=nope".into()), "/original/v1/user", 400),
        (
            http.get(format!("{address}/original/v1/user/{uid}")),
            "/original/v1/user/{uid}",
            401,
        ),
    ] {
        let (status, _) = exchange(&contract, request, template).await;
        assert_eq!(status, expected, "{template}");
        statuses.push(status);
    }

    // Privy.
    let (basic, app_id) = privy_basic(&clients);
    let privy = |request: reqwest::RequestBuilder| {
        request
            .header("Authorization", basic.clone())
            .header("privy-app-id", &app_id)
    };
    let json_body = |request: reqwest::RequestBuilder, body: Value| {
        request
            .header("Content-Type", "application/json")
            .body(body.to_string())
    };
    let hopper = format!("hopper.{tag}@example.com");
    let create = || {
        json_body(
            privy(http.post(format!("{address}/privy/v1/users"))),
            json!({"linked_accounts": [{"type": "email", "address": hopper},
                                       {"type": "custom_auth", "custom_user_id": tag}]}),
        )
    };
    let (_, user) = exchange(&contract, create(), "/privy/v1/users").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let users = format!("{address}/privy/v1/users");
    let allowlist = format!("{address}/privy/v1/apps/{app_id}/allowlist");
    let entry = json!({"type": "email", "value": format!("batman.{tag}@example.com")});
    for (request, template, expected) in [
        (create(), "/privy/v1/users", 409),
        (
            privy(http.get(format!("{users}/{id}"))),
            "/privy/v1/users/{id}",
            200,
        ),
        (
            privy(http.get(format!("{users}?limit=1"))),
            "/privy/v1/users",
            200,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/email/address"))),
                json!({"address": hopper}),
            ),
            "/privy/v1/users/email/address",
            200,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/custom_auth/id"))),
                json!({"custom_user_id": tag}),
            ),
            "/privy/v1/users/custom_auth/id",
            200,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/phone/number"))),
                json!({"number": "+15550000000"}),
            ),
            "/privy/v1/users/phone/number",
            404,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/{id}/wallets"))),
                json!({"wallets": [{"chain_type": "solana"}]}),
            ),
            "/privy/v1/users/{id}/wallets",
            200,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/{id}/custom_metadata"))),
                json!({"custom_metadata": {"k": 1}}),
            ),
            "/privy/v1/users/{id}/custom_metadata",
            200,
        ),
        (
            json_body(
                privy(http.post(format!("{users}/{id}/accounts/unlink"))),
                json!({"type": "custom_auth", "handle": tag}),
            ),
            "/privy/v1/users/{id}/accounts/unlink",
            200,
        ),
        (
            json_body(privy(http.post(allowlist.clone())), entry.clone()),
            "/privy/v1/apps/{app_id}/allowlist",
            200,
        ),
        (
            privy(http.get(allowlist.clone())),
            "/privy/v1/apps/{app_id}/allowlist",
            200,
        ),
        (
            json_body(privy(http.delete(allowlist.clone())), entry.clone()),
            "/privy/v1/apps/{app_id}/allowlist",
            200,
        ),
        (
            json_body(privy(http.delete(allowlist)), entry),
            "/privy/v1/apps/{app_id}/allowlist",
            404,
        ),
        (
            json_body(
                privy(http.post(users.clone())),
                json!({"linked_accounts": [{"type": "email", "address": "x"}]}),
            ),
            "/privy/v1/users",
            400,
        ),
        (
            http.get(format!("{users}/{id}")),
            "/privy/v1/users/{id}",
            401,
        ),
        (
            privy(http.delete(format!("{users}/{id}"))),
            "/privy/v1/users/{id}",
            204,
        ),
        (
            privy(http.get(format!("{users}/{id}"))),
            "/privy/v1/users/{id}",
            404,
        ),
    ] {
        let (status, _) = exchange(&contract, request, template).await;
        assert_eq!(status, expected, "{template}");
        statuses.push(status);
    }

    // OST: every request signed now, each one once.
    let now = shared::clock::now_ms() / 1000;
    let signed = |endpoint: &str, extra: &[(&str, &str)]| {
        let extra = extra.iter().map(|(n, v)| (n.to_string(), v.to_string()));
        ost_signed(&clients, endpoint, extra.collect(), now)
    };
    let base = format!("{address}/ost/v1");
    let name = format!("Alice {}", &tag[..8]);
    let (_, created) = exchange(
        &contract,
        http.post(format!("{base}/users/"))
            .form(&signed("/users/", &[("name", &name)])),
        "/ost/v1/users/",
    )
    .await;
    let id = created["data"]["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/users/{id}");
    for (request, template, expected) in [
        (
            http.post(format!("{base}{path}"))
                .form(&signed(&path, &[("name", "Alice Smith")])),
            "/ost/v1/users/{id}",
            200,
        ),
        (
            http.get(format!("{base}{path}")).query(&signed(&path, &[])),
            "/ost/v1/users/{id}",
            200,
        ),
        (
            http.get(format!("{base}/users/"))
                .query(&signed("/users/", &[("limit", "2")])),
            "/ost/v1/users/",
            200,
        ),
        (
            http.get(format!("{base}/users/"))
                .query(&signed("/users/", &[("order", "asc")])),
            "/ost/v1/users/",
            400,
        ),
        (
            http.post(format!("{base}/users/"))
                .form(&signed("/users/", &[("name", "A")])),
            "/ost/v1/users/",
            400,
        ),
        (
            http.get(format!("{base}/users/{}", uuid::Uuid::new_v4()))
                .query(&[("api_key", "x")]),
            "/ost/v1/users/{id}",
            401,
        ),
    ] {
        let (status, _) = exchange(&contract, request, template).await;
        assert_eq!(status, expected, "{template}");
        statuses.push(status);
    }
    println!(
        "{} answers checked against openapi.dialects.yaml: {statuses:?}",
        statuses.len()
    );
}
