//! The bodies of `POST /v1/users` (create) and `POST /v1/users/find-or-create`, read through
//! the API's edge (`api::json_body`) and parsed by `NewUser::parse` / `parse_identified`.
//!
//! Asserts: reading and parsing never panic; a rejection names at least one field; an
//! accepted user, written back as a request body, parses to the same user (validation is
//! stable under its own output); its identifiers are distinct (one request never claims one
//! identifier twice) and each carries its field; wallets are distinct chains; the bounds
//! hold (linked accounts, custom metadata size and depth); find-or-create accepts exactly the
//! accepted users that name an identifier, with the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use shared::model::NewUser;
use shared::model::new_user::{
    MAX_CUSTOM_METADATA_BYTES, MAX_CUSTOM_METADATA_DEPTH, MAX_LINKED_ACCOUNTS,
};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The request body that asks for `user`.
fn as_body(user: &NewUser) -> Value {
    let wallets: Vec<Value> = user
        .wallets
        .iter()
        .map(|chain| json!({"chain_type": chain}))
        .collect();
    let mut body = json!({
        "external_id": user.external_id,
        "email": user.email.as_ref().map(|email| email.as_str()),
        "username": user.username,
        "linked_accounts": user.linked_accounts,
        "custom_metadata": user.custom_metadata,
    });
    // Wallets named, or left to the app's networks: the body says which, as the request did.
    if user.wallets_given {
        body["wallets"] = Value::Array(wallets);
    }
    body
}

fuzz_target!(|data: &[u8]| {
    let Some(body) = shared_fuzz::api_body("/v1/users", data) else {
        return;
    };
    let parsed = NewUser::parse(&body);
    let identified = NewUser::parse_identified(&body);
    let user = match parsed {
        Ok(user) => user,
        Err(errors) => {
            assert!(!errors.is_empty(), "rejected without a reason: {body}");
            assert!(identified.is_err());
            return;
        }
    };

    let again = NewUser::parse(&as_body(&user));
    assert_eq!(again.as_ref(), Ok(&user), "not stable under its own output");

    let identifiers = user.identifiers();
    for (index, (field, identifier)) in identifiers.iter().enumerate() {
        assert!(!field.is_empty() && !identifier.value().is_empty());
        for (other_field, other) in &identifiers[..index] {
            assert_ne!(identifier, other, "{field} repeats {other_field}");
        }
    }
    for (index, chain) in user.wallets.iter().enumerate() {
        assert!(
            !user.wallets[..index].contains(chain),
            "two {chain} wallets"
        );
    }
    assert!(user.linked_accounts.len() <= MAX_LINKED_ACCOUNTS);
    let metadata = Value::Object(user.custom_metadata.clone());
    assert!(depth(&metadata) <= MAX_CUSTOM_METADATA_DEPTH);
    assert!(metadata.to_string().len() <= MAX_CUSTOM_METADATA_BYTES);

    match identified {
        Ok(found) => {
            assert_eq!(found, user);
            assert!(!identifiers.is_empty());
        }
        Err(errors) => {
            assert!(identifiers.is_empty(), "{errors:?}");
            assert_eq!(errors.len(), 1);
        }
    }
});
