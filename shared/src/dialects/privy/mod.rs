//! Privy's server API for users (seed `002`; its Node client `@privy-io/node`): under its base
//! URL (`<api>/privy`), `POST /v1/users` (create), `GET /v1/users/{id}`, `GET /v1/users`
//! (`{data, next_cursor}`), `DELETE /v1/users/{id}`, the lookups `POST /v1/users/<type>/<field>`,
//! `POST /v1/users/{id}/wallets` (pregenerate), `…/custom_metadata`, `…/accounts/unlink`, and
//! the app's allowlist `/v1/apps/{app_id}/allowlist`. Answers are Privy's objects as they are;
//! errors `{error, message}` with the status its client types them by, and
//! `x-should-retry: false` on those a retry cannot mend (its client retries 409s otherwise).
//!
//! Its user id is ours as a DID, `did:privy:<id>` (a bare id is read too); `created_at` and
//! every `*_verified_at` are Unix seconds. We keep no MFA methods, guests or terms: those are
//! `[]`, `false`, `false`.

pub mod accounts;
pub mod wallets;

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::verbatim;
use crate::domain::users::Lookup;
use crate::edge::api::{Envelope, Rendered, Reply};
use crate::edge::error::ApiError;
use crate::model::access::{AccessKind, AllowEntry, Named, parse_named};
use crate::model::validation::{FieldError, json_type};
use crate::model::{
    ChainType, EmailAddress, Identifier, LinkedAccount, NewUser, User, WalletAddress,
};

/// The prefix of a user's id in Privy's words.
pub const DID_PREFIX: &str = "did:privy:";
/// The default and largest page sizes of a listing (Privy's).
pub const PAGE_LIMITS: (usize, usize) = (100, 100);
/// The request header that carries an idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "privy-idempotency-key";

/// Privy's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrivyEnvelope;

impl Envelope for PrivyEnvelope {
    fn render(&self, reply: &Reply) -> Rendered {
        verbatim(reply)
    }

    fn failure(&self, _request_id: &str, error: &ApiError) -> Rendered {
        let lines = super::field_lines(error);
        let message = if lines.is_empty() {
            error.to_string()
        } else {
            format!("{}: {}", error, lines.join("; "))
        };
        let body = json!({"error": message, "message": message, "code": error.code()});
        Rendered {
            status: error.status().as_u16(),
            body: body.to_string(),
            etag: None,
        }
    }

    fn idempotency_header(&self) -> &'static str {
        IDEMPOTENCY_HEADER
    }

    fn auth_scheme(&self) -> &'static str {
        "Basic"
    }
}

/// `response`, telling Privy's client not to retry what a retry cannot mend.
pub fn with_retry_hint(
    mut response: lambda_http::Response<lambda_http::Body>,
) -> lambda_http::Response<lambda_http::Body> {
    if !should_retry(response.status()) {
        response
            .headers_mut()
            .insert("x-should-retry", http::HeaderValue::from_static("false"));
    }
    response
}

/// Whether Privy's client should retry an answer of `status`: not a 4xx other than 408 and
/// 429 (a conflict will not resolve itself, and its client would retry it twice).
pub fn should_retry(status: StatusCode) -> bool {
    !status.is_client_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// Our id of a Privy user id.
pub fn user_id(id: &str) -> &str {
    id.strip_prefix(DID_PREFIX).unwrap_or(id)
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, message)])
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| {
        invalid(
            "",
            format!("the body must be a JSON object, got {}", json_type(body)),
        )
    })
}

/// Reads `wallets: [{chain_type, …}]`: the chains to make embedded wallets on. Smart wallets,
/// policies and additional signers are refused rather than ignored: we do not make them.
pub fn parse_wallets(value: Option<&Value>) -> Result<Value, ApiError> {
    let Some(items) = value.filter(|v| !v.is_null()) else {
        return Ok(json!([]));
    };
    let items = items.as_array().ok_or_else(|| {
        invalid(
            "wallets",
            format!("must be an array, got {}", json_type(items)),
        )
    })?;
    let mut wallets = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("wallets[{index}]");
        let spec = item
            .as_object()
            .ok_or_else(|| invalid(&path, "must be an object"))?;
        for (key, value) in spec {
            let unsupported = match key.as_str() {
                "chain_type" => false,
                "create_smart_wallet" => value.as_bool() == Some(true),
                "policy_ids" | "additional_signers" => {
                    value.as_array().is_some_and(|a| !a.is_empty())
                }
                _ => true,
            };
            if unsupported {
                return Err(invalid(
                    &format!("{path}.{key}"),
                    "is not supported here: only embedded wallets by chain_type are made",
                ));
            }
        }
        wallets.push(json!({"chain_type": spec.get("chain_type")}));
    }
    Ok(Value::Array(wallets))
}

/// Reads `POST /v1/users`: `{linked_accounts, custom_metadata?, wallets?}`. Privy makes no
/// wallet unless asked, so neither do we.
pub fn parse_create(body: &Value) -> Result<NewUser, ApiError> {
    let object = object(body)?;
    let mut native = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "linked_accounts" => {
                let accounts = match value.as_array() {
                    Some(items) => Value::Array(items.iter().map(accounts::to_native).collect()),
                    None => value.clone(),
                };
                native.insert(key.clone(), accounts);
            }
            "custom_metadata" => {
                native.insert(key.clone(), value.clone());
            }
            "wallets" => {}
            other => {
                return Err(invalid(
                    other,
                    "unknown field; expected linked_accounts, custom_metadata or wallets",
                ));
            }
        }
    }
    native.insert("wallets".into(), parse_wallets(object.get("wallets"))?);
    NewUser::parse(&Value::Object(native)).map_err(ApiError::Validation)
}

/// Reads `POST /v1/users/{id}/wallets`: the chains asked for.
pub fn parse_pregenerate(body: &Value) -> Result<Vec<ChainType>, ApiError> {
    let object = object(body)?;
    if let Some(other) = object.keys().find(|k| *k != "wallets") {
        return Err(invalid(other, "unknown field; expected wallets"));
    }
    let wallets = parse_wallets(object.get("wallets"))?;
    let user = NewUser::parse(&json!({ "wallets": wallets })).map_err(ApiError::Validation)?;
    if user.wallets.is_empty() {
        return Err(invalid("wallets", "must name at least one chain_type"));
    }
    Ok(user.wallets)
}

/// Reads `POST /v1/users/{id}/custom_metadata`: the metadata to set, whole.
pub fn parse_custom_metadata(body: &Value) -> Result<Map<String, Value>, ApiError> {
    let object = object(body)?;
    if let Some(other) = object.keys().find(|k| *k != "custom_metadata") {
        return Err(invalid(other, "unknown field; expected custom_metadata"));
    }
    let metadata = object
        .get("custom_metadata")
        .cloned()
        .unwrap_or(Value::Null);
    let user =
        NewUser::parse(&json!({ "custom_metadata": metadata })).map_err(ApiError::Validation)?;
    if !metadata.is_object() {
        return Err(invalid("custom_metadata", "is required, an object"));
    }
    Ok(user.custom_metadata)
}

/// The lookups Privy's client makes: its path segments, the body field it sends, and the
/// account type the value belongs to.
pub const LOOKUPS: [(&str, &str, &str); 7] = [
    ("/v1/users/email/address", "address", "email"),
    ("/v1/users/wallet/address", "address", "wallet"),
    ("/v1/users/custom_auth/id", "custom_user_id", "custom_auth"),
    ("/v1/users/phone/number", "number", "phone"),
    ("/v1/users/twitter/subject", "subject", "twitter_oauth"),
    (
        "/v1/users/telegram/telegram_user_id",
        "telegram_user_id",
        "telegram",
    ),
    ("/v1/users/farcaster/fid", "fid", "farcaster"),
];

/// The lookup `field` of `body` names, read as an account of Privy's `kind`.
pub fn lookup(kind: &str, field: &str, body: &Value) -> Result<Lookup, ApiError> {
    let object = object(body)?;
    let value = object
        .get(field)
        .filter(|v| !v.is_null())
        .ok_or_else(|| invalid(field, "is required"))?;
    if kind == "wallet" {
        let address = value
            .as_str()
            .and_then(WalletAddress::parse_any)
            .ok_or_else(|| invalid(field, "must be an ethereum or solana address"))?;
        return Ok(Lookup::of(Identifier::Address(address.key())));
    }
    let account = accounts::to_native(&json!({"type": kind, field: value}));
    let mut violations = crate::model::validation::Violations::default();
    let parsed = LinkedAccount::parse(field, &account, &mut violations);
    let refused = || invalid(field, format!("is not a valid {kind} value"));
    match parsed {
        Some(account) if violations.is_empty() => match account.email() {
            Some(email) => Ok(Lookup::email(
                &EmailAddress::parse(field, email).map_err(|_| refused())?,
            )),
            None => Ok(Lookup::of(account.identifier())),
        },
        _ => Err(refused()),
    }
}

/// The username lookups: the path, and the linked account type whose username it names.
/// Usernames are indexed, not unique (see [`crate::model::Handle`]).
pub const HANDLE_LOOKUPS: [(&str, &str); 4] = [
    ("/v1/users/twitter/username", "twitter"),
    ("/v1/users/discord/username", "discord"),
    ("/v1/users/github/username", "github"),
    ("/v1/users/telegram/username", "telegram"),
];

/// The handle a username lookup names: `username` of `body`, at `kind`.
pub fn lookup_handle(kind: &'static str, body: &Value) -> Result<crate::model::Handle, ApiError> {
    let username = object(body)?
        .get("username")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|name| (1..=255).contains(&name.chars().count()))
        .ok_or_else(|| invalid("username", "is required: a string of 1 to 255 characters"))?;
    Ok(crate::model::Handle::new(kind, username))
}

/// Reads `POST /v1/users/{id}/accounts/unlink`: our account type and its value.
pub fn parse_unlink(body: &Value) -> Result<(String, String), ApiError> {
    let object = object(body)?;
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    let kind = text("type").ok_or_else(|| invalid("type", "is required"))?;
    let handle = text("handle").ok_or_else(|| invalid("handle", "is required"))?;
    Ok((accounts::our_type(kind).to_owned(), handle.to_owned()))
}

/// A user as Privy shows one.
pub fn user_view(user: &User) -> Value {
    json!({
        "id": format!("{DID_PREFIX}{}", user.id),
        "created_at": accounts::unix_seconds(&user.created_at),
        "linked_accounts": accounts::linked_accounts(user),
        "mfa_methods": [],
        "has_accepted_terms": false,
        "is_guest": false,
        "custom_metadata": user.custom_metadata,
    })
}

/// 200 with the user.
pub fn user_reply(user: &User) -> Reply {
    Reply::ok(user_view(user))
}

/// A page: `{data, next_cursor}`.
pub fn page_reply(users: &[User], next_cursor: Option<&str>) -> Reply {
    let data: Vec<Value> = users.iter().map(user_view).collect();
    Reply::ok(json!({"data": data, "next_cursor": next_cursor}))
}

/// Privy's allowlist types and ours.
const ALLOW_TYPES: [(&str, AccessKind); 4] = [
    ("email", AccessKind::Email),
    ("emailDomain", AccessKind::EmailDomain),
    ("wallet", AccessKind::Wallet),
    ("phone", AccessKind::Phone),
];

/// Reads an allowlist entry's `{type, value}` (add and remove both send it).
pub fn parse_allow_entry(body: &Value) -> Result<Named, ApiError> {
    let object = object(body)?;
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    let (_, ours) = ALLOW_TYPES
        .iter()
        .find(|(theirs, _)| *theirs == kind)
        .ok_or_else(|| invalid("type", "must be one of: email, emailDomain, wallet, phone"))?;
    let native = json!({"type": ours, "value": object.get("value")});
    parse_named("", &native, &[*ours]).map_err(ApiError::Validation)
}

/// An allowlist entry as Privy shows one.
pub fn allow_entry_view(app: &str, entry: &AllowEntry) -> Value {
    let kind = ALLOW_TYPES
        .iter()
        .find(|(_, ours)| *ours == entry.kind)
        .map(|(theirs, _)| *theirs);
    json!({
        "id": entry.id,
        "acceptedAt": entry.accepted_at.as_deref().and_then(accounts::unix_seconds),
        "appId": app,
        "type": kind,
        "value": entry.value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_create_body_reads_with_no_wallet_unless_asked() {
        let user = parse_create(
            &json!({"linked_accounts": [{"address": "ada@example.com", "type": "email"}]}),
        )
        .unwrap();
        assert_eq!(user.email.unwrap().as_str(), "ada@example.com");
        assert!(user.wallets.is_empty());
        let user =
            parse_create(&json!({"linked_accounts": [], "wallets": [{"chain_type": "solana"}]}))
                .unwrap();
        assert_eq!(user.wallets, [ChainType::Solana]);
        let smart = parse_create(&json!({"linked_accounts": [],
                                         "wallets": [{"chain_type": "ethereum", "create_smart_wallet": true}]}))
            .unwrap_err();
        assert_eq!(smart.details()[0].field, "wallets[0].create_smart_wallet");
    }

    #[test]
    fn lookups_read_their_field_as_its_account() {
        let found = lookup(
            "custom_auth",
            "custom_user_id",
            &json!({"custom_user_id": "u-1"}),
        )
        .unwrap();
        let id = found.identifier();
        assert_eq!((id.kind(), id.value()), ("custom", "u-1"));
        let found = lookup("farcaster", "fid", &json!({"fid": 4423})).unwrap();
        let id = found.identifier();
        assert_eq!((id.kind(), id.value()), ("farcaster", "4423"));
        let found = lookup("email", "address", &json!({"address": "ADA@x.com"})).unwrap();
        assert_eq!(
            found,
            Lookup::email(&EmailAddress::parse("", "ADA@x.com").unwrap())
        );
        let error = lookup("phone", "number", &json!({})).unwrap_err();
        assert_eq!(error.details()[0].field, "number");
    }

    #[test]
    fn username_lookups_fold_case_and_the_at_sign() {
        let handle = lookup_handle("twitter", &json!({"username": "@Ada_L"})).unwrap();
        assert_eq!(
            (handle.kind, handle.username.as_str()),
            ("twitter", "ada_l")
        );
        assert!(lookup_handle("github", &json!({"username": ""})).is_err());
        assert!(lookup_handle("github", &json!({})).is_err());
    }

    #[test]
    fn conflicts_are_not_retried_by_its_client() {
        assert!(!should_retry(StatusCode::CONFLICT));
        assert!(!should_retry(StatusCode::NOT_FOUND));
        assert!(should_retry(StatusCode::TOO_MANY_REQUESTS));
        assert!(should_retry(StatusCode::SERVICE_UNAVAILABLE));
    }
}
