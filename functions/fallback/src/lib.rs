//! Answers requests no route matched: 405 (with `Allow`) for a known path with another method,
//! 404 otherwise, both in the API's envelope rather than API Gateway's bare `Not Found`.

use lambda_http::{Body, Request, Response};
use shared::edge::api;
use shared::edge::error::ApiError;
use shared::edge::routes;

/// Handles one unrouted request.
pub fn handle(request: &Request) -> Response<Body> {
    let request_id = api::request_id(request);
    let error = match routes::resolve(request.method(), api::route_path(request)) {
        Err(error) => error,
        // A routed request reaching the fallback means the template and the route table
        // disagree (a test checks they do not); answering 404 is still the truth here.
        Ok(_) => ApiError::NotFound("route"),
    };
    api::error_response(&request_id, &error)
}
