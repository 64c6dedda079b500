//! Linked accounts: identities a user holds elsewhere (a wallet, a phone, a social login, a
//! passkey). Each one is unique per app, like an email. An `email` account is accepted where
//! linked accounts are (Privy sends its emails so) and becomes the user's `email`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ChainType, Identifier, WalletAddress};
use crate::model::validation::{FieldError, Violations, check_text, expect_str, json_type};

/// The most characters a subject, handle or username of another service may have.
const MAX_SUBJECT_CHARS: usize = 255;
/// The most characters of a passkey's credential id: WebAuthn allows 1,023 bytes, which is
/// 1,364 characters of unpadded base64url.
const MAX_CREDENTIAL_ID_CHARS: usize = 1364;

/// A linked account as stored and shown: the account, and when it was linked to its user.
/// Built only by [`LinkedAccount::parse`] (or read back from the store), so its fields are
/// always valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    #[serde(flatten)]
    pub account: Account,
    /// When the account was linked: with its user's creation, or by a link. Absent on accounts
    /// stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<String>,
}

/// The account itself, by type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Account {
    Wallet {
        chain_type: ChainType,
        address: String,
    },
    /// Becomes the user's `email` when a user is created or linked; never kept in the list.
    Email {
        address: String,
    },
    Phone {
        number: String,
    },
    Twitter(OauthAccount),
    Discord(OauthAccount),
    Github(OauthAccount),
    Google(OauthAccount),
    Apple(OauthAccount),
    Telegram(OauthAccount),
    Linkedin(OauthAccount),
    Spotify(OauthAccount),
    Instagram(OauthAccount),
    Tiktok(OauthAccount),
    Line(OauthAccount),
    Farcaster {
        fid: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// A WebAuthn credential, unique by its id.
    Passkey {
        credential_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authenticator_name: Option<String>,
    },
    Custom {
        subject: String,
    },
}

/// An account at a login provider: its stable `subject` is what makes it unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OauthAccount {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The `type` names the API accepts, for the error message that lists them.
pub const LINKED_ACCOUNT_TYPES: &[&str] = &[
    "wallet",
    "email",
    "phone",
    "twitter",
    "discord",
    "github",
    "google",
    "apple",
    "telegram",
    "linkedin",
    "spotify",
    "instagram",
    "tiktok",
    "line",
    "farcaster",
    "passkey",
    "custom",
];

/// The login providers whose accounts are an [`OauthAccount`].
const OAUTH_TYPES: &[&str] = &[
    "twitter",
    "discord",
    "github",
    "google",
    "apple",
    "telegram",
    "linkedin",
    "spotify",
    "instagram",
    "tiktok",
    "line",
];

impl LinkedAccount {
    /// The identifier that makes this account unique within an app.
    pub fn identifier(&self) -> Identifier {
        self.account.identifier()
    }

    /// The account's email address, if it is an `email` account.
    pub fn email(&self) -> Option<&str> {
        match &self.account {
            Account::Email { address } => Some(address),
            _ => None,
        }
    }
}

impl Account {
    /// The identifier that makes this account unique within an app.
    pub fn identifier(&self) -> Identifier {
        let account = |kind: &'static str, value: &str| Identifier::Account {
            kind,
            value: value.to_owned(),
        };
        match self {
            Self::Wallet {
                chain_type,
                address,
            } => Identifier::Address(
                WalletAddress::parse(*chain_type, address)
                    .map(|a| a.key())
                    .unwrap_or_else(|_| address.clone()),
            ),
            Self::Email { address } => Identifier::Email(
                super::EmailAddress::parse("address", address)
                    .map(|email| email.key().to_owned())
                    .unwrap_or_else(|_| address.to_lowercase()),
            ),
            Self::Phone { number } => account("phone", number),
            Self::Twitter(a) => account("twitter", &a.subject),
            Self::Discord(a) => account("discord", &a.subject),
            Self::Github(a) => account("github", &a.subject),
            Self::Google(a) => account("google", &a.subject),
            Self::Apple(a) => account("apple", &a.subject),
            Self::Telegram(a) => account("telegram", &a.subject),
            Self::Linkedin(a) => account("linkedin", &a.subject),
            Self::Spotify(a) => account("spotify", &a.subject),
            Self::Instagram(a) => account("instagram", &a.subject),
            Self::Tiktok(a) => account("tiktok", &a.subject),
            Self::Line(a) => account("line", &a.subject),
            Self::Farcaster { fid, .. } => account("farcaster", &fid.to_string()),
            Self::Passkey { credential_id, .. } => account("passkey", credential_id),
            Self::Custom { subject } => account("custom", subject),
        }
    }
}

impl LinkedAccount {
    /// Parses one linked account at JSON path `path`, recording every problem in `violations`.
    pub fn parse(path: &str, value: &Value, violations: &mut Violations) -> Option<Self> {
        let Some(object) = value.as_object() else {
            violations.add(path, format!("must be an object, got {}", json_type(value)));
            return None;
        };
        let field = |name: &str| format!("{path}.{name}");
        let kind = match object.get("type") {
            Some(Value::String(kind)) if LINKED_ACCOUNT_TYPES.contains(&kind.as_str()) => {
                kind.as_str()
            }
            Some(Value::String(_)) | None => {
                violations.add(
                    field("type"),
                    format!("must be one of: {}", LINKED_ACCOUNT_TYPES.join(", ")),
                );
                return None;
            }
            Some(other) => {
                violations.add(
                    field("type"),
                    format!("must be a string, got {}", json_type(other)),
                );
                return None;
            }
        };
        let allowed: &[&str] = match kind {
            "wallet" => &["type", "chain_type", "address"],
            "email" => &["type", "address"],
            "phone" => &["type", "number"],
            "farcaster" => &["type", "fid", "username"],
            "passkey" => &["type", "credential_id", "authenticator_name"],
            "custom" => &["type", "subject"],
            _ => &["type", "subject", "username", "email"],
        };
        let before = violations.len();
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                violations.add(field(key), format!("is not a field of a {kind} account"));
            }
        }
        let account = match kind {
            "wallet" => parse_wallet(object, &field, violations),
            "email" => required_str(object, &field("address"), "address", violations)
                .and_then(|text| {
                    violations.check(super::EmailAddress::parse(&field("address"), text))
                })
                .map(|email| Account::Email {
                    address: email.as_str().to_owned(),
                }),
            "phone" => required_str(object, &field("number"), "number", violations)
                .and_then(|number| violations.check(parse_phone(&field("number"), number)))
                .map(|number| Account::Phone { number }),
            "farcaster" => parse_farcaster(object, &field, violations),
            "passkey" => parse_passkey(object, &field, violations),
            "custom" => required_subject(object, &field, violations)
                .map(|subject| Account::Custom { subject }),
            oauth => parse_oauth(object, &field, violations).and_then(|account| {
                debug_assert!(OAUTH_TYPES.contains(&oauth));
                Some(match oauth {
                    "twitter" => Account::Twitter(account),
                    "discord" => Account::Discord(account),
                    "github" => Account::Github(account),
                    "google" => Account::Google(account),
                    "apple" => Account::Apple(account),
                    "telegram" => Account::Telegram(account),
                    "linkedin" => Account::Linkedin(account),
                    "spotify" => Account::Spotify(account),
                    "instagram" => Account::Instagram(account),
                    "tiktok" => Account::Tiktok(account),
                    "line" => Account::Line(account),
                    _ => return None,
                })
            }),
        };
        // Unknown fields reject the account even when its own fields were fine.
        account
            .filter(|_| violations.len() == before)
            .map(|account| Self {
                account,
                linked_at: None,
            })
    }
}

fn required_str<'v>(
    object: &'v Map<String, Value>,
    path: &str,
    name: &str,
    violations: &mut Violations,
) -> Option<&'v str> {
    match object.get(name) {
        None | Some(Value::Null) => {
            violations.add(path, "is required");
            None
        }
        Some(value) => violations.check(expect_str(path, value)),
    }
}

fn optional_text(
    object: &Map<String, Value>,
    path: &str,
    name: &str,
    violations: &mut Violations,
) -> Option<Option<String>> {
    match object.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(value) => {
            let text = violations.check(expect_str(path, value))?;
            violations.check(check_text(path, text, 1, MAX_SUBJECT_CHARS))?;
            Some(Some(text.to_owned()))
        }
    }
}

fn required_subject(
    object: &Map<String, Value>,
    field: &dyn Fn(&str) -> String,
    violations: &mut Violations,
) -> Option<String> {
    let path = field("subject");
    let subject = required_str(object, &path, "subject", violations)?;
    violations.check(check_text(&path, subject, 1, MAX_SUBJECT_CHARS))?;
    Some(subject.to_owned())
}

fn parse_wallet(
    object: &Map<String, Value>,
    field: &dyn Fn(&str) -> String,
    violations: &mut Violations,
) -> Option<Account> {
    let chain_path = field("chain_type");
    let chain = required_str(object, &chain_path, "chain_type", violations).and_then(|name| {
        let chain = ChainType::parse(name);
        if chain.is_none() {
            violations.add(&chain_path, "must be one of: ethereum, solana");
        }
        chain
    });
    let address_path = field("address");
    let address = required_str(object, &address_path, "address", violations)?;
    let chain = chain?;
    let address = WalletAddress::parse(chain, address)
        .map_err(|message| FieldError::new(&address_path, message));
    let address = violations.check(address)?;
    Some(Account::Wallet {
        chain_type: chain,
        address: address.as_str().to_owned(),
    })
}

fn parse_farcaster(
    object: &Map<String, Value>,
    field: &dyn Fn(&str) -> String,
    violations: &mut Violations,
) -> Option<Account> {
    let fid_path = field("fid");
    let fid = match object.get("fid") {
        Some(value) => match value.as_u64() {
            Some(fid) if fid > 0 => Some(fid),
            _ => {
                violations.add(&fid_path, "must be a positive integer");
                None
            }
        },
        None => {
            violations.add(&fid_path, "is required");
            None
        }
    };
    let username = optional_text(object, &field("username"), "username", violations)?;
    Some(Account::Farcaster {
        fid: fid?,
        username,
    })
}

/// A passkey: its credential id as WebAuthn gives it to a browser, unpadded base64url.
fn parse_passkey(
    object: &Map<String, Value>,
    field: &dyn Fn(&str) -> String,
    violations: &mut Violations,
) -> Option<Account> {
    let path = field("credential_id");
    let id = required_str(object, &path, "credential_id", violations).and_then(|id| {
        let base64url = id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !base64url || id.is_empty() || id.len() > MAX_CREDENTIAL_ID_CHARS {
            violations.add(
                &path,
                format!("must be 1 to {MAX_CREDENTIAL_ID_CHARS} characters of unpadded base64url"),
            );
            return None;
        }
        Some(id.to_owned())
    });
    let name = optional_text(
        object,
        &field("authenticator_name"),
        "authenticator_name",
        violations,
    )?;
    Some(Account::Passkey {
        credential_id: id?,
        authenticator_name: name,
    })
}

fn parse_oauth(
    object: &Map<String, Value>,
    field: &dyn Fn(&str) -> String,
    violations: &mut Violations,
) -> Option<OauthAccount> {
    let subject = required_subject(object, field, violations);
    let username = optional_text(object, &field("username"), "username", violations);
    let email_path = field("email");
    let email = match object.get("email") {
        None | Some(Value::Null) => Some(None),
        Some(value) => violations
            .check(expect_str(&email_path, value))
            .and_then(|text| violations.check(super::EmailAddress::parse(&email_path, text)))
            .map(|email| Some(email.as_str().to_owned())),
    };
    Some(OauthAccount {
        subject: subject?,
        username: username?,
        email: email?,
    })
}

/// E.164: a plus sign and 8 to 15 digits, the first not zero. Spaces, dashes and brackets are
/// not stripped: a number is unique only in one spelling, so we accept only the canonical one.
pub(crate) fn parse_phone(path: &str, number: &str) -> Result<String, FieldError> {
    let digits = number.strip_prefix('+').unwrap_or("");
    let valid = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(number.to_owned())
    } else {
        Err(FieldError::new(
            path,
            "must be an E.164 phone number: + and 8 to 15 digits, no spaces",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<LinkedAccount, Vec<FieldError>> {
        let mut violations = Violations::default();
        let account = LinkedAccount::parse("linked_accounts[0]", &value, &mut violations);
        match account {
            Some(account) if violations.is_empty() => Ok(account),
            _ => Err(violations.into_errors()),
        }
    }

    #[test]
    fn parses_each_kind_and_round_trips_through_json() {
        for value in [
            json!({"type": "wallet", "chain_type": "ethereum", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}),
            json!({"type": "phone", "number": "+14155550123"}),
            json!({"type": "twitter", "subject": "1234", "username": "ada"}),
            json!({"type": "google", "subject": "abc", "email": "ada@example.com"}),
            json!({"type": "farcaster", "fid": 4423, "username": "payton"}),
            json!({"type": "custom", "subject": "user-7"}),
            json!({"type": "email", "address": "ada@example.com"}),
            json!({"type": "linkedin", "subject": "li-1"}),
            json!({"type": "spotify", "subject": "sp-1", "username": "ada"}),
            json!({"type": "instagram", "subject": "ig-1"}),
            json!({"type": "tiktok", "subject": "tt-1"}),
            json!({"type": "line", "subject": "U4af4980629"}),
            json!({"type": "passkey", "credential_id": "Il5vP-3Tm3hNmDVBmDlREgXzIOJnZEaiVnT-XMliXe", "authenticator_name": "1Password"}),
        ] {
            let account = parse(value.clone()).unwrap();
            assert_eq!(serde_json::to_value(&account).unwrap(), value);
        }
    }

    #[test]
    fn wallet_identifier_is_case_insensitive_for_ethereum() {
        let lower = parse(json!({"type": "wallet", "chain_type": "ethereum", "address": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"})).unwrap();
        assert_eq!(
            lower.identifier(),
            Identifier::Address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed".into())
        );
        // Stored and shown checksummed, whatever case came in.
        assert_eq!(
            serde_json::to_value(&lower).unwrap()["address"],
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        );
    }

    #[test]
    fn names_every_bad_field() {
        let errors =
            parse(json!({"type": "wallet", "chain_type": "bitcoin", "address": 7, "extra": 1}))
                .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "linked_accounts[0].extra",
                "linked_accounts[0].chain_type",
                "linked_accounts[0].address"
            ]
        );
    }

    #[test]
    fn each_type_is_unique_by_its_own_key_and_records_when_it_was_linked() {
        let passkey = parse(json!({"type": "passkey", "credential_id": "abc-_9"})).unwrap();
        assert_eq!(
            passkey.identifier(),
            Identifier::Account {
                kind: "passkey",
                value: "abc-_9".into()
            }
        );
        let line = parse(json!({"type": "line", "subject": "abc-_9"})).unwrap();
        assert_ne!(line.identifier(), passkey.identifier());
        let email = parse(json!({"type": "email", "address": "Ada@Example.com"})).unwrap();
        assert_eq!(
            email.identifier(),
            Identifier::Email("ada@example.com".into())
        );
        let stored = LinkedAccount {
            linked_at: Some("2026-12-01T00:00:00.000Z".into()),
            ..line
        };
        let text = serde_json::to_value(&stored).unwrap();
        assert_eq!(text["linked_at"], "2026-12-01T00:00:00.000Z");
        assert_eq!(text["type"], "line");
        let back: LinkedAccount = serde_json::from_value(text).unwrap();
        assert_eq!(back, stored);
        // Accounts stored before linked_at was recorded read back without it.
        let old: LinkedAccount =
            serde_json::from_value(json!({"type": "phone", "number": "+14155550123"})).unwrap();
        assert_eq!(old.linked_at, None);
    }

    #[test]
    fn rejects_unknown_types_bad_phones_and_bad_fids() {
        assert!(parse(json!({"type": "myspace", "subject": "x"})).is_err());
        assert!(parse(json!({"subject": "x"})).is_err());
        for number in ["14155550123", "+1 415 555 0123", "+0123456789", "+1234567"] {
            assert!(
                parse(json!({"type": "phone", "number": number})).is_err(),
                "{number}"
            );
        }
        for fid in [json!(0), json!(-1), json!(1.5), json!("4423")] {
            assert!(parse(json!({"type": "farcaster", "fid": fid})).is_err());
        }
        for id in ["", "has space", "padded==", "a+b/c"] {
            assert!(
                parse(json!({"type": "passkey", "credential_id": id})).is_err(),
                "{id}"
            );
        }
        let long = "a".repeat(MAX_CREDENTIAL_ID_CHARS + 1);
        assert!(parse(json!({"type": "passkey", "credential_id": long})).is_err());
        assert!(parse(json!({"type": "email", "address": "not an email"})).is_err());
        assert!(
            parse(json!({"type": "email", "address": "a@example.com", "verified": true})).is_err()
        );
    }
}
