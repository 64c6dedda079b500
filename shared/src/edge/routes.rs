//! The API's routes: one table that the local server routes by, the fallback function answers
//! 404/405 from, and the tests compare with `template.yaml`.

use http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::edge::error::ApiError;
use crate::model::Scope;

/// A route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    CreateUser,
    GetUser,
    LookupUser,
    LookupUserByBody,
    FindOrCreateUser,
    AddWallet,
    WalletRpc,
    GetUserPolicy,
    SetUserPolicy,
    DeleteUserPolicy,
    UpdateUser,
    DisableUser,
    EnableUser,
    LinkAccount,
    UnlinkAccount,
    DeleteUser,
    RestoreUser,
    ImportUsers,
    StartExport,
    GetExport,
    CreateWebhook,
    ListWebhooks,
    DeleteWebhook,
    RotateWebhookSecret,
    ListDeliveries,
    ListUserEvents,
    RedeliverEvent,
    GetSettings,
    ChangeSettings,
    AddAllowEntry,
    ListAllowEntries,
    DeleteAllowEntry,
    CreateInvitation,
    ListInvitations,
    RevokeInvitation,
    InviteAsUser,
    ListUserInvitations,
    ListApiKeys,
    CreateApiKey,
    RevokeApiKey,
}

impl Route {
    /// The scope a key needs for this route. Signing policies are `admin`: a key that may sign
    /// must not be able to loosen what it may sign. So are the app's API keys.
    pub fn scope(self) -> Scope {
        match self {
            Self::GetUser
            | Self::LookupUser
            | Self::LookupUserByBody
            | Self::ListUserInvitations
            | Self::ListUserEvents => Scope::UsersRead,
            Self::CreateUser
            | Self::FindOrCreateUser
            | Self::AddWallet
            | Self::UpdateUser
            | Self::DisableUser
            | Self::EnableUser
            | Self::LinkAccount
            | Self::UnlinkAccount
            | Self::DeleteUser
            | Self::RestoreUser
            | Self::ImportUsers
            | Self::InviteAsUser => Scope::UsersWrite,
            Self::WalletRpc => Scope::WalletsSign,
            Self::CreateWebhook
            | Self::ListWebhooks
            | Self::DeleteWebhook
            | Self::RotateWebhookSecret
            | Self::ListDeliveries
            | Self::RedeliverEvent => Scope::Webhooks,
            Self::GetUserPolicy
            | Self::SetUserPolicy
            | Self::DeleteUserPolicy
            | Self::GetSettings
            | Self::ChangeSettings
            | Self::AddAllowEntry
            | Self::ListAllowEntries
            | Self::DeleteAllowEntry
            | Self::CreateInvitation
            | Self::ListInvitations
            | Self::RevokeInvitation
            | Self::ListApiKeys
            | Self::CreateApiKey
            | Self::RevokeApiKey
            // Every user at once: an operator's act, not an app backend's.
            | Self::StartExport
            | Self::GetExport => Scope::Admin,
        }
    }
}

/// One route: method, path template (API Gateway syntax) and the function that serves it.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub route: Route,
    /// The workspace crate (and Lambda binary) that serves the route.
    pub function: &'static str,
}

/// Every route of the API.
pub fn routes() -> [RouteSpec; 40] {
    [
        RouteSpec {
            method: Method::POST,
            path: "/v1/users",
            route: Route::CreateUser,
            function: "create-user",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/users",
            route: Route::LookupUser,
            function: "get-user",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/users/{id}",
            route: Route::GetUser,
            function: "get-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/lookup",
            route: Route::LookupUserByBody,
            function: "get-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/find-or-create",
            route: Route::FindOrCreateUser,
            function: "find-or-create-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/wallets",
            route: Route::AddWallet,
            function: "add-wallet",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/wallets/{chain_type}/rpc",
            route: Route::WalletRpc,
            function: "wallet-rpc",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/users/{id}/signing-policy",
            route: Route::GetUserPolicy,
            function: "access",
        },
        RouteSpec {
            method: Method::PUT,
            path: "/v1/users/{id}/signing-policy",
            route: Route::SetUserPolicy,
            function: "access",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/users/{id}/signing-policy",
            route: Route::DeleteUserPolicy,
            function: "access",
        },
        RouteSpec {
            method: Method::PATCH,
            path: "/v1/users/{id}",
            route: Route::UpdateUser,
            function: "update-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/disable",
            route: Route::DisableUser,
            function: "update-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/enable",
            route: Route::EnableUser,
            function: "update-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/linked-accounts",
            route: Route::LinkAccount,
            function: "link-account",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/users/{id}/linked-accounts/{type}/{value}",
            route: Route::UnlinkAccount,
            function: "unlink-account",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/users/{id}",
            route: Route::DeleteUser,
            function: "delete-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/restore",
            route: Route::RestoreUser,
            function: "delete-user",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/batch",
            route: Route::ImportUsers,
            function: "import-users",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/exports",
            route: Route::StartExport,
            function: "exports",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/exports/{id}",
            route: Route::GetExport,
            function: "exports",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/webhooks",
            route: Route::CreateWebhook,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/webhooks",
            route: Route::ListWebhooks,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/webhooks/{id}",
            route: Route::DeleteWebhook,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/webhooks/{id}/rotate-secret",
            route: Route::RotateWebhookSecret,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/webhooks/{id}/deliveries",
            route: Route::ListDeliveries,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/users/{id}/events",
            route: Route::ListUserEvents,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/events/{id}/redeliver",
            route: Route::RedeliverEvent,
            function: "webhooks",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/app/settings",
            route: Route::GetSettings,
            function: "access",
        },
        RouteSpec {
            method: Method::PATCH,
            path: "/v1/app/settings",
            route: Route::ChangeSettings,
            function: "access",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/allowlist",
            route: Route::AddAllowEntry,
            function: "access",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/allowlist",
            route: Route::ListAllowEntries,
            function: "access",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/allowlist/{id}",
            route: Route::DeleteAllowEntry,
            function: "access",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/invitations",
            route: Route::CreateInvitation,
            function: "access",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/invitations",
            route: Route::ListInvitations,
            function: "access",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/invitations/{id}",
            route: Route::RevokeInvitation,
            function: "access",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/users/{id}/invitations",
            route: Route::InviteAsUser,
            function: "access",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/users/{id}/invitations",
            route: Route::ListUserInvitations,
            function: "access",
        },
        RouteSpec {
            method: Method::GET,
            path: "/v1/keys",
            route: Route::ListApiKeys,
            function: "access",
        },
        RouteSpec {
            method: Method::POST,
            path: "/v1/keys",
            route: Route::CreateApiKey,
            function: "access",
        },
        RouteSpec {
            method: Method::DELETE,
            path: "/v1/keys/{id}",
            route: Route::RevokeApiKey,
            function: "access",
        },
    ]
}

/// A request's path parameters, by name, in the template's order.
pub type Params = Vec<(String, String)>;

/// A resolved request: its route and path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub route: Route,
    pub params: Vec<(String, String)>,
}

/// The route a request came by: the one API Gateway matched (its `routeKey`, with the path
/// parameters it extracted), or for a request that did not come through API Gateway (the
/// local server, tests) the one its method and path resolve to.
pub fn of_request(request: &Request) -> Result<Resolved, ApiError> {
    let route_key = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.route_key.as_deref(),
        _ => None,
    };
    let matched = route_key.and_then(|key| {
        let (method, path) = key.split_once(' ')?;
        routes()
            .into_iter()
            .find(|spec| spec.method.as_str() == method && spec.path == path)
    });
    match matched {
        Some(spec) => Ok(Resolved {
            route: spec.route,
            params: request
                .path_parameters()
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        }),
        None => resolve(request.method(), crate::edge::api::route_path(request)),
    }
}

/// Resolves `method` and `path` as API Gateway does: a literal segment beats a parameter.
/// A known path with another method is 405 (naming the allowed ones); anything else is 404.
pub fn resolve(method: &Method, path: &str) -> Result<Resolved, ApiError> {
    let table: Vec<(Method, &'static str, Route)> = routes()
        .into_iter()
        .map(|spec| (spec.method, spec.path, spec.route))
        .collect();
    let (route, params) = resolve_in(&table, method, path)?;
    Ok(Resolved { route, params })
}

/// Resolves `method` and `path` against a table of (method, path template, route), as
/// [`resolve`] does for the native API: each dialect has its own small table.
pub fn resolve_in<R: Copy>(
    table: &[(Method, &'static str, R)],
    method: &Method,
    path: &str,
) -> Result<(R, Params), ApiError> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut matching: Vec<(&Method, R, Params)> = table
        .iter()
        .filter_map(|(m, template, route)| {
            match_template(template, path).map(|params| (m, *route, params))
        })
        .collect();
    // Fewer parameters first: the most specific template wins.
    matching.sort_by_key(|(_, _, params)| params.len());
    if let Some((_, route, params)) = matching.iter().find(|(m, _, _)| *m == method) {
        return Ok((*route, params.clone()));
    }
    if matching.is_empty() {
        return Err(ApiError::NotFound("route"));
    }
    let mut allow: Vec<Method> = Vec::new();
    for (m, _, _) in &matching {
        if !allow.contains(m) {
            allow.push((*m).clone());
        }
    }
    Err(ApiError::MethodNotAllowed { allow })
}

fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut segments = path.split('/');
    for expected in template.split('/') {
        let actual = segments.next()?;
        if let Some(name) = expected.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if actual.is_empty() {
                return None;
            }
            // Path parameters arrive percent-decoded, as API Gateway gives them.
            let decoded = percent_encoding::percent_decode_str(actual)
                .decode_utf8()
                .ok()?;
            params.push((name.to_owned(), decoded.into_owned()));
        } else if expected != actual {
            return None;
        }
    }
    segments.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_beat_parameters() {
        let resolved = resolve(&Method::POST, "/v1/users/find-or-create").unwrap();
        assert_eq!(resolved.route, Route::FindOrCreateUser);
        let resolved = resolve(&Method::GET, "/v1/users/abc").unwrap();
        assert_eq!(resolved.route, Route::GetUser);
        assert_eq!(resolved.params, [("id".to_owned(), "abc".to_owned())]);
    }

    #[test]
    fn wrong_methods_are_405_with_allow_and_unknown_paths_404() {
        assert_eq!(
            resolve(&Method::DELETE, "/v1/users"),
            Err(ApiError::MethodNotAllowed {
                allow: vec![Method::POST, Method::GET]
            })
        );
        assert_eq!(
            resolve(&Method::GET, "/v2/users"),
            Err(ApiError::NotFound("route"))
        );
        assert_eq!(
            resolve(&Method::GET, "/v1/users/a/b"),
            Err(ApiError::NotFound("route"))
        );
    }
}
