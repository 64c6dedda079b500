//! The user aggregate: create, find, find-or-create, list, change (profile, linked accounts,
//! wallets), disable and enable, delete, restore and batch import. Storage-agnostic: the operations run on any
//! [`UserStore`](crate::ports::UserStore), and their failures say what happened in domain
//! terms. Every write is conditional; a lost race is retried through [`super::retry`].

mod batch;
mod change;
mod create;
mod delete;
mod read;
mod restore;
mod status;

pub use batch::{MAX_BATCH, create_users};
pub use change::{
    Precondition, WalletRequest, link_account, request_wallet, set_custom_metadata, unlink_account,
    update_user,
};
pub use create::{FoundOrCreated, create_user, find_or_create_user};
pub use delete::delete_user;
pub use read::{UserFilter, UserPage, find_by_handle, find_user, get_user, list_users};
pub use restore::{RestoreError, restore_deleted_user, restore_user};
pub use status::{disable_user, enable_user};

use crate::model::email::{self, EmailAddress};
use crate::model::validation::FieldError;
use crate::model::{Identifier, User, UserId, UserStatus};
use crate::ports::StoreError;

/// How often an operation retries after a transaction conflict before answering 503. Each
/// retry gets a definite answer unless yet another writer collides with it.
pub const MAX_ATTEMPTS: u32 = 6;

/// What went wrong in a user operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    #[error("user not found")]
    NotFound,
    /// Request fields whose identifiers other users hold.
    #[error("identifiers already held by other users")]
    Taken(Vec<String>),
    /// Request fields matching different existing users (find-or-create).
    #[error("identifiers match different users")]
    Ambiguous(Vec<(String, UserId)>),
    /// The request's values are invalid (for a change, as merged into the user).
    #[error("invalid values")]
    Invalid(Vec<FieldError>),
    /// `If-Match` named a version that is no longer current.
    #[error("the user changed since the given version")]
    PreconditionFailed,
    /// The app requires an allowlist match for new users, and this one has none.
    #[error("not on the allowlist")]
    NotAllowlisted,
    /// The user is disabled: it cannot gain a wallet or a linked account.
    #[error("the user is disabled")]
    Disabled,
    /// The linked account to unlink is not linked to the user.
    #[error("not linked")]
    NotLinked,
    /// Writers kept colliding; nothing was written.
    #[error("too much contention")]
    Contention,
    /// A batch row's identifiers repeat an earlier row's (each error names the field and the row).
    #[error("identifiers repeat an earlier row of the batch")]
    Repeats(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The unique identifier a lookup names, and for an email the address as presented: a user
/// is found only if it is the same mailbox (see [`crate::model::email`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    identifier: Identifier,
    presented_email: Option<String>,
}

impl Lookup {
    /// A lookup by an identifier other than an email.
    pub fn of(identifier: Identifier) -> Self {
        Self {
            identifier,
            presented_email: None,
        }
    }

    /// A lookup by `email`, a valid address as presented.
    pub fn email(email: &EmailAddress) -> Self {
        Self {
            identifier: Identifier::Email(email.key().to_owned()),
            presented_email: Some(email.as_str().to_owned()),
        }
    }

    /// The identifier whose guard names the user.
    pub fn identifier(&self) -> &Identifier {
        &self.identifier
    }
}

/// Refuses a user found by `presented`'s uniqueness key whose address is another mailbox: a
/// spelling that only collides under NFKC (`ａｄａ@`, `ﬁnn@`) is a conflict naming `field`,
/// so a login never returns someone else's user.
fn require_same_mailbox(user: &User, presented: &str, field: &str) -> Result<(), UsersError> {
    match &user.email {
        Some(stored) if email::same_mailbox(stored, presented) => Ok(()),
        _ => Err(UsersError::Taken(vec![field.to_owned()])),
    }
}

/// Refuses what would extend a disabled user (a wallet, a linked account).
fn require_active(user: &User) -> Result<(), UsersError> {
    match user.status {
        UserStatus::Active => Ok(()),
        UserStatus::Disabled => Err(UsersError::Disabled),
    }
}

/// The request fields of the identifiers a write found taken (`taken` indexes into `fields`).
fn taken_fields(
    fields: &[(String, Identifier)],
    taken: Vec<(usize, Option<UserId>)>,
) -> UsersError {
    UsersError::Taken(
        taken
            .into_iter()
            .filter_map(|(index, _)| fields.get(index).map(|(field, _)| field.clone()))
            .collect(),
    )
}
