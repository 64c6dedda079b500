//! Who may come in and who brought them: allowlist entries and invitations, each naming a
//! user's identifier (an [`AccessKey`]) normalised as uniqueness normalises it, so an entry
//! for `Ada@Example.com` matches a user created as `ada@example.com`, and one for an address
//! matches it in any hex case.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::linked_account::{Account, parse_phone};
use super::new_user::MAX_EXTERNAL_ID_CHARS;
use super::validation::{FieldError, check_text, expect_str, json_type};
use super::{EmailAddress, Identifier, User, UserId, WalletAddress};

/// The kinds of identifier an allowlist entry or an invitation can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    Email,
    /// Every email at a domain (allowlist entries only).
    EmailDomain,
    /// A wallet address, linked or embedded, of either chain.
    Wallet,
    Phone,
    /// A twitter (X) username, without the `@`; matched in any case.
    Twitter,
    ExternalId,
}

impl AccessKind {
    /// Every kind, in the documentation's order.
    pub const ALL: [AccessKind; 6] = [
        Self::Email,
        Self::EmailDomain,
        Self::Wallet,
        Self::Phone,
        Self::Twitter,
        Self::ExternalId,
    ];

    /// The kind's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::EmailDomain => "email_domain",
            Self::Wallet => "wallet",
            Self::Phone => "phone",
            Self::Twitter => "twitter",
            Self::ExternalId => "external_id",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// An identifier in the form matching compares: its kind and normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccessKey {
    pub kind: AccessKind,
    /// The normalised value: an email's key, a lowercase domain, an address's key, an E.164
    /// number, a lowercase username, an external id as given.
    pub value: String,
}

/// What an allowlist entry or an invitation names, as the client gave it, and as matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub kind: AccessKind,
    /// As given (shown back).
    pub value: String,
    pub key: AccessKey,
}

impl AccessKey {
    /// The guard of the identifier this key names, if users' identifiers are guarded by it (a
    /// twitter username is not: twitter accounts are unique by their subject).
    pub fn guard(&self) -> Option<Identifier> {
        match self.kind {
            AccessKind::Email => Some(Identifier::Email(self.value.clone())),
            AccessKind::Wallet => Some(Identifier::Address(self.value.clone())),
            AccessKind::Phone => Some(Identifier::Account {
                kind: "phone",
                value: self.value.clone(),
            }),
            AccessKind::ExternalId => Some(Identifier::ExternalId(self.value.clone())),
            AccessKind::Twitter | AccessKind::EmailDomain => None,
        }
    }

    /// A stable digest of the key (32 hex digits): the same identifier always gets the same
    /// one, which makes an allowlist entry's id and lets a store find it without a scan.
    pub fn digest(&self) -> String {
        let digest = Sha256::digest(format!("{}\u{0}{}", self.kind.as_str(), self.value));
        hex::encode(&digest[..16])
    }
}

/// Parses `{"type": …, "value": …}` (fields named under `path`), refusing kinds not in
/// `kinds`.
pub fn parse_named(
    path: &str,
    body: &Value,
    kinds: &[AccessKind],
) -> Result<Named, Vec<FieldError>> {
    let field = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new(
            path,
            format!("must be an object, got {}", json_type(body)),
        )]);
    };
    let unknown: Vec<FieldError> = object
        .keys()
        .filter(|key| !matches!(key.as_str(), "type" | "value"))
        .map(|key| FieldError::new(field(key), "unknown field; expected type and value"))
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let names: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(AccessKind::parse)
        .filter(|kind| kinds.contains(kind))
        .ok_or_else(|| {
            vec![FieldError::new(
                field("type"),
                format!("must be one of: {}", names.join(", ")),
            )]
        })?;
    let value = match object.get("value") {
        Some(value) => expect_str(&field("value"), value).map_err(|error| vec![error])?,
        None => return Err(vec![FieldError::new(field("value"), "is required")]),
    };
    let key = normalise(&field("value"), kind, value).map_err(|error| vec![error])?;
    Ok(Named {
        kind,
        value: value.to_owned(),
        key,
    })
}

/// The key of `value` as an identifier of `kind`, or why it is not one.
fn normalise(field: &str, kind: AccessKind, value: &str) -> Result<AccessKey, FieldError> {
    let value = match kind {
        AccessKind::Email => EmailAddress::parse(field, value)?.key().to_owned(),
        AccessKind::EmailDomain => email_domain(field, value)?,
        AccessKind::Wallet => WalletAddress::parse_any(value)
            .ok_or_else(|| FieldError::new(field, "must be an ethereum or solana address"))?
            .key(),
        AccessKind::Phone => parse_phone(field, value)?,
        AccessKind::Twitter => twitter_username(field, value)?,
        AccessKind::ExternalId => {
            check_text(field, value, 1, MAX_EXTERNAL_ID_CHARS)?;
            value.to_owned()
        }
    };
    Ok(AccessKey { kind, value })
}

/// A domain as emails' keys spell it: lowercase ASCII (IDNA), without a leading `@`.
fn email_domain(field: &str, value: &str) -> Result<String, FieldError> {
    let bare = value.strip_prefix('@').unwrap_or(value);
    // Parsed as the domain of an address, so it is normalised exactly as emails' keys are.
    let email = EmailAddress::parse(field, &format!("a@{bare}"))
        .map_err(|_| FieldError::new(field, "must be a domain, such as example.com"))?;
    domain_of(email.key())
        .filter(|domain| domain.contains('.'))
        .map(str::to_owned)
        .ok_or_else(|| FieldError::new(field, "must be a domain, such as example.com"))
}

fn domain_of(email_key: &str) -> Option<&str> {
    email_key.rsplit_once('@').map(|(_, domain)| domain)
}

/// A twitter username: 1 to 15 letters, digits or underscores, an optional leading `@`.
fn twitter_username(field: &str, value: &str) -> Result<String, FieldError> {
    let bare = value.strip_prefix('@').unwrap_or(value);
    let valid = (1..=15).contains(&bare.len())
        && bare.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(bare.to_ascii_lowercase())
    } else {
        Err(FieldError::new(
            field,
            "must be a twitter username: 1 to 15 letters, digits or underscores",
        ))
    }
}

/// Every key the user holds: its external id, email and the email's domain, its wallet
/// addresses (linked and embedded), phone numbers and twitter usernames.
pub fn keys_of(user: &User) -> Vec<AccessKey> {
    let key = |kind, value: String| AccessKey { kind, value };
    let mut keys = Vec::new();
    if let Some(external_id) = &user.external_id {
        keys.push(key(AccessKind::ExternalId, external_id.clone()));
    }
    if let Some(email) = user.email.as_deref().and_then(super::email::email_key) {
        if let Some(domain) = domain_of(&email) {
            keys.push(key(AccessKind::EmailDomain, domain.to_owned()));
        }
        keys.push(key(AccessKind::Email, email));
    }
    for linked in &user.linked_accounts {
        match &linked.account {
            Account::Wallet {
                chain_type,
                address,
            } => {
                if let Ok(address) = WalletAddress::parse(*chain_type, address) {
                    keys.push(key(AccessKind::Wallet, address.key()));
                }
            }
            Account::Phone { number } => keys.push(key(AccessKind::Phone, number.clone())),
            Account::Twitter(account) => {
                if let Some(username) = &account.username
                    && let Ok(username) = twitter_username("", username)
                {
                    keys.push(key(AccessKind::Twitter, username));
                }
            }
            _ => {}
        }
    }
    for wallet in &user.wallets {
        if let Some(address) = wallet
            .address
            .as_deref()
            .and_then(|a| WalletAddress::parse(wallet.chain_type, a).ok())
        {
            keys.push(key(AccessKind::Wallet, address.key()));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// An app's allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    /// `alw_` and the digest of its key: one entry per identifier.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: AccessKind,
    /// As given when added.
    pub value: String,
    pub created_at: String,
    /// When a matching user was first created or found.
    pub accepted_at: Option<String>,
}

/// The key an entry names.
pub fn allow_entry_key(entry: &AllowEntry) -> Option<AccessKey> {
    normalise("", entry.kind, &entry.value).ok()
}

/// The prefix of allowlist entry ids.
pub const ALLOW_ENTRY_PREFIX: &str = "alw_";

/// The id of the allowlist entry for `key`.
pub fn allow_entry_id(key: &AccessKey) -> String {
    format!("{ALLOW_ENTRY_PREFIX}{}", key.digest())
}

/// An invitation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Waiting for a user holding its identifier.
    Open,
    /// Claimed by the user `invitee`.
    Accepted,
    /// Withdrawn by the app before anyone claimed it.
    Revoked,
}

/// An invitation: an identifier the app (or one of its users) invited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// `inv_` and 32 hex digits of a UUIDv7, so ids sort by creation.
    pub id: String,
    pub identifier: InvitedIdentifier,
    /// The inviting user, if a user invited.
    pub invited_by: Option<UserId>,
    /// The campaign (a mini app, a referral programme) the invitation came from.
    pub campaign: Option<String>,
    pub status: InvitationStatus,
    pub invited_at: String,
    pub accepted_at: Option<String>,
    /// The user who claimed it.
    pub invitee: Option<UserId>,
    pub revoked_at: Option<String>,
}

/// The identifier an invitation names, as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitedIdentifier {
    #[serde(rename = "type")]
    pub kind: AccessKind,
    pub value: String,
}

impl Invitation {
    /// The key its identifier matches.
    pub fn key(&self) -> Option<AccessKey> {
        normalise("", self.identifier.kind, &self.identifier.value).ok()
    }
}

/// The prefix of invitation ids.
pub const INVITATION_PREFIX: &str = "inv_";

/// A fresh invitation id.
pub fn new_invitation_id() -> String {
    format!("{INVITATION_PREFIX}{}", uuid::Uuid::now_v7().simple())
}

/// The kinds an invitation can name: an email domain is not one person.
pub const INVITABLE: [AccessKind; 5] = [
    AccessKind::Email,
    AccessKind::Wallet,
    AccessKind::Phone,
    AccessKind::Twitter,
    AccessKind::ExternalId,
];

/// How a user came in, on the user: the invitation it claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Onboarding {
    pub invitation_id: String,
    pub invited_by: Option<UserId>,
    pub campaign: Option<String>,
    pub invited_at: String,
    pub accepted_at: String,
}

/// The longest campaign name, in characters.
pub const MAX_CAMPAIGN_CHARS: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &str, value: &str) -> AccessKey {
        parse_named("", &json!({"type": kind, "value": value}), &AccessKind::ALL)
            .unwrap()
            .key
    }

    #[test]
    fn values_are_normalised_as_uniqueness_normalises_them() {
        assert_eq!(key("email", "Ada@Example.COM").value, "ada@example.com");
        assert_eq!(key("email_domain", "@Example.COM").value, "example.com");
        assert_eq!(
            key("wallet", "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").value,
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        );
        assert_eq!(key("twitter", "@Ada_L").value, "ada_l");
        assert_eq!(key("external_id", "Ada-1").value, "Ada-1");
        assert_eq!(
            allow_entry_id(&key("email", "ADA@example.com")),
            allow_entry_id(&key("email", "ada@EXAMPLE.com"))
        );
    }

    #[test]
    fn bad_values_and_kinds_are_named() {
        for (kind, value) in [
            ("email", "nope"),
            ("email_domain", "localhost"),
            ("wallet", "0x12"),
            ("phone", "555"),
            ("twitter", "way_too_long_for_twitter"),
            ("external_id", ""),
        ] {
            let errors = parse_named("", &json!({"type": kind, "value": value}), &AccessKind::ALL)
                .unwrap_err();
            assert_eq!(errors[0].field, "value", "{kind} {value}");
        }
        let errors = parse_named(
            "identifier",
            &json!({"type": "email_domain", "value": "example.com"}),
            &INVITABLE,
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "identifier.type");
    }
}
