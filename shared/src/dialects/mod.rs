//! The dialects: other services' APIs spoken verbatim, so that a team leaving Original, Privy,
//! OST KIT or the find-or-create onboarding API changes one base URL and nothing else. Each
//! is an edge beside the native one: it reads its service's requests into the domain's input,
//! and writes the domain's outcome (and every error) as its service would. No rule lives here.

pub mod credentials;
pub mod onboarding;
pub mod original;
pub mod ost;
pub mod privy;

use crate::edge::error::ApiError;

/// Where each dialect is mounted (API Gateway routes `ANY <mount>/{proxy+}` to it) and the
/// function that serves it.
pub const MOUNTS: [(&str, &str); 4] = [
    ("/onboarding", "onboarding"),
    ("/original", "original"),
    ("/ost", "ost"),
    ("/privy", "privy"),
];

/// Dialect routes that API Gateway gives to another function than their mount's (a more
/// specific route wins over `<mount>/{proxy+}`): Privy's wallet RPC goes to the signing
/// function, the one that may open wallet keys.
pub const ROUTED_APART: [(&str, &str, &str); 1] =
    [("POST", privy::wallets::RPC_ROUTE, "wallet-rpc")];

/// The function of the dialect whose mount `path` is under, as API Gateway routes it
/// (`<mount>/{proxy+}`: at least one segment after the mount, unless [`ROUTED_APART`]);
/// `None` for a native path.
pub fn function_of(path: &str) -> Option<&'static str> {
    if privy::wallets::rpc_wallet_id(path).is_some() {
        return Some("wallet-rpc");
    }
    MOUNTS
        .iter()
        .find(|(mount, _)| {
            path.strip_prefix(mount)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| !rest.is_empty())
        })
        .map(|(_, function)| *function)
}
use crate::model::validation::FieldError;

/// How a dialect names the native fields it fills: a native path (or the prefix of one, such
/// as `linked_accounts[0]`) and the dialect's field.
pub type FieldNames<'a> = &'a [(&'a str, &'a str)];

/// `error` with the native fields it names put in the dialect's words, so a client's error
/// names a field it sent.
pub fn renamed(error: ApiError, names: FieldNames<'_>) -> ApiError {
    let rename = |fields: Vec<FieldError>| -> Vec<FieldError> {
        fields
            .into_iter()
            .map(|mut error| {
                if let Some((_, theirs)) = names.iter().find(|(native, _)| {
                    error.field == *native
                        || error
                            .field
                            .strip_prefix(native)
                            .is_some_and(|rest| rest.starts_with(['.', '[']))
                }) {
                    error.field = (*theirs).to_owned();
                }
                error
            })
            .collect()
    };
    match error {
        ApiError::Validation(fields) => ApiError::Validation(rename(fields)),
        ApiError::Conflict(fields) => ApiError::Conflict(rename(fields)),
        ApiError::AmbiguousMatch(fields) => ApiError::AmbiguousMatch(rename(fields)),
        other => other,
    }
}

/// A success whose `data` is the whole body, as the dialect writes it (no native envelope).
pub fn verbatim(reply: &crate::edge::api::Reply) -> crate::edge::api::Rendered {
    crate::edge::api::Rendered {
        status: reply.status.as_u16(),
        body: if reply.status == http::StatusCode::NO_CONTENT {
            String::new()
        } else {
            reply.data.to_string()
        },
        etag: None,
    }
}

/// One line per failing field, `field: message`, for dialects whose errors carry text only.
pub fn field_lines(error: &ApiError) -> Vec<String> {
    error
        .details()
        .iter()
        .map(|detail| {
            if detail.field.is_empty() {
                detail.message.clone()
            } else {
                format!("{}: {}", detail.field, detail.message)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_a_mount_go_to_its_function_as_api_gateway_routes_them() {
        assert_eq!(function_of("/privy/v1/users"), Some("privy"));
        assert_eq!(function_of("/ost/v1/users/"), Some("ost"));
        assert_eq!(function_of("/onboarding/x"), Some("onboarding"));
        for native in [
            "/v1/users",
            "/privy",
            "/privy/",
            "/privyx/v1/users",
            "/ostrich/a",
        ] {
            assert_eq!(function_of(native), None, "{native}");
        }
    }
}
