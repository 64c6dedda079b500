//! The body of `POST /v1/users/import`: `{"users": [ … ]}`, read through the API's edge and
//! parsed by `edge::api::bodies::parse_batch`.
//!
//! Asserts: never panics; a rejected batch names at least one field; an accepted batch holds
//! 1 to `MAX_BATCH` items, one result per item in order, each exactly what `NewUser::parse`
//! makes of that item (an item's errors never leak into another's).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::domain::users::MAX_BATCH;
use shared::edge::api::bodies::parse_batch;
use shared::model::NewUser;

fuzz_target!(|data: &[u8]| {
    let Some(body) = shared_fuzz::api_body("/v1/users/import", data) else {
        return;
    };
    match parse_batch(&body) {
        Err(errors) => assert!(!errors.is_empty(), "rejected without a reason: {body}"),
        Ok(items) => {
            let users = body
                .get("users")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert!((1..=MAX_BATCH).contains(&items.len()));
            assert_eq!(items.len(), users.len());
            for (item, user) in items.iter().zip(users) {
                assert_eq!(item, &NewUser::parse(user));
                if let Err(errors) = item {
                    assert!(!errors.is_empty());
                }
            }
        }
    }
});
