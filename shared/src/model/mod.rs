//! The domain model: validated newtypes (an `EmailAddress` that exists is valid), the user as
//! stored and shown, and the unique identifiers whose guards keep users distinct per app.

pub mod access;
pub mod address;
pub mod api_key;
pub mod change;
pub mod email;
pub mod event;
pub mod export;
pub mod identifier;
pub mod ids;
pub mod key_export;
pub mod linked_account;
pub mod network;
pub mod new_user;
pub mod policy;
pub mod rate_limit;
pub mod rpc;
pub mod scope;
pub mod sealed_key;
pub mod signature;
pub mod user;
pub mod validation;
pub mod webhook;

pub use address::{ChainType, WalletAddress};
pub use api_key::ApiKeyRecord;
pub use email::EmailAddress;
pub use identifier::Identifier;
pub use ids::{AppId, UserId};
pub use linked_account::LinkedAccount;
pub use new_user::NewUser;
pub use scope::Scope;
pub use sealed_key::{SealContext, SealedKey};
pub use user::{Handle, User, UserStatus, Wallet, WalletError, WalletStatus};
