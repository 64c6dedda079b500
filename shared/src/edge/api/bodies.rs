//! The request bodies and queries of the user routes, parsed into what the domain takes:
//! `GET /v1/users`'s query, a merge patch, and a batch.

use serde_json::{Map, Value};

use crate::domain::paging;
use crate::domain::users::{Lookup, MAX_BATCH, UserFilter};
use crate::model::new_user::{MAX_EXTERNAL_ID_CHARS, check_username};
use crate::model::validation::{FieldError, check_text, expect_str, json_type};
use crate::model::{EmailAddress, Identifier, NewUser, UserStatus, WalletAddress};

/// The query parameters a lookup may name, one at a time.
pub const LOOKUP_PARAMS: [&str; 3] = ["email", "external_id", "address"];
/// The query parameters of a listing.
pub const LIST_PARAMS: [&str; 4] = ["limit", "cursor", "status", "username"];
/// The default and largest page sizes.
pub const PAGE_LIMITS: (usize, usize) = (20, 100);

/// What `GET /v1/users` asks for: one user by a unique identifier, or a page of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersQuery {
    Lookup(Lookup),
    List {
        limit: usize,
        cursor: Option<String>,
        /// Only users of this status, with this username.
        filter: UserFilter,
    },
}

/// Parses `POST /v1/users/lookup`'s body: `{"email": …}`, `{"external_id": …}` or
/// `{"address": …}`, exactly one, as `GET /v1/users?…` takes them. A lookup in a body keeps
/// the identifier out of URLs, and so out of access logs and proxies.
pub fn parse_lookup_body(body: &Value) -> Result<Lookup, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    let mut params = Vec::new();
    for (name, value) in object {
        if !LOOKUP_PARAMS.contains(&name.as_str()) {
            return Err(vec![FieldError::new(name, "unknown field")]);
        }
        let text = value
            .as_str()
            .ok_or_else(|| vec![FieldError::new(name, "must be a string")])?;
        params.push((name.clone(), text.to_owned()));
    }
    match UsersQuery::from_query(&params)? {
        UsersQuery::Lookup(lookup) => Ok(lookup),
        UsersQuery::List { .. } => Err(vec![FieldError::new(
            "email",
            "give one of email, external_id or address",
        )]),
    }
}

impl UsersQuery {
    /// Parses the query: exactly one of `email`, `external_id` or `address` (a lookup; an
    /// address may be of either chain, in any hex case for ethereum), or else `limit` (1-100,
    /// default 20), `cursor`, `status` and `username` (a listing: usernames are not unique).
    /// Unknown or mixed parameters are refused.
    pub fn from_query(params: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let known = |name: &str| LOOKUP_PARAMS.contains(&name) || LIST_PARAMS.contains(&name);
        let unknown: Vec<FieldError> = params
            .iter()
            .filter(|(name, _)| !known(name))
            .map(|(name, _)| FieldError::new(name, "unknown query parameter"))
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let lookups: Vec<&(String, String)> = params
            .iter()
            .filter(|(name, _)| LOOKUP_PARAMS.contains(&name.as_str()))
            .collect();
        match lookups.as_slice() {
            [] => Self::list(params),
            [(name, value)] if params.len() == 1 => lookup_of(name, value)
                .map(Self::Lookup)
                .map_err(|error| vec![error]),
            _ => Err(vec![FieldError::new(
                "",
                "give one of email, external_id or address to look a user up, or limit, \
                 cursor, status and username to list users",
            )]),
        }
    }

    fn list(params: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let (default, max) = PAGE_LIMITS;
        let mut limit = default;
        let mut cursor = None;
        let mut filter = UserFilter::default();
        for (name, value) in params {
            match name.as_str() {
                "limit" => limit = paging::parse_limit(value, max).map_err(|error| vec![error])?,
                "status" => {
                    filter.status = Some(UserStatus::parse(value).ok_or_else(|| {
                        vec![FieldError::new("status", "must be active or disabled")]
                    })?)
                }
                "username" => {
                    check_username(value).map_err(|error| vec![error])?;
                    filter.username = Some(value.clone());
                }
                _ => cursor = Some(value.clone()),
            }
        }
        Ok(Self::List {
            limit,
            cursor,
            filter,
        })
    }
}

fn lookup_of(name: &str, value: &str) -> Result<Lookup, FieldError> {
    Ok(match name {
        "email" => Lookup::email(&EmailAddress::parse(name, value)?),
        "external_id" => {
            check_text(name, value, 1, MAX_EXTERNAL_ID_CHARS)?;
            Lookup::of(Identifier::ExternalId(value.to_owned()))
        }
        _ => {
            let address = WalletAddress::parse_any(value)
                .ok_or_else(|| FieldError::new(name, "must be an ethereum or solana address"))?;
            Lookup::of(Identifier::Address(address.key()))
        }
    })
}

/// The fields a merge patch may change.
pub const PATCHABLE: [&str; 4] = ["username", "email", "external_id", "custom_metadata"];
/// Fields of a user that exist but change elsewhere (or never).
const NOT_PATCHABLE: [&str; 9] = [
    "id",
    "linked_accounts",
    "wallets",
    "status",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
    "version",
];

/// Parses a merge patch body: an object of patchable fields (`null` removes one).
pub fn parse_patch(body: &Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    let Some(patch) = body.as_object() else {
        return Err(vec![FieldError::new(
            "",
            format!(
                "a merge patch must be a JSON object, got {}",
                json_type(body)
            ),
        )]);
    };
    let errors: Vec<FieldError> = patch
        .keys()
        .filter(|key| !PATCHABLE.contains(&key.as_str()))
        .map(|key| {
            if NOT_PATCHABLE.contains(&key.as_str()) {
                FieldError::new(key, "cannot be changed by PATCH (linked accounts, wallets and the status have their own routes)")
            } else {
                FieldError::new(key, format!("unknown field; expected one of: {}", PATCHABLE.join(", ")))
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(patch.clone())
    } else {
        Err(errors)
    }
}

/// Parses a disable body: `{}` (or none) or `{"reason": "…"}`. The reason's length is the
/// domain's rule.
pub fn parse_disable(body: &Value) -> Result<Option<String>, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new(
            "",
            format!("the body must be an object, got {}", json_type(body)),
        )]);
    };
    if let Some(key) = object.keys().find(|key| *key != "reason") {
        return Err(vec![FieldError::new(key, "unknown field; expected reason")]);
    }
    match object.get("reason") {
        None | Some(Value::Null) => Ok(None),
        Some(reason) => expect_str("reason", reason)
            .map(|reason| Some(reason.to_owned()))
            .map_err(|error| vec![error]),
    }
}

/// Checks a body that must say nothing: absent or `{}`.
pub fn parse_empty(body: &Value) -> Result<(), Vec<FieldError>> {
    match body.as_object() {
        Some(object) if object.is_empty() => Ok(()),
        Some(object) => Err(object
            .keys()
            .map(|key| FieldError::new(key, "unknown field; this route takes no body"))
            .collect()),
        None => Err(vec![FieldError::new(
            "",
            format!("the body must be empty or {{}}, got {}", json_type(body)),
        )]),
    }
}

/// Parses a batch body `{"users": [ … ]}`: the batch itself must be well formed (else the
/// whole request is a 400); each item is parsed on its own, its errors named from the item.
pub fn parse_batch(body: &Value) -> Result<Vec<Result<NewUser, Vec<FieldError>>>, Vec<FieldError>> {
    let invalid = |message: String| vec![FieldError::new("users", message)];
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "the body must be an object: {\"users\": [...]}",
        )]);
    };
    if let Some(key) = object.keys().find(|key| *key != "users") {
        return Err(vec![FieldError::new(key, "unknown field; expected users")]);
    }
    let users = object
        .get("users")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("is required: an array of users to create".into()))?;
    if users.is_empty() || users.len() > MAX_BATCH {
        return Err(invalid(format!(
            "must hold 1 to {MAX_BATCH} users, got {}",
            users.len()
        )));
    }
    Ok(users.iter().map(NewUser::parse).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_name_fields_that_cannot_change_here() {
        assert!(parse_patch(&json!({"email": null, "custom_metadata": {"a": null}})).is_ok());
        let errors = parse_patch(&json!({"wallets": [], "nick": "x"})).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["wallets", "nick"]);
        assert!(parse_patch(&json!([])).is_err());
    }
}
