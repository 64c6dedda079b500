//! Request header values: `Idempotency-Key` (`idempotency::key_of`, with the request's
//! `fingerprint`) and `If-Match` (`api::parse_if_match`).
//!
//! Asserts: never panics; a key is accepted exactly when it is 1 to 255 visible ASCII
//! characters (spaces inside only), and then as sent, byte for byte; a refusal is a 400
//! naming `Idempotency-Key`; the fingerprint is a SHA-256 in hex and the same for the same
//! request; `If-Match` reads back every ETag the API issues and `*`, and nothing that is
//! neither.
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use shared::domain::users::Precondition;
use shared::edge::api;
use shared::edge::error::ApiError;
use shared::edge::idempotency::{self, MAX_KEY_CHARS};

fn request(key: HeaderValue, body: &[u8]) -> Option<lambda_http::Request> {
    http::Request::builder()
        .method("POST")
        .uri("/v1/users")
        .header(idempotency::HEADER, key)
        .body(lambda_http::Body::Binary(body.to_vec()))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 1024 {
        return;
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match api::parse_if_match(Some(text)) {
            Some(Precondition::None) => assert_eq!(text.trim(), "*"),
            Some(Precondition::Version(version)) => {
                let quoted = text.trim();
                assert!(quoted.len() > 2 && quoted.starts_with('"') && quoted.ends_with('"'));
                let etag = api::etag(version);
                assert_eq!(
                    api::parse_if_match(Some(&etag)),
                    Some(Precondition::Version(version))
                );
            }
            None => assert_ne!(text.trim(), "*"),
        }
    }

    // Header values the HTTP layer itself would refuse never reach the function.
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Some(request) = request(value, data) else {
        return;
    };
    let expected_valid = !data.is_empty()
        && data.len() <= MAX_KEY_CHARS
        && data.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        && data.first() != Some(&b' ')
        && data.last() != Some(&b' ');
    match idempotency::key_of(&request) {
        Ok(Some(key)) => {
            assert!(expected_valid, "accepted {key:?}");
            assert_eq!(key.as_bytes(), data);
        }
        Ok(None) => panic!("the header was not seen"),
        Err(ApiError::Validation(errors)) => {
            assert!(!expected_valid, "refused {data:?}");
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "Idempotency-Key");
        }
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
    let fingerprint = idempotency::fingerprint(&request);
    assert_eq!(fingerprint.len(), 64);
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(fingerprint, idempotency::fingerprint(&request));
});
