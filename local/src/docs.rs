//! The API's contract and its reference page, served by the local API: `GET /openapi.yaml` (the
//! file in the repository, compiled in) and `GET /docs` (Redoc rendering it, with Redoc's
//! bundle served from `.local/docs`, fetched from npm by `scripts/docs-assets.sh`: no CDN).

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// The contract, as committed.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");
/// Where `scripts/docs-assets.sh` puts Redoc's bundle (`DOCS_ASSETS_DIR` overrides it).
const DEFAULT_ASSETS_DIR: &str = ".local/docs";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Wallet Users API reference</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="/openapi.yaml"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// The response for a documentation path, or `None` if `path` is not one.
pub fn serve(path: &str) -> Option<Response<Body>> {
    match path {
        "/openapi.yaml" => Some(respond(
            StatusCode::OK,
            "application/yaml",
            Body::Text(OPENAPI_YAML.to_owned()),
        )),
        "/docs" | "/docs/" => Some(respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Body::Text(PAGE.to_owned()),
        )),
        "/docs/redoc.standalone.js" => {
            let dir =
                std::env::var("DOCS_ASSETS_DIR").unwrap_or_else(|_| DEFAULT_ASSETS_DIR.into());
            Some(match std::fs::read(format!("{dir}/redoc.standalone.js")) {
                Ok(bytes) => respond(StatusCode::OK, "text/javascript", Body::Binary(bytes)),
                Err(_) => respond(
                    StatusCode::NOT_FOUND,
                    "text/plain; charset=utf-8",
                    Body::Text("Redoc is not installed: run scripts/docs-assets.sh\n".to_owned()),
                ),
            })
        }
        _ => None,
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
