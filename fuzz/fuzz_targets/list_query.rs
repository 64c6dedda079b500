//! `GET /v1/users?…`: the query parsed by `UsersQuery::from_query`, and list cursors
//! (`paging::decode` / `encode`).
//!
//! Input: a raw query string (`limit=5&cursor=…`, no percent-decoding: names and values are
//! taken as API Gateway hands them over) that is also tried whole as a cursor.
//!
//! Asserts: never panics; a rejection names at least one field; a listing's limit is within
//! 1 to 100; a cursor decodes only for the app it was issued to and only in the exact
//! spelling `encode` gives (so an accepted cursor is one the API issued); every user id
//! round-trips through a cursor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::paging;
use shared::edge::api::bodies::{PAGE_LIMITS, UsersQuery};
use shared::model::{AppId, UserId};

fn app(text: &str) -> AppId {
    AppId::parse(text).unwrap_or_else(|| panic!("bad app id {text}"))
}

fn check_cursor(cursor: &str) {
    let (ours, theirs) = (
        app("app_0123456789abcdef0123456789abcdef"),
        app("app_fedcba9876543210fedcba9876543210"),
    );
    if let Some(last) = paging::decode(&ours, cursor) {
        assert_eq!(paging::encode(&ours, last), cursor, "a second spelling");
        assert_eq!(
            paging::decode(&theirs, cursor),
            None,
            "another app's cursor"
        );
    }
}

/// A user id from 16 bytes, spelt as the API shows ids.
fn user_id(bytes: &[u8; 16]) -> UserId {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    UserId::parse(&text).unwrap_or_else(|| panic!("{text} is not a user id"))
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    if let Some(bytes) = data.first_chunk::<16>() {
        let ours = app("app_0123456789abcdef0123456789abcdef");
        let id = user_id(bytes);
        assert_eq!(paging::decode(&ours, &paging::encode(&ours, id)), Some(id));
    }
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    check_cursor(query);
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    match UsersQuery::from_query(&params) {
        Err(errors) => assert!(!errors.is_empty()),
        Ok(UsersQuery::List { limit, cursor, .. }) => {
            assert!((1..=PAGE_LIMITS.1).contains(&limit));
            if let Some(cursor) = cursor {
                check_cursor(&cursor);
            }
        }
        Ok(UsersQuery::Lookup(lookup)) => assert!(!lookup.identifier().value().is_empty()),
    }
});
