//! `GET /v1/users?limit=&cursor=&username=`: paging an app's users newest first, on every
//! store, and by username.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use api_tests::{Backend, TestStack, assert_error, parts, request};
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use serde_json::{Value, json};

async fn create_many<S: Backend>(stack: &TestStack<S>, key: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    // In waves, so DynamoDB Local is kept busy but not flooded.
    for wave in (0..count).collect::<Vec<_>>().chunks(25) {
        let created = join_all(wave.iter().map(|_| async {
            let body = json!({});
            let request = request("POST", "/v1/users", key, Some(&body));
            parts(&create_user::handle(&stack.store, request).await)
        }))
        .await;
        for (status, body) in created {
            assert_eq!(status, 201, "{body}");
            ids.push(body["data"]["id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

async fn page<S: Backend>(stack: &TestStack<S>, key: &str, query: &str) -> Value {
    let response = get_user::handle(
        &stack.store,
        request("GET", &format!("/v1/users{query}"), key, None),
    )
    .await;
    let (status, body) = parts(&response);
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn paging_while_users_are_created_never_skips_or_repeats<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    let existing: HashSet<String> = create_many(&stack, &key, 250).await.into_iter().collect();

    let writer = {
        let stack_key = key.clone();
        let store = stack.store.clone();
        tokio::spawn(async move {
            for _ in 0..60 {
                let body = json!({});
                create_user::handle(
                    &store,
                    request("POST", "/v1/users", &stack_key, Some(&body)),
                )
                .await;
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?limit=7&cursor={cursor}"),
            None => "?limit=7".to_owned(),
        };
        let data = page(&stack, &key, &query).await;
        let ids = ids_of(&data);
        assert!(ids.len() <= 7);
        seen.extend(ids);
        pages += 1;
        match data["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    writer.await.unwrap();

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a user was repeated");
    for id in &existing {
        assert!(unique.contains(id), "user {id} was skipped");
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "pages run newest first");
    assert!(pages >= 36, "{pages} pages for at least 250 users of 7");
}

async fn pages_end_with_a_null_cursor_and_show_only_the_apps_users<S: Backend>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let empty = page(&stack, &key, "").await;
    assert_eq!(empty, json!({"users": [], "next_cursor": null}));

    let mine = create_many(&stack, &key, 4).await;
    let (_, other_key) = stack.other_app().await;
    create_many(&stack, &other_key, 3).await;
    let first = page(&stack, &key, "?limit=2").await;
    let mut expected = mine.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids_of(&first), expected[..2]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&stack, &key, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids_of(&second), expected[2..]);
    assert_eq!(
        second["next_cursor"],
        Value::Null,
        "exactly a page left: no empty page after"
    );
    assert_eq!(
        ids_of(&page(&stack, &key, "").await).len(),
        4,
        "default limit"
    );
}

async fn foreign_tampered_and_out_of_range_queries_are_400<S: Backend>(stack: TestStack<S>) {
    let key = stack.api_key.clone();
    create_many(&stack, &key, 3).await;
    let cursor = page(&stack, &key, "?limit=1").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = stack.other_app().await;
    let foreign = request(
        "GET",
        &format!("/v1/users?cursor={cursor}"),
        &other_key,
        None,
    );
    let body = assert_error(
        &get_user::handle(&stack.store, foreign).await,
        400,
        "validation_failed",
    );
    assert_eq!(body["error"]["details"][0]["field"], "cursor");
    let tampered = format!("{}x", &cursor);
    for query in [
        format!("?cursor={tampered}"),
        "?cursor=abc".to_owned(),
        "?limit=0".to_owned(),
        "?limit=101".to_owned(),
        "?limit=ten".to_owned(),
        "?limit=5&limit=6".to_owned(),
        "?external_id=x&cursor=abc".to_owned(),
    ] {
        let response = get_user::handle(
            &stack.store,
            request("GET", &format!("/v1/users{query}"), &key, None),
        )
        .await;
        assert_error(&response, 400, "validation_failed");
    }
}

/// The ids of every page of `query` (with `limit=1`), followed to the end.
async fn paged<S: Backend>(stack: &TestStack<S>, key: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("?{query}&limit=1&cursor={cursor}"),
            None => format!("?{query}&limit=1"),
        };
        let data = page(stack, key, &query).await;
        ids.extend(ids_of(&data));
        match data["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

async fn listing_by_username_is_case_blind_follows_renames_and_stays_in_the_app<S: Backend>(
    stack: TestStack<S>,
) {
    let key = stack.api_key.clone();
    let create = |body: Value| {
        let request = request("POST", "/v1/users", &key, Some(&body));
        async { parts(&create_user::handle(&stack.store, request).await) }
    };
    let mut ids = Vec::new();
    for body in [
        json!({"username": "Ada"}),
        json!({"username": "ada"}),
        json!({"username": "bob"}),
        json!({"username": "ADA"}),
        // A twitter account named ada is not the user's own username.
        json!({"linked_accounts": [{"type": "twitter", "subject": "1", "username": "ada"}]}),
        json!({"username": "@ada"}),
    ] {
        let (status, body) = create(body).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let newest_first = |indexes: &[usize]| -> Vec<String> {
        indexes.iter().rev().map(|&i| ids[i].clone()).collect()
    };
    let (other_app, other_key) = stack.other_app().await;
    let body = json!({"username": "ada"});
    let (status, _) = parts(
        &create_user::handle(
            &stack.store,
            request("POST", "/v1/users", &other_key, Some(&body)),
        )
        .await,
    );
    assert_eq!(status, 201);
    assert_ne!(other_app, stack.app);

    let ada = page(&stack, &key, "?username=aDa").await;
    assert_eq!(ids_of(&ada), newest_first(&[0, 1, 3]));
    assert_eq!(ada["next_cursor"], Value::Null);
    assert_eq!(
        paged(&stack, &key, "username=ada").await,
        newest_first(&[0, 1, 3])
    );
    assert_eq!(
        ids_of(&page(&stack, &key, "?username=bob").await),
        [ids[2].clone()]
    );
    assert_eq!(
        ids_of(&page(&stack, &key, "?username=@ada").await),
        [ids[5].clone()]
    );
    assert!(ids_of(&page(&stack, &key, "?username=nobody").await).is_empty());

    // With a status: the index holds no status, so pages can be short but never end early.
    let path = format!("/v1/users/{}/disable", ids[1]);
    let disabled = update_user::handle(&stack.store, request("POST", &path, &key, None)).await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        ids_of(&page(&stack, &key, "?username=ada&status=disabled").await),
        [ids[1].clone()]
    );
    assert_eq!(
        paged(&stack, &key, "username=ada&status=active").await,
        newest_first(&[0, 3])
    );

    // A rename moves the user between usernames; a deleted user leaves.
    let renamed = json!({"username": "carol"});
    let path = format!("/v1/users/{}", ids[3]);
    let patch = request("PATCH", &path, &key, Some(&renamed));
    assert_eq!(update_user::handle(&stack.store, patch).await.status(), 200);
    let path = format!("/v1/users/{}", ids[0]);
    let delete = request("DELETE", &path, &key, None);
    let deleted = delete_user::handle(&stack.store, Duration::from_secs(86400), delete).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        ids_of(&page(&stack, &key, "?username=ada").await),
        [ids[1].clone()]
    );
    assert_eq!(
        ids_of(&page(&stack, &key, "?username=CAROL").await),
        [ids[3].clone()]
    );

    for query in [
        "?username=ab",
        "?username=ada&email=a@example.com",
        "?username=",
    ] {
        let response = get_user::handle(
            &stack.store,
            request("GET", &format!("/v1/users{query}"), &key, None),
        )
        .await;
        assert_error(&response, 400, "validation_failed");
    }
}

/// Users written before usernames were indexed have no entries: `reindex-handles` writes them,
/// once, and an entry whose user does not carry the username is never listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reindexing_lists_users_written_before_usernames_were_indexed() {
    use shared::adapters::dynamo::keys;
    use shared::model::{Handle, UserId};

    let stack = TestStack::new().await;
    let key = stack.api_key.clone();
    let mut ids = Vec::new();
    for username in ["ada", "Ada", "carl"] {
        let body = json!({"username": username});
        let request = request("POST", "/v1/users", &key, Some(&body));
        let (status, body) = parts(&create_user::handle(&stack.store, request).await);
        assert_eq!(status, 201, "{body}");
        ids.push(UserId::parse(body["data"]["id"].as_str().unwrap()).unwrap());
    }
    let entry = |user: UserId| {
        [
            ("pk", keys::handle_pk(&stack.app, &Handle::own("ada"))),
            ("sk", keys::handle_sk(user)),
        ]
        .map(|(name, value)| (name.to_owned(), AttributeValue::S(value)))
        .into_iter()
        .collect::<HashMap<_, _>>()
    };
    // The first user as a stack from before wrote it; an entry for carl, who is not ada.
    let client = stack.store.client();
    client
        .delete_item()
        .table_name(stack.table())
        .set_key(Some(entry(ids[0])))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .unwrap()
        .attributes
        .expect("the create wrote the first user's entry");
    let mut stale = entry(ids[2]);
    stale.insert("entity".into(), AttributeValue::S("handle".into()));
    stale.insert("user_id".into(), AttributeValue::S(ids[2].to_string()));
    client
        .put_item()
        .table_name(stack.table())
        .set_item(Some(stale))
        .send()
        .await
        .unwrap();
    let listed = || async { ids_of(&page(&stack, &key, "?username=ada").await) };
    assert_eq!(listed().await, [ids[1].to_string()]);

    assert_eq!(stack.store.reindex_handles().await.unwrap(), 3);
    assert_eq!(listed().await, [ids[1].to_string(), ids[0].to_string()]);
    let after = stack.items().await;
    assert_eq!(stack.store.reindex_handles().await.unwrap(), 3);
    assert_eq!(
        stack.items().await,
        after,
        "a second run writes the same items"
    );
}

api_tests::on_every_store!(
    listing_by_username_is_case_blind_follows_renames_and_stays_in_the_app,
    paging_while_users_are_created_never_skips_or_repeats,
    pages_end_with_a_null_cursor_and_show_only_the_apps_users,
    foreign_tampered_and_out_of_range_queries_are_400,
);
