//! The Lambda runner of the HTTP functions: each request answered within its invocation's
//! deadline ([`deadline`]), and a handler that panics answered with an enveloped 500 while the
//! warm sandbox keeps serving.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use lambda_http::{Body, Request, Response};

use super::{api, deadline};
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
    async move {
        let finished = match started {
            Ok(response) => AssertUnwindSafe(response).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        finished.unwrap_or_else(|_| {
            let cause = Fault::new("the handler panicked");
            api::error_response(&id, &ApiError::Internal { cause: Some(cause) })
        })
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
