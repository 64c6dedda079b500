//! Original's user API (seeds `000`, `001`; its Python client `original-sdk`): under its base
//! URL, `POST /v1/user` `{email, user_external_id}` → 201 `{success, data: {uid}}`,
//! `GET /v1/user/{uid}`, and `GET /v1/user?email=` or `?user_external_id=` → the user, or
//! 200 `{success: false, data: null}` when nobody matches. Errors are
//! `{success: false, error: {type, detail: {code, message, field_name}}}`, `type` being
//! `validation_error`, `client_error` or `server_error` (the client raises by it).
//!
//! Its `uid` is our user id, `user_external_id` our `external_id`; each ready wallet shows once
//! per network of the app (`network` its name, `chain_id`, `explorer_url`).

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{renamed, verbatim};
use crate::edge::api::{Envelope, Rendered, Reply};
use crate::edge::error::ApiError;
use crate::model::validation::{FieldError, json_type};
use crate::model::{NewUser, User, WalletStatus};

/// How Original names our fields.
const NAMES: [(&str, &str); 2] = [("external_id", "user_external_id"), ("email", "email")];
/// The query parameters every request of Original's client carries (its credentials, again).
const CREDENTIAL_PARAMS: [&str; 2] = ["api_key", "api_secret"];

/// Original's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct OriginalEnvelope;

impl Envelope for OriginalEnvelope {
    fn render(&self, reply: &Reply) -> Rendered {
        verbatim(reply)
    }

    fn failure(&self, _request_id: &str, error: &ApiError) -> Rendered {
        let status = error.status();
        let kind = if status.is_server_error() {
            "server_error"
        } else if matches!(error, ApiError::Validation(_) | ApiError::MalformedJson(_)) {
            "validation_error"
        } else {
            "client_error"
        };
        let code = match error {
            ApiError::Validation(_) => "invalid",
            ApiError::Conflict(_) => "unique",
            other => other.code(),
        };
        let details: Vec<Value> = match error.details() {
            [] => vec![json!({"code": code, "message": error.to_string(), "field_name": null})],
            fields => fields
                .iter()
                .map(|f| json!({"code": code, "message": f.message, "field_name": f.field}))
                .collect(),
        };
        // One failure is an object, as Original's documents show; several a list (its client
        // reads the first).
        let detail = match details.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(details),
        };
        let body = json!({"success": false, "error": {"type": kind, "detail": detail}});
        Rendered {
            status: status.as_u16(),
            body: body.to_string(),
            etag: None,
        }
    }

    fn auth_scheme(&self) -> &'static str {
        "Bearer"
    }
}

/// Reads `POST /v1/user`'s body (both fields optional, `null` allowed, nothing else).
pub fn parse_create(body: &Value) -> Result<NewUser, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "",
            format!("the body must be a JSON object, got {}", json_type(body)),
        )]));
    };
    let mut native = Map::new();
    let mut unknown = Vec::new();
    for (key, value) in object {
        match NAMES.iter().find(|(_, theirs)| theirs == key) {
            Some((ours, _)) => {
                native.insert((*ours).to_owned(), value.clone());
            }
            None => unknown.push(FieldError::new(
                key,
                "unknown field; expected email or user_external_id",
            )),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    // Original creates no wallet up front (its wallets come on first use): ours are made from
    // the stream as for any user, on the app's networks.
    NewUser::parse(&Value::Object(native))
        .map_err(|errors| in_its_words(ApiError::Validation(errors)))
}

/// `error` naming Original's fields.
pub fn in_its_words(error: ApiError) -> ApiError {
    renamed(error, &NAMES)
}

/// What `GET /v1/user` asks: the identifier to look up, from `email` or `user_external_id`
/// (the credentials the client repeats in the query are ignored).
pub fn lookup_query(params: &[(String, String)]) -> Result<(String, String), ApiError> {
    let asked: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, _)| !CREDENTIAL_PARAMS.contains(&name.as_str()))
        .collect();
    match asked.as_slice() {
        [(name, value)] if name == "email" => Ok(("email".into(), value.clone())),
        [(name, value)] if name == "user_external_id" => Ok(("external_id".into(), value.clone())),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "",
            "give one of email or user_external_id",
        )])),
    }
}

/// 201 with the new user's uid.
pub fn created(user: &User) -> Reply {
    Reply::with_status(
        StatusCode::CREATED,
        json!({"success": true, "data": {"uid": user.id}}),
    )
}

/// 200 with the user, or for a lookup that found nobody, `{success: false, data: null}`.
pub fn found(user: Option<&User>) -> Reply {
    match user {
        Some(user) => Reply::ok(json!({"success": true, "data": user_view(user)})),
        None => Reply::ok(json!({"success": false, "data": null})),
    }
}

fn user_view(user: &User) -> Value {
    let wallets: Vec<Value> = user
        .wallets
        .iter()
        .filter(|wallet| wallet.status == WalletStatus::Ready)
        .flat_map(|wallet| {
            wallet.networks.iter().map(move |network| {
                json!({
                    "address": wallet.address,
                    "chain_id": network.chain_id,
                    "explorer_url": network.explorer_url,
                    "network": network.name,
                })
            })
        })
        .collect();
    json!({
        "uid": user.id,
        "user_external_id": user.external_id,
        "email": user.email,
        "created_at": user.created_at,
        "wallets": wallets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_body_reads_with_nulls_and_its_field_names() {
        let user = parse_create(&json!({"email": null, "user_external_id": "ext-1"})).unwrap();
        assert_eq!(user.external_id.as_deref(), Some("ext-1"));
        assert_eq!(user.email, None);
        let error = parse_create(&json!({"email": "nope", "user_external_id": ""})).unwrap_err();
        let fields: Vec<&str> = error.details().iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["user_external_id", "email"]);
        let error = parse_create(&json!({"external_id": "x"})).unwrap_err();
        assert_eq!(error.details()[0].field, "external_id");
    }

    #[test]
    fn errors_carry_the_type_its_client_raises_by() {
        let body = |error: ApiError| -> Value {
            serde_json::from_str(&OriginalEnvelope.failure("r", &error).body).unwrap()
        };
        let invalid = body(ApiError::Validation(vec![FieldError::new("email", "bad")]));
        assert_eq!(invalid["error"]["type"], "validation_error");
        assert_eq!(invalid["error"]["detail"]["field_name"], "email");
        let taken = body(ApiError::Conflict(vec![FieldError::new("email", "taken")]));
        assert_eq!(taken["error"]["type"], "client_error");
        let down = body(ApiError::Internal { cause: None });
        assert_eq!(down["error"]["type"], "server_error");
        assert_eq!(down["success"], false);
    }

    #[test]
    fn lookups_take_one_identifier_beside_the_credentials() {
        let params = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            lookup_query(&params(&[
                ("api_key", "k"),
                ("api_secret", "s"),
                ("email", "a@x.com")
            ]))
            .unwrap(),
            ("email".to_owned(), "a@x.com".to_owned())
        );
        assert!(lookup_query(&params(&[("email", "a"), ("user_external_id", "b")])).is_err());
        assert!(lookup_query(&params(&[])).is_err());
    }
}
