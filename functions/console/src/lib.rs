//! The developer console at `/console`: its page, script and stylesheet, compiled in (see
//! `build.rs`), served under the console's Content Security Policy (`shared::edge::console`).
//! No key or data passes through here: the page calls the API with the key the operator pastes.

use std::borrow::Cow;

use lambda_http::{Body, Request, Response};
use shared::edge::api;
use shared::edge::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// The file `name`, if the console's build has it.
pub fn file(name: &str) -> Option<Cow<'static, [u8]>> {
    FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, bytes)| Cow::Borrowed(*bytes))
}

/// Answers a request for a console path (API Gateway routes only those here).
pub fn handle(request: &Request) -> Response<Body> {
    match shared::edge::console::serve(request.uri().path(), file) {
        Some(response) => response,
        None => api::error_response(&api::request_id(request), &ApiError::NotFound("route")),
    }
}
