//! Helpers the fuzz targets share: bounded inputs, and requests built as the API receives them.

use lambda_http::{Body, Request};
use serde_json::Value;

/// The API's body limit ([`shared::edge::api::MAX_BODY_BYTES`]): larger inputs are not fuzzed, so
/// memory stays bounded and no time goes to inputs the edge rejects before parsing.
pub const MAX_INPUT: usize = shared::edge::api::MAX_BODY_BYTES;

/// `data` as JSON, if it is JSON and within the body limit.
pub fn json(data: &[u8]) -> Option<Value> {
    if data.len() > MAX_INPUT {
        return None;
    }
    serde_json::from_slice(data).ok()
}

/// `data` as text, if it is UTF-8 and within the body limit.
pub fn text(data: &[u8]) -> Option<&str> {
    if data.len() > MAX_INPUT {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// A `POST` of `body` as JSON to `path`, as the functions receive it.
pub fn json_request(path: &str, body: &[u8]) -> Option<Request> {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Binary(body.to_vec()))
        .ok()
}

/// The body the API reads from `data` (through [`shared::edge::api::json_body`], the real edge:
/// size limit, empty body, content type, JSON syntax), if it reads one.
pub fn api_body(path: &str, data: &[u8]) -> Option<Value> {
    if data.len() > MAX_INPUT {
        return None;
    }
    let request = json_request(path, data)?;
    shared::edge::api::json_body(&request).ok()
}
