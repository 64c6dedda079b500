//! The fallback function on unrouted `events/` payloads.

// Test helpers report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_tests::{assert_error, load_event};

#[test]
fn a_known_path_with_another_method_is_405_naming_the_allowed() {
    let response = fallback::handle(&load_event("fallback-method-not-allowed"));
    assert_error(&response, 405, "method_not_allowed");
    assert_eq!(response.headers()["allow"], "POST, GET");
}

#[test]
fn an_unknown_path_is_404_in_the_envelope() {
    let response = fallback::handle(&load_event("fallback-not-found"));
    let body = assert_error(&response, 404, "not_found");
    assert_eq!(body["error"]["request_id"], "JKJaXmPLvHcESHA=");
}
