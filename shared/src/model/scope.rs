//! What an API key may do. Each route needs one scope (`edge::routes::Route::scope`); a key
//! carries a set of them, so an app can give its login backend a key that reads and writes
//! users but cannot register a webhook endpoint, sign with a wallet or change a policy.

use serde::{Deserialize, Serialize};

/// One permission a key may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read users and look them up.
    #[serde(rename = "users:read")]
    UsersRead,
    /// Create, find-or-create, change, link, delete and import users; request wallets.
    #[serde(rename = "users:write")]
    UsersWrite,
    /// Sign and send with users' wallets.
    #[serde(rename = "wallets:sign")]
    WalletsSign,
    /// Register, list, rotate and delete webhook endpoints; read deliveries; redeliver.
    #[serde(rename = "webhooks")]
    Webhooks,
    /// The app's settings, allowlist, invitations and signing policies.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope: what a key issued without a list holds, and what a key stored before
    /// scopes existed is read as (it could do everything then; narrowing it silently would
    /// break the app that holds it).
    pub const ALL: [Scope; 5] = [
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::WalletsSign,
        Scope::Webhooks,
        Scope::Admin,
    ];

    /// The scope's name, as keys list it and errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::WalletsSign => "wallets:sign",
            Self::Webhooks => "webhooks",
            Self::Admin => "admin",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    /// A comma-separated list of scope names (`users:read,users:write`), each once; `Err`
    /// names the first word that is no scope.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        let mut scopes = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Self::parse(name).ok_or_else(|| name.to_owned())?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(scopes)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for scope in Scope::ALL {
            let json = serde_json::to_value(scope).unwrap();
            assert_eq!(json, scope.as_str());
            assert_eq!(serde_json::from_value::<Scope>(json).unwrap(), scope);
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
    }

    #[test]
    fn lists_parse_sorted_once_each_and_name_what_is_not_a_scope() {
        assert_eq!(
            Scope::parse_list("webhooks, users:read,users:read"),
            Ok(vec![Scope::UsersRead, Scope::Webhooks])
        );
        assert_eq!(
            Scope::parse_list("users:read,users:admin"),
            Err("users:admin".to_owned())
        );
        assert_eq!(Scope::parse_list(""), Ok(vec![]));
    }
}
