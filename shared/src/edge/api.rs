//! The HTTP edge shared by every function: reading a request (method, body, query) into
//! domain input, and rendering an outcome into the one JSON envelope.
//!
//! Success: `{"success":true,"data":…}`. Failure: `{"success":false,"error":{"code","message",
//! "details":[{"field","message"}],"request_id"}}`.

pub mod bodies;
mod unique_keys;

use http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::users::Precondition;
use crate::edge::error::ApiError;
use crate::ports::fault;

/// The request header that carries an idempotency key (see `edge::idempotency`).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A successful outcome: a status and the `data` of the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub data: Value,
    /// The `ETag` header, for replies that show one version of a user.
    pub etag: Option<String>,
    /// Parts of the outcome failed transiently (a batch row's 5xx): under an `Idempotency-Key`
    /// such a reply is not remembered, so that a retry runs the failed parts again.
    pub transient: bool,
}

impl Reply {
    /// `200 OK` with `data`.
    pub fn ok(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::OK, data)
    }

    /// `201 Created` with `data`.
    pub fn created(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::CREATED, data)
    }

    /// `status` with `data`.
    pub fn with_status(status: StatusCode, data: impl Serialize) -> Self {
        // Our data types serialise infallibly (string keys, no non-finite floats).
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Self {
            status,
            data,
            etag: None,
            transient: false,
        }
    }

    /// This reply, marked as having parts that failed transiently (or not).
    pub fn with_transient_failures(self, transient: bool) -> Self {
        Self { transient, ..self }
    }

    /// `204 No Content`: the response has no body at all.
    pub fn no_content() -> Self {
        Self::with_status(StatusCode::NO_CONTENT, Value::Null)
    }

    /// `status` with a user as `data` and its version as the `ETag`.
    pub fn user(status: StatusCode, user: &crate::model::User) -> Self {
        Self {
            etag: Some(etag(user.version)),
            ..Self::with_status(status, user)
        }
    }
}

/// The id this request is known by: API Gateway's, else Lambda's, else a fresh one.
pub fn request_id(request: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(id) = &context.request_id
    {
        return id.clone();
    }
    if let Some(context) = request.lambda_context_ref() {
        return context.request_id.clone();
    }
    new_request_id()
}

/// A fresh request id, for requests that carry none (local runs, tests).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Checks the method; a function reached with another one answers 405 naming the allowed.
pub fn require_method(request: &Request, allowed: &[Method]) -> Result<(), ApiError> {
    if allowed.contains(request.method()) {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: allowed.to_vec(),
        })
    }
}

/// The JSON body, size and type checked. An empty body reads as `{}`: clients may create a
/// user with no fields at all. An object that names a member twice is refused (400, the member
/// named in `details`): parsers disagree on which of the two counts.
pub fn json_body(request: &Request) -> Result<Value, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    if !is_json_content_type(request.headers().get(header::CONTENT_TYPE)) {
        return Err(ApiError::UnsupportedMediaType);
    }
    unique_keys::parse(bytes).map_err(|refused| match refused {
        unique_keys::Refused::Malformed(message) => ApiError::MalformedJson(message),
        unique_keys::Refused::DuplicateKey(path) => {
            ApiError::Validation(vec![crate::model::validation::FieldError::new(
                path,
                "must be given at most once",
            )])
        }
    })
}

fn is_json_content_type(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The query parameters, each name once: a repeated name is an error, not a silent choice.
pub fn query_params(request: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let query = request.query_string_parameters();
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in query.iter() {
        if params.iter().any(|(seen, _)| seen == name) {
            return Err(ApiError::Validation(vec![
                crate::model::validation::FieldError::new(name, "must be given at most once"),
            ]));
        }
        params.push((name.to_owned(), value.to_owned()));
    }
    Ok(params)
}

/// The path a route matches: API Gateway's raw path (without a stage prefix), or the URI's
/// path for requests that did not come through API Gateway (the local server, tests).
pub fn route_path(request: &Request) -> &str {
    match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    }
}

/// A path parameter, as routed by API Gateway (or the local server).
pub fn path_param(request: &Request, name: &str) -> Option<String> {
    request.path_parameters().first(name).map(str::to_owned)
}

pub use crate::ports::idempotency::Rendered;

/// How an API surface writes its answers: the native envelope, or a dialect of another
/// service's API (which only translates). Idempotency replays and committed successes are
/// rendered through it, so a retry gets the dialect's bytes back.
pub trait Envelope: Sync {
    /// A success as sent.
    fn render(&self, reply: &Reply) -> Rendered;
    /// A failure's status and body, as sent.
    fn failure(&self, request_id: &str, error: &ApiError) -> Rendered;
    /// The request header that carries an idempotency key.
    fn idempotency_header(&self) -> &'static str {
        IDEMPOTENCY_HEADER
    }
    /// The scheme a 401 names in `WWW-Authenticate`.
    fn auth_scheme(&self) -> &'static str {
        "Bearer"
    }
}

/// This API's own envelope: `{"success":true,"data":…}` and the error object.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

impl Envelope for Native {
    fn render(&self, reply: &Reply) -> Rendered {
        render(reply)
    }

    fn failure(&self, request_id: &str, error: &ApiError) -> Rendered {
        let body = json!({
            "success": false,
            "error": {
                "code": error.code(),
                "message": error.to_string(),
                "details": error.details(),
                "request_id": request_id,
            }
        });
        Rendered {
            status: error.status().as_u16(),
            body: body.to_string(),
            etag: None,
        }
    }
}

/// Renders a success as the envelope's text.
pub fn render(reply: &Reply) -> Rendered {
    let body = if reply.status == StatusCode::NO_CONTENT {
        String::new()
    } else {
        json!({"success": true, "data": reply.data}).to_string()
    };
    Rendered {
        status: reply.status.as_u16(),
        body,
        etag: reply.etag.clone(),
    }
}

/// The response that sends `rendered`.
pub fn rendered_response(request_id: &str, rendered: &Rendered) -> Response<Body> {
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::OK);
    let mut response = if status == StatusCode::NO_CONTENT {
        Response::new(Body::Empty)
    } else {
        let mut response = Response::new(Body::Text(rendered.body.clone()));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", value);
    }
    if let Some(etag) = rendered
        .etag
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// Renders an outcome as the envelope.
pub fn respond(request_id: &str, outcome: Result<Reply, ApiError>) -> Response<Body> {
    respond_in(&Native, request_id, outcome)
}

/// Renders a failure as the envelope, with `Allow` on 405 and `Retry-After` on 503. A
/// server-side failure's cause is logged here, once, with its whole chain.
pub fn error_response(request_id: &str, error: &ApiError) -> Response<Body> {
    error_response_in(&Native, request_id, error)
}

/// Renders a failure in `envelope`'s words, with the headers every surface sends: `Allow` on
/// 405, `Retry-After` on 503, `WWW-Authenticate` on 401. The cause is logged here, once.
pub fn error_response_in<E: Envelope + ?Sized>(
    envelope: &E,
    request_id: &str,
    error: &ApiError,
) -> Response<Body> {
    if let Some(cause) = error.cause() {
        tracing::error!(request_id, code = error.code(), error = %fault::chain(cause), "request failed");
    }
    let rendered = envelope.failure(request_id, error);
    let mut response = rendered_response(request_id, &rendered);
    let headers = response.headers_mut();
    match error {
        ApiError::MethodNotAllowed { allow } => {
            let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(header::ALLOW, value);
            }
        }
        ApiError::Unavailable {
            retry_after_secs, ..
        } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        ApiError::RateLimited { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        ApiError::Unauthorized => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(envelope.auth_scheme()),
            );
        }
        _ => {}
    }
    response
}

/// Renders an outcome in `envelope`'s words.
pub fn respond_in<E: Envelope + ?Sized>(
    envelope: &E,
    request_id: &str,
    outcome: Result<Reply, ApiError>,
) -> Response<Body> {
    match outcome {
        Ok(reply) => rendered_response(request_id, &envelope.render(&reply)),
        Err(error) => error_response_in(envelope, request_id, &error),
    }
}

/// The ETag of a user version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Parses `If-Match`: `*` or one strong ETag this API issued. `None` if malformed.
pub fn parse_if_match(value: Option<&str>) -> Option<Precondition> {
    let Some(value) = value.map(str::trim) else {
        return Some(Precondition::None);
    };
    if value == "*" {
        return Some(Precondition::None);
    }
    let version = value.strip_prefix('"')?.strip_suffix('"')?.parse().ok()?;
    Some(Precondition::Version(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_star_or_one_of_our_etags() {
        assert_eq!(parse_if_match(None), Some(Precondition::None));
        assert_eq!(parse_if_match(Some("*")), Some(Precondition::None));
        assert_eq!(
            parse_if_match(Some(&etag(7))),
            Some(Precondition::Version(7))
        );
        for bad in ["7", "W/\"7\"", "\"x\"", ""] {
            assert_eq!(parse_if_match(Some(bad)), None, "{bad:?}");
        }
    }

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/v1/users");
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn empty_bodies_read_as_an_empty_object() {
        assert_eq!(json_body(&request(None, "")).unwrap(), json!({}));
        assert_eq!(json_body(&request(None, " \n")).unwrap(), json!({}));
    }

    #[test]
    fn json_content_types_are_accepted_with_parameters() {
        for content_type in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert_eq!(
                json_body(&request(Some(content_type), "{}")).unwrap(),
                json!({})
            );
        }
    }

    #[test]
    fn other_content_types_are_415_and_broken_json_is_400() {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            assert_eq!(
                json_body(&request(content_type, "{}")),
                Err(ApiError::UnsupportedMediaType)
            );
        }
        let error = json_body(&request(Some("application/json"), "{")).unwrap_err();
        assert_eq!(error.code(), "malformed_json");
    }

    #[test]
    fn oversized_bodies_are_413() {
        let body = format!("\"{}\"", "x".repeat(MAX_BODY_BYTES));
        let error = json_body(&request(Some("application/json"), &body)).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn a_repeated_member_is_a_400_naming_it() {
        let error = json_body(&request(
            Some("application/json"),
            r#"{"email":"a@x.com","custom_metadata":{"k":1,"k":2}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.code(), "validation_failed");
        assert_eq!(
            error.details(),
            [crate::model::validation::FieldError::new(
                "custom_metadata.k",
                "must be given at most once"
            )]
        );
    }

    #[test]
    fn errors_render_the_envelope_with_their_headers() {
        let response = error_response(
            "req-1",
            &ApiError::MethodNotAllowed {
                allow: vec![Method::GET, Method::POST],
            },
        );
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert_eq!(body["error"]["request_id"], "req-1");
        assert_eq!(body["error"]["details"], json!([]));
    }
}
