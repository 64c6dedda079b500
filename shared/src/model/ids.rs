//! Identifiers the service generates: apps and users.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The system's random source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system's random source failed")]
pub struct NoRandom;

/// A fresh id of a record: `prefix` (`sig`, `kx`, `ux`), `_` and 128 random bits in 32 hex
/// digits.
pub fn random_id(prefix: &str) -> Result<String, NoRandom> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|_| NoRandom)?;
    Ok(format!("{prefix}_{}", hex::encode(id)))
}

/// A user's id: a UUIDv7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(Uuid);

impl UserId {
    /// A fresh id for a user created now.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// The id's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Parses an id as the API shows it (hyphenated, lowercase); anything else names no user.
    pub fn parse(text: &str) -> Option<Self> {
        let id = Uuid::try_parse(text).ok()?;
        (id.hyphenated().to_string() == text).then_some(Self(id))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Whether `text` is `prefix` and 32 hex digits: the form of the ids this service makes for
/// endpoints and events, checked before an id reaches a key.
pub fn is_hex_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An app (tenant): `app_` followed by 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppId(String);

impl AppId {
    const PREFIX: &'static str = "app_";

    /// A fresh random app id.
    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, Uuid::new_v4().simple()))
    }

    /// Parses an app id, rejecting anything not of the generated form.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix(Self::PREFIX)?;
        let well_formed = hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AppId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| format!("not an app id: {text:?}"))
    }
}

impl From<AppId> for String {
    fn from(id: AppId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_round_trip_and_reject_other_spellings() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(&id.to_string()), Some(id));
        assert_eq!(UserId::parse(&id.to_string().to_uppercase()), None);
        assert_eq!(UserId::parse("find-or-create"), None);
    }

    #[test]
    fn app_ids_round_trip_and_reject_other_forms() {
        let id = AppId::generate();
        assert_eq!(AppId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(AppId::parse("app_xyz"), None);
        assert_eq!(AppId::parse(&id.as_str().to_uppercase()), None);
    }
}
