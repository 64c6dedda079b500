//! Embedded wallets: key generation, sealing private keys under a data key (KMS in AWS, a
//! dev-only key-encryption key locally), reading what the table's stream says changed, and
//! provisioning: the work of the stream-triggered wallet creator. (Its events are
//! [`crate::domain::events`].)

pub mod break_glass;
pub mod keys;
pub mod policy;
pub mod provision;
pub mod rpc;
pub mod seal;
pub mod sign;
pub mod solana;
pub mod stream;
pub mod transaction;

pub use keys::{GeneratedKey, address_of, generate};
pub use seal::{DataKey, KeySealer, SealError, SealedKey};
