//! A signing policy: what an app lets its users' wallets sign. Every rule is optional; an app
//! that sets none lets its wallets sign any method on its own networks.

use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rpc::Method;
use super::validation::{FieldError, json_type};

/// The most addresses an allow or deny list holds.
pub const MAX_ADDRESSES: usize = 100;
/// The largest value limit: DynamoDB numbers hold 38 digits, and the daily total is one.
pub const MAX_LIMIT_DIGITS: usize = 38;

/// The rules, each absent unless set. Values are in the chain's smallest unit (wei, lamports),
/// written as decimal strings because they outgrow JSON numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningPolicy {
    /// The methods wallets may sign with (`personal_sign`, `eth_sendTransaction`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// The EVM chain ids transactions may name (each must be one of the app's networks too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_ids: Option<Vec<u64>>,
    /// The most native value one transaction may move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
    /// The most native value one wallet may move per UTC day, on each chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value_per_day: Option<String>,
    /// When set, transactions may only go to these addresses (accounts or contracts); a
    /// contract deployment has no `to` and is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to: Option<Vec<String>>,
    /// Addresses transactions may never go to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_to: Vec<String>,
}

impl SigningPolicy {
    /// Whether it sets no rule.
    pub fn is_empty(&self) -> bool {
        self == &SigningPolicy::default()
    }

    /// This policy with the rules `over` sets replacing its own (a user's override on the
    /// app's policy); deny lists add up.
    pub fn overridden_by(&self, over: &SigningPolicy) -> SigningPolicy {
        let mut denied = self.denied_to.clone();
        for address in &over.denied_to {
            if !denied.contains(address) {
                denied.push(address.clone());
            }
        }
        SigningPolicy {
            methods: over.methods.clone().or_else(|| self.methods.clone()),
            chain_ids: over.chain_ids.clone().or_else(|| self.chain_ids.clone()),
            max_value: over.max_value.clone().or_else(|| self.max_value.clone()),
            max_value_per_day: over
                .max_value_per_day
                .clone()
                .or_else(|| self.max_value_per_day.clone()),
            allowed_to: over.allowed_to.clone().or_else(|| self.allowed_to.clone()),
            denied_to: denied,
        }
    }

    /// A limit as a number (policies are validated when set, so a stored one parses).
    pub fn limit(text: &Option<String>) -> Option<U256> {
        text.as_deref()
            .and_then(|text| U256::from_str_radix(text, 10).ok())
    }
}

/// Parses a policy object at `path` (`signing_policy`). Addresses are stored lowercase.
pub fn parse_policy(path: &str, value: &Value) -> Result<SigningPolicy, Vec<FieldError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![FieldError::new(
            path,
            format!("must be an object, got {}", json_type(value)),
        )]);
    };
    let mut policy = SigningPolicy::default();
    let mut errors = Vec::new();
    for (name, value) in object {
        let field = format!("{path}.{name}");
        let mut error = |message: String| errors.push(FieldError::new(field.clone(), message));
        match name.as_str() {
            "methods" => match strings(value) {
                Some(names) => {
                    let unknown: Vec<&String> = names
                        .iter()
                        .filter(|name| !Method::ALL.iter().any(|m| m.as_str() == name.as_str()))
                        .collect();
                    if unknown.is_empty() {
                        policy.methods = Some(names);
                    } else {
                        error(format!("unknown method(s): {unknown:?}"));
                    }
                }
                None => error("must be an array of method names".into()),
            },
            "chain_ids" => match value.as_array().map(|items| {
                items
                    .iter()
                    .map(Value::as_u64)
                    .collect::<Option<Vec<u64>>>()
            }) {
                Some(Some(ids)) => policy.chain_ids = Some(ids),
                _ => error("must be an array of chain ids (integers)".into()),
            },
            "max_value" | "max_value_per_day" => match limit(value) {
                Ok(text) if name == "max_value" => policy.max_value = Some(text),
                Ok(text) => policy.max_value_per_day = Some(text),
                Err(message) => error(message),
            },
            "allowed_to" | "denied_to" => match addresses(value) {
                Ok(list) if name == "allowed_to" => policy.allowed_to = Some(list),
                Ok(list) => policy.denied_to = list,
                Err(message) => error(message),
            },
            _ => error(
                "unknown rule; expected methods, chain_ids, max_value, max_value_per_day, \
                 allowed_to or denied_to"
                    .into(),
            ),
        }
    }
    if errors.is_empty() {
        Ok(policy)
    } else {
        Err(errors)
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// A value limit: a decimal string or a JSON integer, at most 38 digits.
fn limit(value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) if number.as_u64().is_some() => number.to_string(),
        _ => return Err("must be a non-negative integer, as a decimal string".into()),
    };
    if text.is_empty() || text.len() > MAX_LIMIT_DIGITS || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "must be a decimal integer of at most {MAX_LIMIT_DIGITS} digits"
        ));
    }
    // Canonical: no leading zeros, so limits compare and display as numbers.
    Ok(U256::from_str_radix(&text, 10)
        .map(|value| value.to_string())
        .unwrap_or(text))
}

/// A list of ethereum addresses (lowercased) or solana program and account ids.
fn addresses(value: &Value) -> Result<Vec<String>, String> {
    let Some(items) = strings(value) else {
        return Err("must be an array of addresses".into());
    };
    if items.len() > MAX_ADDRESSES {
        return Err(format!("holds at most {MAX_ADDRESSES} addresses"));
    }
    items
        .iter()
        .map(|text| {
            if let Ok(address) = text.parse::<Address>() {
                Ok(format!("{address:#x}"))
            } else if bs58::decode(text)
                .into_vec()
                .is_ok_and(|bytes| bytes.len() == 32)
            {
                Ok(text.clone())
            } else {
                Err(format!("{text:?} is not an ethereum or solana address"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_policy_parses_and_canonicalises() {
        let policy = parse_policy(
            "signing_policy",
            &json!({"methods": ["personal_sign"], "chain_ids": [1, 31337],
                    "max_value": "00100", "max_value_per_day": 1000,
                    "denied_to": ["0x000000000000000000000000000000000000dEaD"]}),
        )
        .unwrap();
        assert_eq!(policy.max_value.as_deref(), Some("100"));
        assert_eq!(policy.max_value_per_day.as_deref(), Some("1000"));
        assert_eq!(
            policy.denied_to,
            ["0x000000000000000000000000000000000000dead"]
        );
    }

    #[test]
    fn bad_rules_are_named() {
        let errors = parse_policy(
            "signing_policy",
            &json!({"methods": ["eth_sign"], "max_value": "1e18", "denied_to": ["nope"],
                    "colour": "red"}),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "signing_policy.methods",
                "signing_policy.max_value",
                "signing_policy.denied_to",
                "signing_policy.colour"
            ]
        );
        assert!(parse_policy("p", &json!({"max_value": "9".repeat(39)})).is_err());
    }

    #[test]
    fn a_user_override_replaces_rules_and_adds_denials() {
        let app = SigningPolicy {
            methods: Some(vec!["personal_sign".into()]),
            max_value: Some("5".into()),
            denied_to: vec!["a".into()],
            ..Default::default()
        };
        let user = SigningPolicy {
            max_value: Some("9".into()),
            denied_to: vec!["b".into()],
            ..Default::default()
        };
        let merged = app.overridden_by(&user);
        assert_eq!(merged.methods, app.methods);
        assert_eq!(merged.max_value.as_deref(), Some("9"));
        assert_eq!(merged.denied_to, ["a", "b"]);
    }
}
