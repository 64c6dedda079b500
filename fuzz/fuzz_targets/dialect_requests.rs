//! The dialects' readers: whatever a client of Original, Privy, OST KIT or the find-or-create
//! API sends, read into the domain's input.
//!
//! Input: bytes taken as a JSON body (for the JSON dialects) and as a form body (OST).
//!
//! Asserts: never panics; a refusal names at least one field or is a malformed-body error; a
//! Privy create never asks for wallets it was not given; OST's string to sign is its endpoint,
//! `?`, and every parameter but the signature, sorted, encoded so that it decodes back to
//! exactly those (so the signature covers each parameter, and nothing can be smuggled past it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::dialects::{credentials, onboarding, original, ost, privy};
use shared::edge::error::ApiError;

fn named(error: &ApiError) {
    if let ApiError::Validation(fields) = error {
        assert!(!fields.is_empty(), "a refusal that names nothing");
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<Value>(bytes) {
        if let Err(error) = onboarding::parse(&body) {
            named(&error);
        }
        if let Err(error) = original::parse_create(&body) {
            named(&error);
        }
        match privy::parse_create(&body) {
            Ok(user) => {
                let asked = body
                    .get("wallets")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                assert!(user.wallets.len() <= asked, "wallets nobody asked for");
            }
            Err(error) => named(&error),
        }
        for result in [
            privy::parse_pregenerate(&body).err(),
            privy::parse_custom_metadata(&body).err(),
            privy::parse_unlink(&body).err(),
            privy::parse_allow_entry(&body).err(),
        ]
        .into_iter()
        .flatten()
        {
            named(&result);
        }
        for (_, field, kind) in privy::LOOKUPS {
            if let Err(error) = privy::lookup(kind, field, &body) {
                named(&error);
            }
        }
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(bytes).into_owned().collect();
    for result in [
        ost::parse_create(&params).err(),
        ost::parse_list(&params).err(),
    ]
    .into_iter()
    .flatten()
    {
        named(&result);
    }
    let text = credentials::ost_string_to_sign("/users/", &params);
    // What was signed decodes back to every parameter but the signature, sorted.
    let query = text.strip_prefix("/users/?").expect("the endpoint and ?");
    let signed: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut expected: Vec<(String, String)> = params
        .into_iter()
        .filter(|(name, _)| name != "signature")
        .collect();
    expected.sort();
    assert_eq!(signed, expected, "{text}");
});
