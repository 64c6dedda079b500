//! The developer console's static files (`console/`, built into `console/dist`), as the local
//! server and the `console` function serve them at `/console`: the page, its script and its
//! stylesheet, under a Content Security Policy that lets the page load only its own files and
//! talk only to the API it came from (the console is served by the API it manages, so it
//! needs no CORS, and the API sends none: no other web origin can call it from a browser).

use std::borrow::Cow;

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// Where the console lives on the API.
pub const PREFIX: &str = "/console";

/// The console's routes on API Gateway (method, path), served by the `console` function.
pub const ROUTES: [(&str, &str); 2] = [("GET", "/console"), ("GET", "/console/{file}")];

/// Only its own files, only its own API; no frames, no plugins, no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The name of the file a console path asks for: `index.html` for the console itself, one
/// plain file name below it, `None` for a path outside the console. Anything else below it
/// (a sub-directory, `..`, an odd byte) names no file.
pub fn file_of(path: &str) -> Option<Option<&str>> {
    let rest = path.strip_prefix(PREFIX)?;
    if rest.is_empty() || rest == "/" {
        return Some(Some("index.html"));
    }
    let name = rest.strip_prefix('/')?;
    let plain = !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    Some(plain.then_some(name))
}

/// The response to a console path, given how to read one of its files; `None` if `path` is
/// not the console's.
pub fn serve<'a>(
    path: &str,
    read: impl FnOnce(&str) -> Option<Cow<'a, [u8]>>,
) -> Option<Response<Body>> {
    let name = file_of(path)?;
    Some(match name.and_then(|name| Some((name, read(name)?))) {
        Some((name, bytes)) => respond(StatusCode::OK, content_type(name), bytes.into_owned()),
        None if name == Some("index.html") => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            b"The console is not built into this deployment: run `npm run build` in console/ \
              (scripts/run-local.sh and scripts/package.sh do), then build again.\n"
                .to_vec(),
        ),
        None => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            b"No such console file.\n".to_vec(),
        ),
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn respond(status: StatusCode, content_type: &'static str, bytes: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::Binary(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths_name_one_plain_file_and_nothing_else() {
        assert_eq!(file_of("/console"), Some(Some("index.html")));
        assert_eq!(file_of("/console/"), Some(Some("index.html")));
        assert_eq!(file_of("/console/app.js"), Some(Some("app.js")));
        for outside in ["/", "/consoles", "/v1/users", "/docs"] {
            assert_eq!(file_of(outside), None, "{outside}");
        }
        for odd in [
            "/console/../Cargo.toml",
            "/console/a/b.js",
            "/console/.env",
            "/console/%2e",
        ] {
            assert_eq!(file_of(odd), Some(None), "{odd}");
        }
    }

    #[test]
    fn a_file_is_served_with_its_type_and_the_policy_and_a_missing_one_is_404() {
        let files = |name: &str| (name == "app.js").then(|| Cow::Borrowed(&b"x()"[..]));
        let served = serve("/console/app.js", files).unwrap();
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(
            served.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            served.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        assert_eq!(served.body().as_ref(), b"x()");
        assert_eq!(serve("/console/nope.js", files).unwrap().status(), 404);
        assert_eq!(serve("/console", files).unwrap().status(), 503);
        assert!(serve("/v1/users", files).is_none());
    }
}
