//! Unique identifiers: each is held by at most one user of an app, enforced by a guard item.

/// One identifier in its uniqueness form (case-folded where case does not distinguish).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// The app's own id for the user.
    ExternalId(String),
    /// A case-folded email address.
    Email(String),
    /// A wallet address, linked or embedded (embedded and linked wallets share one namespace).
    Address(String),
    /// A linked account other than a wallet: `kind` is its type, `value` its unique subject.
    Account { kind: &'static str, value: String },
}

impl Identifier {
    /// The identifier's namespace: `external_id`, `email`, `address`, or a linked account type.
    pub fn kind(&self) -> &str {
        match self {
            Self::ExternalId(_) => "external_id",
            Self::Email(_) => "email",
            Self::Address(_) => "address",
            Self::Account { kind, .. } => kind,
        }
    }

    /// The identifier's value within its namespace.
    pub fn value(&self) -> &str {
        match self {
            Self::ExternalId(value)
            | Self::Email(value)
            | Self::Address(value)
            | Self::Account { value, .. } => value,
        }
    }
}
