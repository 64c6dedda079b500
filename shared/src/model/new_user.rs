//! A request to create a user, parsed from its JSON body with every bad field named.

use serde_json::{Map, Value};

use super::{ChainType, EmailAddress, Identifier, LinkedAccount};
use crate::model::validation::{FieldError, Violations, check_text, expect_str, json_type};

/// The most characters of an app's own user id.
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;
/// The bounds of a display name, in characters.
pub const USERNAME_CHARS: (usize, usize) = (3, 50);

/// A username as a user holds it, and as a listing filters by it.
pub fn check_username(text: &str) -> Result<(), FieldError> {
    let (min, max) = USERNAME_CHARS;
    check_text("username", text, min, max)
}
/// The most linked accounts one request may carry.
pub const MAX_LINKED_ACCOUNTS: usize = 20;
/// The largest `custom_metadata`, as compact JSON.
pub const MAX_CUSTOM_METADATA_BYTES: usize = 8 * 1024;
/// The deepest nesting of objects and arrays inside `custom_metadata`.
pub const MAX_CUSTOM_METADATA_DEPTH: usize = 8;

const FIELDS: &[&str] = &[
    "external_id",
    "email",
    "username",
    "linked_accounts",
    "custom_metadata",
    "wallets",
];

/// A valid request to create a user.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub external_id: Option<String>,
    pub email: Option<EmailAddress>,
    pub username: Option<String>,
    pub linked_accounts: Vec<LinkedAccount>,
    pub custom_metadata: Map<String, Value>,
    /// The chains to provision embedded wallets on, without repeats.
    pub wallets: Vec<ChainType>,
    /// Whether the request said which wallets; if not, `wallets` is the default (ethereum),
    /// and a create gives one wallet per chain type of the app's networks instead.
    pub wallets_given: bool,
}

impl NewUser {
    /// Parses a create (or find-or-create) body. A field given as `null` counts as absent;
    /// unknown fields are errors, so a misspelt field is never silently ignored.
    pub fn parse(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut violations = Violations::default();
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new(
                "",
                format!("the body must be a JSON object, got {}", json_type(body)),
            )]);
        };
        for key in object.keys() {
            if !FIELDS.contains(&key.as_str()) {
                violations.add(
                    key.as_str(),
                    format!("unknown field; expected one of: {}", FIELDS.join(", ")),
                );
            }
        }
        let present = |name: &str| object.get(name).filter(|value| !value.is_null());

        let external_id = present("external_id").and_then(|value| {
            let text = violations.check(expect_str("external_id", value))?;
            violations.check(check_text("external_id", text, 1, MAX_EXTERNAL_ID_CHARS))?;
            Some(text.to_owned())
        });
        let mut email = present("email").and_then(|value| {
            let text = violations.check(expect_str("email", value))?;
            violations.check(EmailAddress::parse("email", text))
        });
        let username = present("username").and_then(|value| {
            let text = violations.check(expect_str("username", value))?;
            violations.check(check_username(text))?;
            Some(text.to_owned())
        });
        let linked_accounts = present("linked_accounts")
            .map(|value| parse_linked_accounts(value, &mut violations))
            .unwrap_or_default();
        email = merge_linked_email(
            email,
            present("email").is_some(),
            &linked_accounts,
            &mut violations,
        );
        let custom_metadata = present("custom_metadata")
            .and_then(|value| violations.check(parse_custom_metadata(value)))
            .unwrap_or_default();
        let wallets_given = present("wallets").is_some();
        let wallets = match present("wallets") {
            Some(value) => parse_wallets(value, &mut violations),
            None => vec![ChainType::Ethereum],
        };

        violations.finish(|| NewUser {
            external_id,
            email,
            username,
            linked_accounts,
            custom_metadata,
            wallets,
            wallets_given,
        })
    }

    /// Parses a find-or-create body, which must name at least one identifier to find by.
    pub fn parse_identified(body: &Value) -> Result<Self, Vec<FieldError>> {
        let user = Self::parse(body)?;
        if user.identifiers().is_empty() {
            return Err(vec![FieldError::new(
                "",
                "at least one of external_id, email or linked_accounts is required",
            )]);
        }
        Ok(user)
    }

    /// The identifiers the new user will hold, each with the request field it came from.
    pub fn identifiers(&self) -> Vec<(String, Identifier)> {
        let mut identifiers = Vec::new();
        if let Some(external_id) = &self.external_id {
            identifiers.push((
                "external_id".to_owned(),
                Identifier::ExternalId(external_id.clone()),
            ));
        }
        if let Some(email) = &self.email {
            identifiers.push((
                "email".to_owned(),
                Identifier::Email(email.key().to_owned()),
            ));
        }
        // An `email` account is the email above; the others keep their request positions.
        for (index, account) in self.linked_accounts.iter().enumerate() {
            if account.email().is_none() {
                identifiers.push((format!("linked_accounts[{index}]"), account.identifier()));
            }
        }
        identifiers
    }

    /// The linked accounts the user will hold: all but `email` accounts (the user's `email`).
    pub fn held_accounts(&self) -> impl Iterator<Item = &LinkedAccount> {
        self.linked_accounts
            .iter()
            .filter(|account| account.email().is_none())
    }
}

/// The user's email, given as `email` or as an `email` linked account (Privy's way): one
/// email per user, so two different ones are an error naming both.
fn merge_linked_email(
    email: Option<EmailAddress>,
    email_given: bool,
    accounts: &[LinkedAccount],
    violations: &mut Violations,
) -> Option<EmailAddress> {
    let mut merged = email;
    let mut from: Option<String> = email_given.then(|| "email".to_owned());
    for (index, account) in accounts.iter().enumerate() {
        let Some(address) = account.email() else {
            continue;
        };
        let path = format!("linked_accounts[{index}].address");
        let Some(linked) = violations.check(EmailAddress::parse(&path, address)) else {
            continue;
        };
        match (&merged, &from) {
            (Some(current), Some(first)) if current.key() != linked.key() => {
                let message = format!("differs from {first}: a user has one email");
                if first == "email" {
                    violations.add(
                        "email",
                        format!("differs from {path}: a user has one email"),
                    );
                }
                violations.add(&path, message);
            }
            (Some(_), _) => {}
            (None, _) => {
                merged = Some(linked);
                from = Some(path);
            }
        }
    }
    merged
}

fn parse_linked_accounts(value: &Value, violations: &mut Violations) -> Vec<LinkedAccount> {
    let Some(items) = value.as_array() else {
        violations.add(
            "linked_accounts",
            format!("must be an array, got {}", json_type(value)),
        );
        return Vec::new();
    };
    if items.len() > MAX_LINKED_ACCOUNTS {
        violations.add(
            "linked_accounts",
            format!("must hold at most {MAX_LINKED_ACCOUNTS} accounts"),
        );
        return Vec::new();
    }
    let mut accounts: Vec<LinkedAccount> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("linked_accounts[{index}]");
        let Some(account) = LinkedAccount::parse(&path, item, violations) else {
            continue;
        };
        let identifier = account.identifier();
        if let Some(first) = accounts.iter().position(|a| a.identifier() == identifier) {
            violations.add(path, format!("repeats linked_accounts[{first}]"));
        } else {
            accounts.push(account);
        }
    }
    accounts
}

fn parse_custom_metadata(value: &Value) -> Result<Map<String, Value>, FieldError> {
    const FIELD: &str = "custom_metadata";
    let Some(object) = value.as_object() else {
        return Err(FieldError::new(
            FIELD,
            format!("must be an object, got {}", json_type(value)),
        ));
    };
    if depth(value) > MAX_CUSTOM_METADATA_DEPTH {
        return Err(FieldError::new(
            FIELD,
            format!("must nest at most {MAX_CUSTOM_METADATA_DEPTH} levels deep"),
        ));
    }
    let size = serde_json::to_vec(value)
        .map(|bytes| bytes.len())
        .unwrap_or(usize::MAX);
    if size > MAX_CUSTOM_METADATA_BYTES {
        return Err(FieldError::new(
            FIELD,
            format!("must be at most {MAX_CUSTOM_METADATA_BYTES} bytes as JSON, got {size}"),
        ));
    }
    Ok(object.clone())
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn parse_wallets(value: &Value, violations: &mut Violations) -> Vec<ChainType> {
    let Some(items) = value.as_array() else {
        violations.add(
            "wallets",
            format!("must be an array, got {}", json_type(value)),
        );
        return Vec::new();
    };
    // One error for an overlong array, not one per item.
    if items.len() > ChainType::ALL.len() {
        violations.add(
            "wallets",
            format!(
                "must hold at most {} wallets, one per chain",
                ChainType::ALL.len()
            ),
        );
        return Vec::new();
    }
    let mut chains = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("wallets[{index}]");
        match parse_wallet_spec(&path, item, violations) {
            Some(chain) if chains.contains(&chain) => violations.add(
                format!("{path}.chain_type"),
                "a user has at most one wallet per chain",
            ),
            Some(chain) => chains.push(chain),
            None => {}
        }
    }
    chains
}

/// Parses `{"chain_type": "…"}`: one wallet to provision.
fn parse_wallet_spec(path: &str, item: &Value, violations: &mut Violations) -> Option<ChainType> {
    let field = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let Some(object) = item.as_object() else {
        violations.add(path, format!("must be an object, got {}", json_type(item)));
        return None;
    };
    for key in object.keys().filter(|key| *key != "chain_type") {
        violations.add(field(key), "unknown field; expected chain_type");
    }
    let chain_path = field("chain_type");
    let Some(value) = object.get("chain_type") else {
        violations.add(&chain_path, "is required");
        return None;
    };
    let name = violations.check(expect_str(&chain_path, value))?;
    let chain = ChainType::parse(name);
    if chain.is_none() {
        violations.add(&chain_path, "must be one of: ethereum, solana");
    }
    chain
}

/// Parses the body of `POST /v1/users/{id}/wallets`: `{"chain_type": "ethereum" | "solana"}`.
pub fn parse_wallet_request(body: &Value) -> Result<ChainType, Vec<FieldError>> {
    let mut violations = Violations::default();
    let chain = parse_wallet_spec("", body, &mut violations);
    match chain {
        Some(chain) if violations.is_empty() => Ok(chain),
        _ => Err(violations.into_errors()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn an_email_account_is_the_users_email_and_a_different_one_is_named() {
        let privy = json!({"linked_accounts": [
            {"type": "twitter", "subject": "1"},
            {"type": "email", "address": "Ada@Example.com"},
            {"type": "phone", "number": "+14155550123"}
        ]});
        let user = NewUser::parse(&privy).unwrap();
        assert_eq!(
            user.email.as_ref().map(|e| e.key()),
            Some("ada@example.com")
        );
        let identifiers: Vec<String> = user.identifiers().into_iter().map(|(f, _)| f).collect();
        // The others keep their request positions, so a conflict names the right one.
        assert_eq!(
            identifiers,
            ["email", "linked_accounts[0]", "linked_accounts[2]"]
        );
        assert_eq!(user.held_accounts().count(), 2);

        let same = json!({"email": "ada@example.com", "linked_accounts": [{"type": "email", "address": "ADA@example.com"}]});
        assert!(NewUser::parse(&same).is_ok());
        let differing = json!({"email": "ada@example.com", "linked_accounts": [{"type": "email", "address": "bob@example.com"}]});
        let errors = NewUser::parse(&differing).unwrap_err();
        assert_eq!(fields(&errors), ["email", "linked_accounts[0].address"]);
        let two = json!({"linked_accounts": [{"type": "email", "address": "a@example.com"}, {"type": "email", "address": "b@example.com"}]});
        let errors = NewUser::parse(&two).unwrap_err();
        assert_eq!(fields(&errors), ["linked_accounts[1].address"]);
    }

    #[test]
    fn an_empty_object_is_a_user_with_one_ethereum_wallet() {
        let user = NewUser::parse(&json!({})).unwrap();
        assert_eq!(user.wallets, [ChainType::Ethereum]);
        assert!(user.identifiers().is_empty());
    }

    #[test]
    fn nulls_are_absent_and_an_empty_wallet_list_means_none() {
        let user =
            NewUser::parse(&json!({"email": null, "external_id": null, "wallets": []})).unwrap();
        assert_eq!(user.email, None);
        assert!(user.wallets.is_empty());
    }

    #[test]
    fn collects_every_bad_field() {
        let errors = NewUser::parse(&json!({
            "external_id": "",
            "email": "not-an-email",
            "username": "ab",
            "linked_accounts": [{"type": "phone", "number": "12"}],
            "custom_metadata": [1],
            "wallets": [{"chain_type": "dogecoin"}],
            "nickname": "x"
        }))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "nickname",
                "external_id",
                "email",
                "username",
                "linked_accounts[0].number",
                "custom_metadata",
                "wallets[0].chain_type"
            ]
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let errors = NewUser::parse(&json!({"email": 5, "username": true, "wallets": "ethereum"}))
            .unwrap_err();
        assert_eq!(fields(&errors), ["email", "username", "wallets"]);
        assert!(errors[0].message.contains("got number"));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_rejected() {
        assert!(NewUser::parse(&json!([])).is_err());
        assert!(NewUser::parse(&json!("x")).is_err());
    }

    #[test]
    fn repeated_identifiers_and_chains_are_rejected() {
        let errors = NewUser::parse(&json!({
            "linked_accounts": [
                {"type": "wallet", "chain_type": "ethereum", "address": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
                {"type": "wallet", "chain_type": "ethereum", "address": "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"}
            ],
            "wallets": [{"chain_type": "solana"}, {"chain_type": "solana"}]
        }))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["linked_accounts[1]", "wallets[1].chain_type"]
        );
    }

    #[test]
    fn an_overlong_array_is_one_error() {
        let zeros = vec![json!(0); 30_000];
        for field in ["wallets", "linked_accounts"] {
            let errors = NewUser::parse(&json!({ field: zeros })).unwrap_err();
            assert_eq!(fields(&errors), [field]);
        }
        let three = json!({"wallets": [{"chain_type": "ethereum"}, {"chain_type": "solana"}, {}]});
        let errors = NewUser::parse(&three).unwrap_err();
        assert_eq!(
            errors[0].message,
            "must hold at most 2 wallets, one per chain"
        );
    }

    #[test]
    fn custom_metadata_is_bounded_in_size_and_depth() {
        let big = json!({"custom_metadata": {"blob": "x".repeat(MAX_CUSTOM_METADATA_BYTES)}});
        assert!(NewUser::parse(&big).is_err());
        let mut deep = json!(1);
        for _ in 0..=MAX_CUSTOM_METADATA_DEPTH {
            deep = json!({ "a": deep });
        }
        assert!(NewUser::parse(&json!({ "custom_metadata": deep })).is_err());
        let fine = json!({"custom_metadata": {"plan": "pro", "score": 7, "tags": ["a"]}});
        assert_eq!(
            NewUser::parse(&fine).unwrap().custom_metadata["plan"],
            "pro"
        );
    }

    #[test]
    fn identifiers_carry_their_fields() {
        let user = NewUser::parse(&json!({
            "external_id": "u-1",
            "email": "Ada@Example.com",
            "linked_accounts": [{"type": "farcaster", "fid": 4423}]
        }))
        .unwrap();
        assert_eq!(
            user.identifiers(),
            [
                (
                    "external_id".to_owned(),
                    Identifier::ExternalId("u-1".into())
                ),
                (
                    "email".to_owned(),
                    Identifier::Email("ada@example.com".into())
                ),
                (
                    "linked_accounts[0]".to_owned(),
                    Identifier::Account {
                        kind: "farcaster",
                        value: "4423".into()
                    }
                ),
            ]
        );
    }
}
