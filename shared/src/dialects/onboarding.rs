//! The find-or-create onboarding API (seed `004`): `POST <base>/v1/users/find-or-create` with
//! `{username, address, id_x, privy_id, privy_address}` under `Authorization: ApiKey <key>`,
//! answering `{data: {user, user_onboarded, created, on_whitelist, disabled, onboarded,
//! users_onboarded}, message, statusCode, path}`; errors `{message, error, statusCode, path}`.
//!
//! What its fields become here: `address` an ethereum wallet account (unique: the user is
//! found by it), `id_x` with `username` a twitter account (unique by `id_x`), `username` the
//! user's username, and `privy_id` and `privy_address` the user's `custom_metadata`, kept as
//! given (the API validates neither: its own example's `privy_address` has 39 hex digits). Its whitelist is our allowlist; `user_onboarded` is the invitation the user
//! claimed (see docs/dialects.md).

use std::borrow::Cow;

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{field_lines, renamed, verbatim};
use crate::edge::api::{Envelope, Rendered, Reply};
use crate::edge::error::ApiError;
use crate::model::linked_account::Account;
use crate::model::validation::{FieldError, json_type};
use crate::model::{NewUser, User, UserStatus};

/// The route's `path` as the API reports it.
pub const FIND_OR_CREATE_PATH: &str = "users/find-or-create";
/// The body's fields.
const FIELDS: [&str; 5] = ["username", "address", "id_x", "privy_id", "privy_address"];
/// The longest `username`, and the longest address (`0x` and 40 hex digits).
const MAX_USERNAME: usize = 50;
const MAX_ADDRESS: usize = 42;

/// The API's words: bodies as they are, errors as NestJS writes them, with the route's path.
#[derive(Debug, Clone)]
pub struct OnboardingEnvelope {
    pub path: Cow<'static, str>,
}

/// The envelope of `POST /v1/users/find-or-create`.
pub static FIND_OR_CREATE: OnboardingEnvelope = OnboardingEnvelope {
    path: Cow::Borrowed(FIND_OR_CREATE_PATH),
};

impl Envelope for OnboardingEnvelope {
    fn render(&self, reply: &Reply) -> Rendered {
        verbatim(reply)
    }

    fn failure(&self, _request_id: &str, error: &ApiError) -> Rendered {
        let status = error.status();
        // NestJS's validation pipe answers a list of messages; other errors one.
        let message = match field_lines(error) {
            lines if lines.is_empty() => Value::String(error.to_string()),
            lines => json!(lines),
        };
        let body = json!({
            "message": message,
            "error": status.canonical_reason().unwrap_or("Error"),
            "statusCode": status.as_u16(),
            "path": self.path,
        });
        Rendered {
            status: status.as_u16(),
            body: body.to_string(),
            etag: None,
        }
    }

    fn auth_scheme(&self) -> &'static str {
        "ApiKey"
    }
}

/// Reads the body into a find-or-create request; bad fields are named as the client sent them.
pub fn parse(body: &Value) -> Result<NewUser, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(invalid(
            "",
            format!("the body must be a JSON object, got {}", json_type(body)),
        ));
    };
    let mut errors = Vec::new();
    for key in object.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(FieldError::new(
            key,
            format!("property {key} should not exist"),
        ));
    }
    let text = |name: &str, max: usize, errors: &mut Vec<FieldError>| -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.chars().count() <= max => Some(text.clone()),
            Some(Value::String(_)) => {
                errors.push(FieldError::new(
                    name,
                    format!("must be shorter than or equal to {max} characters"),
                ));
                None
            }
            Some(other) => {
                errors.push(FieldError::new(
                    name,
                    format!("must be a string, got {}", json_type(other)),
                ));
                None
            }
        }
    };
    let username = text("username", MAX_USERNAME, &mut errors);
    let address = text("address", MAX_ADDRESS, &mut errors);
    let privy_id = text("privy_id", 255, &mut errors);
    let privy_address = text("privy_address", MAX_ADDRESS, &mut errors);
    let id_x = match object.get("id_x") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(_) => {
            errors.push(FieldError::new(
                "id_x",
                "must be a non-negative whole number",
            ));
            None
        }
    };
    for (name, given) in [("username", &username), ("address", &address)] {
        if given.is_none() && !errors.iter().any(|e| e.field == name) {
            errors.push(FieldError::new(name, "is required"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut native = Map::new();
    let mut accounts = Vec::new();
    let mut names: Vec<(String, &str)> = Vec::new();
    let mut account = |value: Value, field: &'static str| {
        names.push((format!("linked_accounts[{}]", accounts.len()), field));
        accounts.push(value);
    };
    account(
        json!({"type": "wallet", "chain_type": "ethereum", "address": address}),
        "address",
    );
    if let Some(id_x) = id_x {
        account(
            json!({"type": "twitter", "subject": id_x.to_string(), "username": username}),
            "id_x",
        );
    }
    let mut metadata = Map::new();
    for (name, value) in [("privy_id", privy_id), ("privy_address", privy_address)] {
        if let Some(value) = value {
            metadata.insert(name.into(), Value::String(value));
        }
    }
    if !metadata.is_empty() {
        native.insert("custom_metadata".into(), Value::Object(metadata));
    }
    native.insert("username".into(), json!(username));
    native.insert("linked_accounts".into(), Value::Array(accounts));
    let names: Vec<(&str, &str)> = names
        .iter()
        .map(|(native, theirs)| (native.as_str(), *theirs))
        .chain([("username", "username")])
        .collect();
    NewUser::parse_identified(&Value::Object(native))
        .map_err(|errors| renamed(ApiError::Validation(errors), &names))
}

/// The API's error for one bad field.
fn invalid(field: &str, message: String) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// `error` (of the operation on `new_user`) naming the fields the client sent.
pub fn in_its_words(error: ApiError, new_user: &NewUser) -> ApiError {
    let names = field_names(new_user);
    let names: Vec<(&str, &str)> = names.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    renamed(error, &names)
}

/// The native fields a find-or-create request fills, in the API's words.
fn field_names(new_user: &NewUser) -> Vec<(String, &'static str)> {
    new_user
        .linked_accounts
        .iter()
        .enumerate()
        .map(|(index, linked)| {
            let theirs = match &linked.account {
                Account::Twitter(_) => "id_x",
                _ => "address",
            };
            (format!("linked_accounts[{index}]"), theirs)
        })
        .collect()
}

/// The answer: 200 with the user found, or 201 with the one created.
pub fn reply(user: &User, created: bool, on_allowlist: bool) -> Reply {
    let (status, message) = if created {
        (StatusCode::CREATED, "User created successfully")
    } else {
        (StatusCode::OK, "User found successfully")
    };
    let body = json!({
        "data": {
            "user": user_view(user),
            "user_onboarded": onboarded_view(user),
            "created": created,
            "on_whitelist": on_allowlist,
            "disabled": user.status == UserStatus::Disabled,
            "onboarded": user.onboarding.is_some(),
            "users_onboarded": user.users_onboarded,
        },
        "message": message,
        "statusCode": status.as_u16(),
        "path": FIND_OR_CREATE_PATH,
    });
    Reply::with_status(status, body)
}

fn twitter(user: &User) -> Option<&crate::model::linked_account::OauthAccount> {
    user.linked_accounts
        .iter()
        .find_map(|linked| match &linked.account {
            Account::Twitter(account) => Some(account),
            _ => None,
        })
}

fn user_view(user: &User) -> Value {
    let address = user
        .linked_accounts
        .iter()
        .find_map(|linked| match &linked.account {
            Account::Wallet { address, .. } => Some(address.clone()),
            _ => None,
        });
    let username = user
        .username
        .clone()
        .or_else(|| twitter(user).and_then(|t| t.username.clone()));
    json!({
        "id": user.id,
        "username": username,
        "address": address,
        "email": user.email,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

fn onboarded_view(user: &User) -> Value {
    let Some(onboarding) = &user.onboarding else {
        return Value::Null;
    };
    let twitter = twitter(user);
    json!({
        "id": onboarding.invitation_id,
        "id_mini_app_onboarding": onboarding.campaign,
        "twitter_handle": twitter.and_then(|t| t.username.clone()),
        "id_mini_app": null,
        "id_user": onboarding.invited_by,
        "id_x": twitter.and_then(|t| t.subject.parse::<u64>().ok()),
        "created_at": onboarding.invited_at,
        "updated_at": onboarding.accepted_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_body_reads_as_a_find_or_create() {
        let new_user = parse(&json!({
            "username": "john_doe",
            "address": "0x123abc456def789012345678901234567890abcd",
            "id_x": 1234567890,
            "privy_id": "did:privy:cmflfuqfy004xla0cbguzvtmw",
            "privy_address": "0x456def789012345678901234567890abcdef123"
        }))
        .unwrap();
        assert_eq!(new_user.username.as_deref(), Some("john_doe"));
        let kinds: Vec<&str> = new_user
            .linked_accounts
            .iter()
            .map(|a| a.identifier().kind().to_owned())
            .map(|k| match k.as_str() {
                "address" => "address",
                "twitter" => "twitter",
                _ => "custom",
            })
            .collect();
        assert_eq!(kinds, ["address", "twitter"]);
        assert_eq!(
            Value::Object(new_user.custom_metadata),
            json!({"privy_id": "did:privy:cmflfuqfy004xla0cbguzvtmw",
                   "privy_address": "0x456def789012345678901234567890abcdef123"})
        );
    }

    #[test]
    fn bad_fields_are_named_as_sent() {
        let error =
            parse(&json!({"username": "x".repeat(51), "id_x": "12", "extra": 1})).unwrap_err();
        let fields: Vec<&str> = error.details().iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["extra", "username", "id_x", "address"]);
        let error = parse(&json!({"username": "john", "address": "0x12"})).unwrap_err();
        assert_eq!(error.details()[0].field, "address", "{error:?}");
    }
}
