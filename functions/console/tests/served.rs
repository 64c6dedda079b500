//! The function serves the console's build as compiled in (scripts/test.sh builds the console
//! before the workspace, so this also proves `build.rs` finds it).

use lambda_http::Body;
use lambda_http::http::{Request, StatusCode, header};

fn get(path: &str) -> lambda_http::Response<Body> {
    let request = Request::get(path).body(Body::Empty);
    match request {
        Ok(request) => console::handle(&request),
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn the_page_and_its_script_are_compiled_in_and_served_under_the_policy() {
    let page = get("/console");
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8_lossy(page.body().as_ref()).into_owned();
    assert!(html.contains("/console/app.js"), "{html}");
    assert_eq!(
        page.headers()[header::CONTENT_SECURITY_POLICY],
        shared::edge::console::CONTENT_SECURITY_POLICY
    );
    let script = get("/console/app.js");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.body().as_ref().len() > 1000);
    assert_eq!(get("/console/missing.js").status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get("/console/../Cargo.toml").status(),
        StatusCode::NOT_FOUND
    );
}
