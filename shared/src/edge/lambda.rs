//! The Lambda runner of the HTTP functions: each request answered within its invocation's
//! deadline ([`deadline`]), a handler that panics answered with an enveloped 500 while the
//! warm sandbox keeps serving, and every answer stamped with its app's rate-limit headers
//! ([`quota`]) and `Cache-Control: no-store`.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lambda_http::{Body, Request, Response};

use super::{api, deadline, quota};
use crate::edge::error::ApiError;
use crate::ports::Fault;

/// Runs an HTTP handler under the Lambda runtime. A panic (a bug: request paths return
/// errors) becomes an enveloped 500 and leaves the warm sandbox serving.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let (deadline, id) = (deadline::of(&request), api::request_id(&request));
        let work = catch_panics(handler, request);
        async move { Ok::<_, Infallible>(deadline::answer_within(deadline, &id, work).await) }
    }))
    .await
}

/// `handler`'s response to `request`, or, if it panics (making its future or polling it), the
/// enveloped 500 `internal_error`.
pub fn catch_panics<F, Fut>(
    handler: &F,
    request: Request,
) -> impl Future<Output = Response<Body>> + Send + use<F, Fut>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send,
{
    let id = api::request_id(&request);
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| handler(request)));
    // Boxed: a function's handler future is large (the local server's is every handler's), and
    // moving it by value through one more layer overflowed a test thread's stack.
    let finished = Box::pin(async move {
        match started {
            Ok(response) => AssertUnwindSafe(response).catch_unwind().await,
            Err(panic) => Err(panic),
        }
    });
    async move {
        let (finished, quota) = quota::scoped(finished).await;
        let mut response = finished.unwrap_or_else(|_| {
            let cause = Fault::new("the handler panicked");
            api::error_response(&id, &ApiError::Internal { cause: Some(cause) })
        });
        let headers = response.headers_mut();
        if let Some(quota) = quota {
            quota::stamp(headers, &quota);
        }
        // Answers are one app's data, some carry secrets (a webhook's, a signed transaction):
        // no cache between the API and its client may keep them.
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde_json::{Value, json};

    #[tokio::test]
    async fn a_panicking_handler_is_an_enveloped_500_and_the_next_request_is_served() {
        // Panics while making the future, while polling it, and not at all, by path.
        let handler = |request: Request| {
            let path = request.uri().path().to_owned();
            assert_ne!(path, "/panic-now", "a bug");
            async move {
                assert_ne!(path, "/panic-later", "a bug");
                api::respond("req", Ok(api::Reply::ok(json!({"path": path}))))
            }
        };
        let get = |path: &str| http::Request::get(path).body(Body::Empty).unwrap();
        for path in ["/panic-now", "/panic-later"] {
            let response = catch_panics(&handler, get(path)).await;
            assert_eq!(
                response.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
            let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
            assert_eq!(body["success"], false);
            assert_eq!(body["error"]["code"], "internal_error");
            assert_eq!(body["error"]["message"], "an internal error occurred");
            assert_eq!(
                response.headers()["x-request-id"].to_str().unwrap(),
                body["error"]["request_id"].as_str().unwrap()
            );
        }
        let response = catch_panics(&handler, get("/fine")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["data"]["path"], "/fine");
    }
}
