//! The dialects' `events/` payloads made sendable: their placeholders replaced with a key's
//! credentials for each dialect (the `clients` object `create-key` prints), and OST's
//! requests signed now, as its client would sign them.

use base64::Engine;
use serde_json::{Map, Value};
use shared::dialects::credentials;
use shared::model::api_key::ClientSecret;

/// Where OST's clients' base URL ends: the path its signature covers starts after it.
const OST_BASE: &str = "/ost/v1";

/// The payload `text` with `clients`' credentials in place of its placeholders; an OST
/// request is signed at `now_secs`.
pub fn sendable(text: &str, clients: &Value, now_secs: u64) -> String {
    let app_id = clients["privy"]["app_id"].as_str().unwrap_or_default();
    let mut event: Value = serde_json::from_str(&text.replace("REPLACE_WITH_YOUR_APP_ID", app_id))
        .unwrap_or(Value::Null);
    let credential = |dialect: &str, field: &str| {
        clients[dialect][field]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(headers) = event["headers"].as_object_mut() {
        let authorization = headers
            .get("authorization")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if authorization.starts_with("ApiKey ") {
            let key = credential("onboarding", "api_key");
            headers.insert(
                "authorization".into(),
                Value::String(format!("ApiKey {key}")),
            );
        }
        if headers.contains_key("x-api-key") {
            headers.insert(
                "x-api-key".into(),
                Value::String(credential("original", "api_key")),
            );
            let token = credential("original", "token");
            headers.insert(
                "authorization".into(),
                Value::String(format!("Bearer {token}")),
            );
        }
        if headers.contains_key("privy-app-id") {
            let (basic, _) = privy_basic(clients);
            headers.insert("authorization".into(), Value::String(basic));
        }
    }
    let path = event["rawPath"].as_str().unwrap_or_default().to_owned();
    if let Some(endpoint) = path.strip_prefix(OST_BASE) {
        sign_ost(&mut event, endpoint, clients, now_secs);
    }
    event.to_string()
}

/// `params`, with `clients`' OST key and `now_secs` added, signed as OST's client signs a
/// request to `endpoint` (the path after its base URL).
pub fn ost_signed(
    clients: &Value,
    endpoint: &str,
    mut params: Vec<(String, String)>,
    now_secs: u64,
) -> Vec<(String, String)> {
    let ost = &clients["ost"];
    let key_id = ost["api_key"].as_str().unwrap_or_default();
    params.push(("api_key".into(), key_id.into()));
    params.push(("request_timestamp".into(), now_secs.to_string()));
    let secret = ost["api_secret"].as_str().unwrap_or_default();
    if let Some(secret) = ClientSecret::from_opened(secret.as_bytes()) {
        let text = credentials::ost_string_to_sign(endpoint, &params);
        params.push((
            "signature".into(),
            credentials::ost_signature(&secret, &text),
        ));
    }
    params
}

/// Privy's `Authorization` value for `clients`' key (`Basic` of `app_id:app_secret`), and the
/// app id its `privy-app-id` header carries.
pub fn privy_basic(clients: &Value) -> (String, String) {
    let privy = &clients["privy"];
    let app_id = privy["app_id"].as_str().unwrap_or_default().to_owned();
    let secret = privy["app_secret"].as_str().unwrap_or_default();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{app_id}:{secret}"));
    (format!("Basic {encoded}"), app_id)
}

/// Signs the OST request in `event` (its form body, or else its query) with `clients`' key.
fn sign_ost(event: &mut Value, endpoint: &str, clients: &Value, now_secs: u64) {
    let in_body = event["body"].is_string();
    let carried = if in_body {
        event["body"].as_str().unwrap_or_default().to_owned()
    } else {
        event["rawQueryString"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(carried.as_bytes())
        .into_owned()
        .filter(|(name, _)| !["api_key", "request_timestamp", "signature"].contains(&name.as_str()))
        .collect();
    let params = ost_signed(clients, endpoint, params, now_secs);
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    if in_body {
        event["body"] = Value::String(encoded.clone());
        event["headers"]["content-length"] = Value::String(encoded.len().to_string());
    } else {
        event["rawQueryString"] = Value::String(encoded);
        let mut query = Map::new();
        for (name, value) in params {
            query.insert(name, Value::String(value));
        }
        event["queryStringParameters"] = Value::Object(query);
    }
}
