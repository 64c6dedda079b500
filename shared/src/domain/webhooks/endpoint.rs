//! A webhook endpoint: where an app wants its events, which ones, and the secrets that sign
//! them (sealed at rest: the table never holds a secret in plain text).

use serde_json::Value;

use super::destination::{self, DestinationPolicy};
use crate::domain::events::EventType;
use crate::model::validation::{FieldError, Violations};

/// How often a change to an endpoint (a rotation, a disable) re-reads it after another change
/// came first, before giving up.
pub const ENDPOINT_ATTEMPTS: u32 = 3;

/// Endpoints one app may have.
pub const MAX_ENDPOINTS_PER_APP: u32 = 20;
/// How long a rotated-out secret keeps signing, so receivers can switch without a gap.
pub const ROTATION_OVERLAP_SECS: i64 = 24 * 60 * 60;
/// The least time between two rotations of one endpoint's secret.
pub const MIN_ROTATION_INTERVAL_SECS: i64 = 60;
const FIELDS: [&str; 2] = ["url", "events"];

pub use crate::model::webhook::{Endpoint, EndpointStatus, StoredSecret};

/// A new endpoint's id: `ep_` and 32 hex digits.
pub fn new_endpoint_id() -> String {
    format!("ep_{}", uuid::Uuid::new_v4().simple())
}

/// Whether `text` has the form of an endpoint id (checked before it reaches a key).
pub fn is_endpoint_id(text: &str) -> bool {
    crate::model::ids::is_hex_id(text, "ep_")
}

/// A registration request, checked for form (the host's addresses are checked by
/// [`destination::check_url`] before anything is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
}

/// Reads `{url, events}`. Unknown fields are errors; `events` lists known types, at least one.
pub fn parse_new_endpoint(
    body: &Value,
    policy: DestinationPolicy,
) -> Result<NewEndpoint, Vec<FieldError>> {
    let mut violations = Violations::default();
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("", "must be a JSON object")]);
    };
    for key in object.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        violations.add(
            key.as_str(),
            format!("unknown field; expected one of: {}", FIELDS.join(", ")),
        );
    }
    let url = match object.get("url") {
        Some(Value::String(url)) => violations.check(
            destination::parse_url(url, policy)
                .map(|u| u.to_string())
                .map_err(|e| FieldError::new("url", e.to_string())),
        ),
        Some(_) => {
            violations.add("url", "must be a string");
            None
        }
        None => {
            violations.add("url", "is required");
            None
        }
    };
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    let mut events = Vec::new();
    match object.get("events") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                match item.as_str().and_then(EventType::parse) {
                    Some(kind) if !events.contains(&kind) => events.push(kind),
                    Some(_) => violations.add(format!("events[{index}]"), "is listed twice"),
                    None => violations.add(
                        format!("events[{index}]"),
                        format!("must be one of: {}", names.join(", ")),
                    ),
                }
            }
        }
        Some(_) => violations.add(
            "events",
            format!("must be a non-empty array of: {}", names.join(", ")),
        ),
        None => violations.add("events", "is required"),
    }
    match (url, violations.is_empty()) {
        (Some(url), true) => Ok(NewEndpoint { url, events }),
        _ => Err(violations.into_errors()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SealedKey;
    use serde_json::json;

    const DEPLOYED: DestinationPolicy = DestinationPolicy {
        allow_loopback: false,
        webhook_ports: &[],
    };

    #[test]
    fn reads_a_registration() {
        let parsed = parse_new_endpoint(
            &json!({"url": "https://8.8.8.8/hooks", "events": ["user.created", "user.wallet_created"]}),
            DEPLOYED,
        )
        .unwrap();
        assert_eq!(
            parsed.events,
            [EventType::UserCreated, EventType::WalletCreated]
        );
        assert_eq!(parsed.url, "https://8.8.8.8/hooks");
    }

    #[test]
    fn names_every_bad_field() {
        let errors = parse_new_endpoint(
            &json!({"url": "http://8.8.8.8/", "events": ["user.created", "user.created", "nope"], "x": 1}),
            DEPLOYED,
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["x", "url", "events[1]", "events[2]"]);
        let errors = parse_new_endpoint(&json!({"events": []}), DEPLOYED).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events"]);
    }

    #[test]
    fn rotated_secrets_sign_until_they_expire() {
        let sealed = SealedKey {
            provider: "local".into(),
            encrypted_data_key: String::new(),
            nonce: String::new(),
            ciphertext: String::new(),
            context: None,
        };
        let secret = |expires_at: Option<&str>| StoredSecret {
            sealed: sealed.clone(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            expires_at: expires_at.map(str::to_owned),
        };
        let endpoint = Endpoint {
            id: new_endpoint_id(),
            url: "https://8.8.8.8/".into(),
            events: vec![EventType::UserCreated],
            status: EndpointStatus::Enabled,
            disabled_reason: None,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            secrets: vec![secret(None), secret(Some("2026-01-02T00:00:00.000Z"))],
            version: 1,
        };
        assert_eq!(
            endpoint.signing_secrets("2026-01-01T12:00:00.000Z").count(),
            2
        );
        assert_eq!(
            endpoint.signing_secrets("2026-01-02T00:00:00.001Z").count(),
            1
        );
        assert!(is_endpoint_id(&endpoint.id));
        assert!(endpoint.view().get("secrets").is_none());
    }
}
