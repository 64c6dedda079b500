//! `GET /v1/users?limit=&cursor=`: paging an app's users newest first, on every store.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use api_tests::{Backend, TestStack, assert_error, parts, request};
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

api_tests::on_every_store!(
    paging_while_users_are_created_never_skips_or_repeats,
    pages_end_with_a_null_cursor_and_show_only_the_apps_users,
    foreign_tampered_and_out_of_range_queries_are_400,
);
