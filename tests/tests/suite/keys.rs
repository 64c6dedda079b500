//! An app's API keys over HTTP (`GET`/`POST /v1/keys`, `DELETE /v1/keys/{id}`, `admin`), as
//! the web console uses them, through the local API: a key issued this way authenticates
//! (natively and through the dialects), holds only its scopes and stops at its revocation;
//! listings show no hash or secret and mark the caller's key; a key without `admin`, or a bad
//! body, changes nothing; and no issued key lands in the table, Idempotency-Key or not.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::TestStack;
use serde_json::{Value, json};
use shared::domain::apps;
use shared::model::Scope;

/// A client of the local API at `address` (`http://127.0.0.1:<port>`).
struct Api {
    address: String,
    http: reqwest::Client,
}

/// An answer: status, the `Idempotent-Replayed` header, and the body as JSON (`Null` if none).
struct Answer {
    status: u16,
    replayed: bool,
    body: Value,
}

impl Api {
    async fn new(stack: &TestStack) -> Self {
        let (address, _) = stack.serve().await;
        Self {
            address,
            http: shared::tls::reqwest_builder().build().unwrap(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.address))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("idempotency-key", idempotency_key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let text = response.text().await.unwrap();
        Answer {
            status,
            replayed,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn call(&self, method: &str, path: &str, key: &str, body: Option<&Value>) -> Answer {
        self.send(method, path, key, body, None).await
    }

    /// `POST /v1/keys` with `body`, expected to issue a key: its `data`.
    async fn issue(&self, key: &str, body: &Value) -> Value {
        let answer = self.call("POST", "/v1/keys", key, Some(body)).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body["data"].clone()
    }

    /// `GET /v1/keys` with `key`: the listed keys.
    async fn keys(&self, key: &str) -> Vec<Value> {
        let answer = self.call("GET", "/v1/keys", key, None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["success"], true);
        answer.body["data"]["keys"].as_array().unwrap().clone()
    }
}

/// Asserts `answer` is the error envelope with `status` and `code`; its error.
fn refused(answer: &Answer, status: u16, code: &str) -> Value {
    assert_eq!(
        (answer.status, &answer.body["error"]["code"]),
        (status, &json!(code)),
        "{}",
        answer.body
    );
    answer.body["error"].clone()
}

/// The listed key with `key_id`.
fn listed<'k>(keys: &'k [Value], key_id: &str) -> &'k Value {
    keys.iter()
        .find(|key| key["key_id"] == key_id)
        .unwrap_or_else(|| panic!("{key_id} is not listed: {keys:?}"))
}

/// A key issued over the API authenticates (natively and as Original's client), holds exactly
/// its scopes, is listed without secrets with the caller's key marked, and is refused once
/// revoked; revoking one's own key is allowed; a key grants only what it holds.
#[tokio::test]
async fn a_key_issued_over_http_holds_its_scopes_until_revoked() {
    let stack = TestStack::new().await;
    let api = Api::new(&stack).await;
    let admin = &stack.api_key;

    let issued = api
        .issue(admin, &json!({"scopes": ["users:write", "users:read"]}))
        .await;
    let token = issued["api_key"].as_str().unwrap().to_owned();
    let key_id = issued["key_id"].as_str().unwrap().to_owned();
    assert_eq!(shared::edge::auth::key_id_of(&token), Some(key_id.as_str()));
    assert_eq!(issued["scopes"], json!(["users:read", "users:write"]));
    assert_eq!(
        (
            &issued["last_used_at"],
            &issued["revoked_at"],
            &issued["current"]
        ),
        (&Value::Null, &Value::Null, &json!(false))
    );
    assert!(issued["created_at"].is_string(), "{issued}");
    assert_eq!(issued["clients"]["original"]["api_key"], json!(key_id));

    // Within its scopes.
    let created = api
        .call(
            "POST",
            "/v1/users",
            &token,
            Some(&json!({"email": "ada@example.com"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user = created.body["data"]["id"].as_str().unwrap().to_owned();
    let read = api
        .call("GET", &format!("/v1/users/{user}"), &token, None)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    // Original's client, configured as the response says, speaks for the same key.
    let original = &issued["clients"]["original"];
    let dialect = api
        .http
        .get(format!(
            "{}/original/v1/user?email=ada@example.com",
            api.address
        ))
        .header("x-api-key", original["api_key"].as_str().unwrap())
        .bearer_auth(original["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(dialect.status(), 200);
    // Beyond them.
    for (method, path, body, needed) in [
        (
            "POST",
            "/v1/webhooks",
            Some(json!({"url": "https://example.com/hook"})),
            "webhooks",
        ),
        ("GET", "/v1/keys", None, "admin"),
        ("POST", "/v1/keys", Some(json!({})), "admin"),
    ] {
        let answer = api.call(method, path, &token, body.as_ref()).await;
        let error = refused(&answer, 403, "insufficient_scope");
        assert!(
            error["message"].as_str().unwrap().contains(needed),
            "{method} {path}: {error}"
        );
    }

    // Listed with its use, never a secret; `current` is the caller's key, whichever it is.
    let keys = api.keys(admin).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    let text = Value::Array(keys.clone()).to_string();
    for secret in ["key_hash", "wusk_", "wucs_", "client_secret", "api_key"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let fields: Vec<&str> = listed(&keys, &key_id)
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "key_id",
            "scopes",
            "created_at",
            "last_used_at",
            "revoked_at",
            "current"
        ]
    );
    assert!(listed(&keys, &key_id)["last_used_at"].is_string());
    let admin_id = shared::edge::auth::key_id_of(admin).unwrap();
    assert_eq!(listed(&keys, admin_id)["current"], true);
    assert_eq!(listed(&keys, &key_id)["current"], false);
    assert_eq!(
        listed(&keys, admin_id)["scopes"],
        json!(Scope::ALL.map(Scope::as_str))
    );
    let second = api.issue(admin, &json!({"scopes": ["admin"]})).await;
    let second_token = second["api_key"].as_str().unwrap().to_owned();
    let second_id = second["key_id"].as_str().unwrap().to_owned();
    let seen_by_second = api.keys(&second_token).await;
    let current: Vec<&Value> = seen_by_second
        .iter()
        .filter(|key| key["current"] == true)
        .map(|key| &key["key_id"])
        .collect();
    assert_eq!(current, [&json!(second_id)]);

    // A key grants only the scopes it holds: `admin` alone cannot mint one that signs.
    let everything = api
        .call("POST", "/v1/keys", &second_token, Some(&json!({})))
        .await;
    refused(&everything, 403, "insufficient_scope");
    let signer = api
        .call(
            "POST",
            "/v1/keys",
            &second_token,
            Some(&json!({"scopes": ["wallets:sign"]})),
        )
        .await;
    let error = refused(&signer, 403, "insufficient_scope");
    assert!(error["message"].as_str().unwrap().contains("wallets:sign"));
    assert_eq!(api.keys(admin).await.len(), 3);

    // Revoked: its next request is refused, and it is listed so.
    let revoke = api
        .call("DELETE", &format!("/v1/keys/{key_id}"), admin, None)
        .await;
    assert_eq!((revoke.status, &revoke.body), (204, &Value::Null));
    let after = api
        .call("GET", &format!("/v1/users/{user}"), &token, None)
        .await;
    refused(&after, 401, "unauthorized");
    let dialect = api
        .http
        .get(format!(
            "{}/original/v1/user?email=ada@example.com",
            api.address
        ))
        .header("x-api-key", original["api_key"].as_str().unwrap())
        .bearer_auth(original["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(dialect.status(), 401);
    let keys = api.keys(admin).await;
    assert!(listed(&keys, &key_id)["revoked_at"].is_string(), "{keys:?}");
    assert!(listed(&keys, admin_id)["revoked_at"].is_null());

    // Already revoked, unknown, malformed, or another app's: 404, changing nothing.
    let (other_app, other_key) = stack.other_app().await;
    let other_id = apps::list_api_keys(&stack.store, &other_app)
        .await
        .unwrap()
        .remove(0)
        .key_id;
    let before = stack.snapshot().await;
    for id in [key_id.as_str(), "0011223344556677", "nope", &other_id] {
        let answer = api
            .call("DELETE", &format!("/v1/keys/{id}"), admin, None)
            .await;
        refused(&answer, 404, "not_found");
    }
    assert_eq!(stack.snapshot().await, before);
    let theirs = api.call("GET", "/v1/keys", &other_key, None).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.body["data"]["keys"].as_array().unwrap().len(), 1);

    // The key making the request may revoke itself; it is refused from then on.
    let own = api
        .call(
            "DELETE",
            &format!("/v1/keys/{second_id}"),
            &second_token,
            None,
        )
        .await;
    assert_eq!(own.status, 204, "{}", own.body);
    let gone = api.call("GET", "/v1/keys", &second_token, None).await;
    refused(&gone, 401, "unauthorized");
}

/// A key without `admin` is refused on every key route, and a body naming no scope, an
/// unknown one or one twice is a 400 naming it: neither issues, revokes or changes anything.
#[tokio::test]
async fn a_key_without_admin_or_a_bad_body_changes_no_key() {
    let stack = TestStack::new().await;
    let api = Api::new(&stack).await;
    let without_admin = apps::issue_api_key(
        &stack.store,
        &api_tests::wallets::stack_sealer(),
        &stack.app,
        &[
            Scope::UsersRead,
            Scope::UsersWrite,
            Scope::WalletsSign,
            Scope::Webhooks,
        ],
    )
    .await
    .unwrap();
    let admin_id = shared::edge::auth::key_id_of(&stack.api_key).unwrap();
    let before = stack.snapshot().await;
    for (method, path, body) in [
        ("GET", "/v1/keys".to_owned(), None),
        ("POST", "/v1/keys".to_owned(), Some(json!({}))),
        (
            "POST",
            "/v1/keys".to_owned(),
            Some(json!({"scopes": ["admin"]})),
        ),
        ("DELETE", format!("/v1/keys/{admin_id}"), None),
    ] {
        let answer = api
            .call(method, &path, &without_admin.token, body.as_ref())
            .await;
        let error = refused(&answer, 403, "insufficient_scope");
        assert!(
            error["message"].as_str().unwrap().contains("admin"),
            "{method} {path}: {error}"
        );
    }
    for (body, field) in [
        (json!({"scopes": []}), "scopes"),
        (json!({"scopes": null}), "scopes"),
        (json!({"scopes": "admin"}), "scopes"),
        (
            json!({"scopes": ["users:read", "users:admin"]}),
            "scopes[1]",
        ),
        (json!({"scopes": ["admin", 7]}), "scopes[1]"),
        (json!({"scopes": ["admin", "admin"]}), "scopes[1]"),
        (json!({"scopes": ["admin"], "name": "ci"}), "name"),
        (json!(["admin"]), ""),
    ] {
        let answer = api
            .call("POST", "/v1/keys", &stack.api_key, Some(&body))
            .await;
        let error = refused(&answer, 400, "validation_failed");
        assert_eq!(error["details"][0]["field"], field, "{body}: {error}");
    }
    assert_eq!(
        stack.snapshot().await,
        before,
        "a refused request changed something"
    );
    assert_eq!(api.keys(&stack.api_key).await.len(), 2);
}

/// Issuing a key ignores `Idempotency-Key` (a replay would have to store the key): each
/// request issues its own key and none is stored in plain text, nor any response for the
/// header. Revoking honours it: a retry replays the `204`.
#[tokio::test]
async fn issuing_ignores_idempotency_key_and_leaves_no_key_in_the_table() {
    let stack = TestStack::new().await;
    let api = Api::new(&stack).await;
    let body = json!({"scopes": ["users:read"]});
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let answer = api
            .send(
                "POST",
                "/v1/keys",
                &stack.api_key,
                Some(&body),
                Some("issue-1"),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert!(!answer.replayed);
        tokens.push(answer.body["data"].clone());
    }
    assert_ne!(tokens[0]["key_id"], tokens[1]["key_id"]);
    let items = format!("{:?}", stack.items().await);
    for issued in &tokens {
        for secret in [
            &issued["api_key"],
            &issued["clients"]["original"]["api_secret"],
            &issued["clients"]["original"]["token"],
        ] {
            let secret = secret.as_str().unwrap();
            assert!(!items.contains(secret), "{}… is in the table", &secret[..8]);
        }
    }
    assert!(
        stack
            .items_with_sk(shared::adapters::dynamo::keys::SK_IDEMPOTENCY)
            .await
            .is_empty()
    );

    let path = format!("/v1/keys/{}", tokens[0]["key_id"].as_str().unwrap());
    let first = api
        .send("DELETE", &path, &stack.api_key, None, Some("revoke-1"))
        .await;
    assert_eq!((first.status, first.replayed), (204, false));
    let retry = api
        .send("DELETE", &path, &stack.api_key, None, Some("revoke-1"))
        .await;
    assert_eq!((retry.status, retry.replayed), (204, true));
    let unkeyed = api.call("DELETE", &path, &stack.api_key, None).await;
    refused(&unkeyed, 404, "not_found");
}
