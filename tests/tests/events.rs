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
}
