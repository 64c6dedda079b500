//! The domain model: validated newtypes (an `EmailAddress` that exists is valid), the user as
//! stored and shown, and the unique identifiers whose guards keep users distinct per app.

pub mod address;
pub mod email;
pub mod identifier;
pub mod ids;
pub mod linked_account;
pub mod new_user;
pub mod user;

pub use address::{ChainType, WalletAddress};
pub use email::EmailAddress;
pub use identifier::Identifier;
pub use ids::{AppId, UserId};
pub use linked_account::LinkedAccount;
pub use new_user::NewUser;
pub use user::{User, Wallet, WalletError, WalletStatus};
