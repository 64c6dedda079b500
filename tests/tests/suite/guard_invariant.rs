//! A property test: random sequences of creates, patches, links, unlinks and deletes over a
//! small pool of identifiers (so they collide often) never leave an orphan guard or an
//! identifier without its guard. The table is scanned after every step.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{TestStack, request};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Create {
        email: Option<u8>,
        phone: Option<u8>,
    },
    PatchEmail {
        user: u8,
        email: Option<u8>,
    },
    Link {
        user: u8,
        phone: u8,
    },
    Unlink {
        user: u8,
        phone: u8,
    },
    Delete {
        user: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0u8..4;
    prop_oneof![
        (
            proptest::option::of(slot.clone()),
            proptest::option::of(slot.clone())
        )
            .prop_map(|(email, phone)| Op::Create { email, phone }),
        (0u8..6, proptest::option::of(slot.clone()))
            .prop_map(|(user, email)| Op::PatchEmail { user, email }),
        (0u8..6, slot.clone()).prop_map(|(user, phone)| Op::Link { user, phone }),
        (0u8..6, slot).prop_map(|(user, phone)| Op::Unlink { user, phone }),
        (0u8..6).prop_map(|user| Op::Delete { user }),
    ]
}

fn email(slot: u8) -> String {
    format!("user{slot}@example.com")
}

fn phone(slot: u8) -> String {
    format!("+1415555010{slot}")
}

async fn run(ops: Vec<Op>) {
    let stack = TestStack::new().await;
    let key = stack.api_key.clone();
    let mut users: Vec<String> = Vec::new();
    let pick = |users: &Vec<String>, i: u8| users.get(i as usize % users.len().max(1)).cloned();
    for op in ops {
        match op {
            Op::Create { email: e, phone: p } => {
                let mut body = json!({"wallets": []});
                if let Some(e) = e {
                    body["email"] = json!(email(e));
                }
                if let Some(p) = p {
                    body["linked_accounts"] = json!([{"type": "phone", "number": phone(p)}]);
                }
                let response = create_user::handle(
                    &stack.store,
                    request("POST", "/v1/users", &key, Some(&body)),
                )
                .await;
                let (status, body) = api_tests::parts(&response);
                assert!([201, 409].contains(&status), "{body}");
                if status == 201 {
                    users.push(body["data"]["id"].as_str().unwrap().to_owned());
                }
            }
            Op::PatchEmail { user, email: e } => {
                let Some(id) = pick(&users, user) else {
                    continue;
                };
                let patch = json!({ "email": e.map(email).map_or(Value::Null, Value::from) });
                let response = update_user::handle(
                    &stack.store,
                    request("PATCH", &format!("/v1/users/{id}"), &key, Some(&patch)),
                )
                .await;
                assert!([200, 404, 409].contains(&response.status().as_u16()));
            }
            Op::Link { user, phone: p } => {
                let Some(id) = pick(&users, user) else {
                    continue;
                };
                let account = json!({"type": "phone", "number": phone(p)});
                let response = link_account::handle(
                    &stack.store,
                    request(
                        "POST",
                        &format!("/v1/users/{id}/linked-accounts"),
                        &key,
                        Some(&account),
                    ),
                )
                .await;
                assert!([200, 201, 404, 409].contains(&response.status().as_u16()));
            }
            Op::Unlink { user, phone: p } => {
                let Some(id) = pick(&users, user) else {
                    continue;
                };
                let path = format!(
                    "/v1/users/{id}/linked-accounts/phone/{}",
                    phone(p).replace('+', "%2B")
                );
                let response =
                    unlink_account::handle(&stack.store, request("DELETE", &path, &key, None))
                        .await;
                assert!([200, 404].contains(&response.status().as_u16()));
            }
            Op::Delete { user } => {
                let Some(id) = pick(&users, user) else {
                    continue;
                };
                let retention = std::time::Duration::from_secs(86400);
                let response = delete_user::handle(
                    &stack.store,
                    retention,
                    request("DELETE", &format!("/v1/users/{id}"), &key, None),
                )
                .await;
                assert!([204, 404].contains(&response.status().as_u16()));
            }
        }
        stack.assert_guards_match_users().await;
    }
}

proptest! {
    // Each case makes a table and scans it after every step: a few dozen cases cover the
    // interleavings without slowing CI.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn guards_never_drift_from_users(ops in proptest::collection::vec(op(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
