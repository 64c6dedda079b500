//! What the local server logs of a request's path.

use http::Method;
use shared::dialects::MOUNTS;
use shared::edge::routes;

/// The path a request is logged under: its route's template (`/v1/users/{id}`), a dialect's
/// mount, or the docs page's own path; never the path itself, which carries identifiers.
pub fn logged_route(method: &Method, path: &str) -> String {
    if matches!(
        path,
        "/openapi.yaml" | "/docs" | "/docs/" | "/docs/redoc.standalone.js"
    ) {
        return path.to_owned();
    }
    if let Some(function) = shared::dialects::function_of(path) {
        return match MOUNTS.iter().find(|(_, f)| *f == function) {
            Some((mount, _)) => format!("{function}: {mount}/{{proxy+}}"),
            None => function.to_owned(),
        };
    }
    let Ok(resolved) = routes::resolve(method, path) else {
        return "(no route)".to_owned();
    };
    routes::routes()
        .into_iter()
        .find(|spec| spec.route == resolved.route && spec.method == method)
        .map_or_else(|| "(no route)".to_owned(), |spec| spec.path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_paths_are_not_logged() {
        for (method, path, logged) in [
            (
                Method::DELETE,
                "/v1/users/usr_0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4/linked-accounts/email/ada@example.com",
                "/v1/users/{id}/linked-accounts/{type}/{value}",
            ),
            (
                Method::DELETE,
                "/v1/users/usr_1/linked-accounts/phone/+15555550123",
                "/v1/users/{id}/linked-accounts/{type}/{value}",
            ),
            (Method::GET, "/v1/users/usr_1", "/v1/users/{id}"),
            (Method::POST, "/v1/users", "/v1/users"),
            (
                Method::GET,
                "/privy/api/v1/users/email/ada@example.com",
                "privy: /privy/{proxy+}",
            ),
            (Method::GET, "/v2/ada@example.com", "(no route)"),
        ] {
            let route = logged_route(&method, path);
            assert_eq!(route, logged, "{method} {path}");
        }
    }
}
