//! Email confusables on the login path: uniqueness folds NFKC (a create of `ａｄａ@x.com`
//! beside `ada@x.com` is a 409), but a lookup or find-or-create matches a user only on its
//! mailbox (ASCII case and the domain's IDNA form folded): a spelling that collides only under
//! NFKC is a 409 naming `email`, never someone else's user.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::dialects::privy_basic;
use api_tests::wallets::stack_sealer;
use api_tests::{Backend, TestStack, parts, request};
use serde_json::{Value, json};
use shared::dialects::credentials;

/// Spellings that share `ada@x.com`-style uniqueness keys with a victim's address but are not
/// its mailbox: (the victim's address, the attacker's spelling).
const CONFUSABLES: [(&str, &str); 5] = [
    ("ada@x.com", "ａｄａ@x.com"),
    ("ada2@x.com", "ada²@x.com"),
    ("ada@y.com", "𝐚𝐝𝐚@y.com"),
    ("finn@x.com", "ﬁnn@x.com"),
    ("sam@x.com", "ſam@x.com"),
];

fn error_fields(body: &Value) -> Vec<&str> {
    body["error"]["details"]
        .as_array()
        .map(|details| details.iter().filter_map(|d| d["field"].as_str()).collect())
        .unwrap_or_default()
}

async fn call<S: Backend>(
    stack: &TestStack<S>,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let key = &stack.api_key;
    match method {
        "create" => {
            parts(&create_user::handle(&stack.store, request("POST", path, key, Some(&body))).await)
        }
        "find-or-create" => parts(
            &find_or_create_user::handle(&stack.store, request("POST", path, key, Some(&body)))
                .await,
        ),
        _ => parts(&get_user::handle(&stack.store, request("GET", path, key, None)).await),
    }
}

fn lookup_path(email: &str) -> String {
    format!("/v1/users?email={email}")
}

async fn a_confusable_spelling_never_logs_in_as_another_user<S: Backend>(stack: TestStack<S>) {
    for (victim, spelling) in CONFUSABLES {
        let (status, created) = call(&stack, "create", "/v1/users", json!({"email": victim})).await;
        assert_eq!(status, 201, "{created}");
        // Uniqueness still folds the spelling onto the victim's address.
        let (status, body) = call(&stack, "create", "/v1/users", json!({"email": spelling})).await;
        assert_eq!(
            (status, error_fields(&body)),
            (409, vec!["email"]),
            "create {spelling}: {body}"
        );

        let (status, body) = call(
            &stack,
            "find-or-create",
            "/v1/users/find-or-create",
            json!({"email": spelling}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), error_fields(&body)),
            (409, Some("conflict"), vec!["email"]),
            "find-or-create {spelling}: {body}"
        );
        let (status, body) = call(&stack, "get", &lookup_path(spelling), Value::Null).await;
        assert_eq!(
            (status, body["error"]["code"].as_str(), error_fields(&body)),
            (409, Some("conflict"), vec!["email"]),
            "GET ?email={spelling}: {body}"
        );
    }
    assert_eq!(
        stack.user_count().await,
        CONFUSABLES.len(),
        "no user created"
    );
    stack.assert_guards_match_users().await;
}

async fn ascii_case_and_domain_spellings_still_find_the_user<S: Backend>(stack: TestStack<S>) {
    let (status, created) =
        call(&stack, "create", "/v1/users", json!({"email": "ada@x.com"})).await;
    assert_eq!(status, 201, "{created}");
    let (_, idn) = call(
        &stack,
        "create",
        "/v1/users",
        json!({"email": "Ada@Bücher.example"}),
    )
    .await;
    for (spelling, user) in [
        ("ADA@X.COM", &created),
        ("ada@X.com", &created),
        ("ada@xn--bcher-kva.example", &idn),
        ("ADA@BÜCHER.EXAMPLE", &idn),
    ] {
        let (status, found) = call(
            &stack,
            "find-or-create",
            "/v1/users/find-or-create",
            json!({"email": spelling}),
        )
        .await;
        assert_eq!(
            (status, &found["data"]["user"]["id"]),
            (200, &user["data"]["id"]),
            "find-or-create {spelling}: {found}"
        );
        let (status, found) = call(&stack, "get", &lookup_path(spelling), Value::Null).await;
        assert_eq!(
            (status, &found["data"]["id"]),
            (200, &user["data"]["id"]),
            "GET ?email={spelling}: {found}"
        );
    }
    assert_eq!(stack.user_count().await, 2);
}

api_tests::on_every_store!(
    a_confusable_spelling_never_logs_in_as_another_user,
    ascii_case_and_domain_spellings_still_find_the_user,
);

/// Privy's lookup by email, through the local API: its own 409, naming the field it was given.
#[tokio::test]
async fn privys_email_lookup_refuses_a_confusable_spelling() {
    let stack = TestStack::new().await;
    let (address, _) = stack.serve().await;
    let key = shared::domain::apps::issue_api_key(
        &stack.store,
        &stack_sealer(),
        &stack.app,
        &shared::model::Scope::ALL,
    )
    .await
    .unwrap();
    let clients = credentials::clients(&stack.app, &key);
    let (authorization, app_id) = privy_basic(&clients);
    let (status, created) =
        call(&stack, "create", "/v1/users", json!({"email": "ada@x.com"})).await;
    assert_eq!(status, 201, "{created}");
    for victim in ["ada2@x.com", "finn@x.com", "sam@x.com"] {
        let (status, body) = call(&stack, "create", "/v1/users", json!({"email": victim})).await;
        assert_eq!(status, 201, "{body}");
    }
    let http = shared::tls::reqwest_builder().build().unwrap();
    let lookup = |email: &str| {
        http.post(format!("{address}/privy/v1/users/email/address"))
            .header("Authorization", &authorization)
            .header("privy-app-id", &app_id)
            .json(&json!({ "address": email }))
            .send()
    };
    let found = lookup("ADA@x.com").await.unwrap();
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    let did = format!("did:privy:{}", created["data"]["id"].as_str().unwrap());
    assert_eq!(found["id"], json!(did), "{found}");
    for (_, spelling) in CONFUSABLES {
        let refused = lookup(&spelling.replace("@y.com", "@x.com")).await.unwrap();
        let status = refused.status().as_u16();
        let body: Value = refused.json().await.unwrap();
        assert_eq!(
            (status, &body["code"]),
            (409, &json!("conflict")),
            "{spelling}: {body}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("email"),
            "names the field: {body}"
        );
    }
}
