//! The app's API keys, for the people who configure it (`admin`):
//! - `GET /v1/keys`: every key, oldest first, revoked ones included, marking the one that made
//!   the request (`current`); never a hash or a secret.
//! - `POST /v1/keys` `{"scopes": [...]}` (every scope if left out): a new key, shown once, with
//!   what each dialect's client is configured with. A key grants only scopes it holds.
//! - `DELETE /v1/keys/{id}`: revokes a live key, the caller's own included; an unknown,
//!   another app's or an already revoked key is `404`.

use serde::Serialize;
use serde_json::Value;
use shared::dialects::credentials;
use shared::domain::apps;
use shared::edge::api::Reply;
use shared::edge::auth;
use shared::edge::error::ApiError;
use shared::model::api_key::is_key_id;
use shared::model::validation::{FieldError, json_type};
use shared::model::{ApiKeyRecord, Scope};
use shared::ports::AppAdmin;
use shared::ports::sealer::KeySealer;

/// A key as the API shows it: what it may do and when it was used, never its hash.
#[derive(Debug, Serialize)]
pub struct ListedKey<'a> {
    pub key_id: &'a str,
    pub scopes: Vec<Scope>,
    pub created_at: &'a str,
    pub last_used_at: Option<&'a str>,
    pub revoked_at: Option<&'a str>,
    /// Whether it is the key that made this request.
    pub current: bool,
}

impl<'a> ListedKey<'a> {
    /// `record` as `caller` (the key that made the request) sees it.
    pub fn of(record: &'a ApiKeyRecord, caller: &ApiKeyRecord) -> Self {
        Self {
            key_id: &record.key_id,
            scopes: record.scopes(),
            created_at: &record.created_at,
            last_used_at: record.last_used_at.as_deref(),
            revoked_at: record.revoked_at.as_deref(),
            current: record.key_id == caller.key_id,
        }
    }
}

#[derive(Serialize)]
struct Keys<'a> {
    keys: Vec<ListedKey<'a>>,
}

/// A new key: its record, the key itself and the dialects' credentials, shown this once.
#[derive(Serialize)]
struct Issued<'a> {
    #[serde(flatten)]
    key: ListedKey<'a>,
    api_key: &'a str,
    clients: Value,
}

/// `GET /v1/keys`.
pub async fn list<S: AppAdmin>(store: &S, caller: &ApiKeyRecord) -> Result<Reply, ApiError> {
    let records = apps::list_api_keys(store, &caller.app_id).await?;
    let keys = records
        .iter()
        .map(|record| ListedKey::of(record, caller))
        .collect();
    Ok(Reply::ok(Keys { keys }))
}

/// `POST /v1/keys`.
pub async fn create<S: AppAdmin, K: KeySealer>(
    store: &S,
    sealer: &K,
    caller: &ApiKeyRecord,
    body: &Value,
) -> Result<Reply, ApiError> {
    let scopes = parse_new_key(body)?;
    let issued = apps::issue_api_key_by(store, sealer, caller, &scopes).await?;
    Ok(Reply::created(Issued {
        key: ListedKey::of(&issued.record, caller),
        api_key: &issued.token,
        clients: credentials::clients(&caller.app_id, &issued),
    }))
}

/// `DELETE /v1/keys/{id}`.
pub async fn revoke<S: AppAdmin>(
    store: &S,
    caller: &ApiKeyRecord,
    key_id: &str,
) -> Result<Reply, ApiError> {
    // Text that is no key id names no key: refused without a write.
    if !is_key_id(key_id) {
        return Err(ApiError::NotFound("API key"));
    }
    auth::revoke_api_key(store, &caller.app_id, key_id).await?;
    Ok(Reply::no_content())
}

/// `{"scopes": [...]}`: known scopes, each listed once, at least one; left out, every scope.
/// `null` is refused rather than read as "left out": a client bug must not mint a key that
/// does everything.
fn parse_new_key(body: &Value) -> Result<Vec<Scope>, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "",
            format!("the body must be a JSON object, got {}", json_type(body)),
        )]));
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|key| key.as_str() != "scopes")
        .map(|key| FieldError::new(key, "unknown field; expected scopes"))
        .collect();
    let scopes = match object.get("scopes") {
        None => Scope::ALL.to_vec(),
        Some(Value::Array(items)) if items.is_empty() => {
            errors.push(FieldError::new(
                "scopes",
                "must list at least one scope (leave it out for every scope)",
            ));
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let mut scopes = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str().and_then(Scope::parse) {
                    Some(scope) if !scopes.contains(&scope) => scopes.push(scope),
                    Some(_) => errors.push(FieldError::new(
                        format!("scopes[{index}]"),
                        "is listed twice",
                    )),
                    None => errors.push(FieldError::new(
                        format!("scopes[{index}]"),
                        format!("must be one of {}", scope_names()),
                    )),
                }
            }
            scopes.sort();
            scopes
        }
        Some(other) => {
            errors.push(FieldError::new(
                "scopes",
                format!(
                    "must be an array of scopes (leave it out for every scope), got {}",
                    json_type(other)
                ),
            ));
            Vec::new()
        }
    };
    if errors.is_empty() {
        Ok(scopes)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `users:read, users:write, wallets:sign, webhooks, admin`.
fn scope_names() -> String {
    Scope::ALL.map(Scope::as_str).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::model::AppId;
    use shared::model::api_key::issue_key;

    fn fields(body: Value) -> Vec<String> {
        match parse_new_key(&body) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn scopes_are_known_listed_once_and_at_least_one() {
        assert_eq!(parse_new_key(&json!({})).unwrap(), Scope::ALL);
        assert_eq!(
            parse_new_key(&json!({"scopes": ["webhooks", "users:read"]})).unwrap(),
            [Scope::UsersRead, Scope::Webhooks]
        );
        assert_eq!(fields(json!({"scopes": []})), ["scopes"]);
        assert_eq!(fields(json!({"scopes": null})), ["scopes"]);
        assert_eq!(fields(json!({"scopes": "admin"})), ["scopes"]);
        assert_eq!(
            fields(json!({"scopes": ["admin", "users:admin", 3, "admin"]})),
            ["scopes[1]", "scopes[2]", "scopes[3]"]
        );
        assert_eq!(fields(json!({"scope": ["admin"]})), ["scope"]);
        assert_eq!(fields(json!(["admin"])), [""]);
    }

    #[test]
    fn a_listed_key_shows_no_hash_and_marks_the_callers() {
        let app = AppId::generate();
        let caller = issue_key(&app, &Scope::ALL, "2026-01-01T00:00:00.000Z")
            .unwrap()
            .record;
        let other = issue_key(&app, &[Scope::UsersRead], "2026-01-02T00:00:00.000Z")
            .unwrap()
            .record;
        let shown = serde_json::to_value(Keys {
            keys: vec![
                ListedKey::of(&caller, &caller),
                ListedKey::of(&other, &caller),
            ],
        })
        .unwrap();
        assert_eq!(
            shown["keys"][1],
            json!({
                "key_id": other.key_id,
                "scopes": ["users:read"],
                "created_at": "2026-01-02T00:00:00.000Z",
                "last_used_at": null,
                "revoked_at": null,
                "current": false,
            })
        );
        assert_eq!(shown["keys"][0]["current"], true);
        assert!(!shown.to_string().contains(&caller.key_hash));
    }
}
