//! Wallet addresses (linked wallets, lookups by address, unlinking by address).
//!
//! Asserts: parsing never panics; a parsed address is canonical (its spelling re-parses to
//! the same value, for its chain and with the chain inferred); its key is the spelling
//! compared case-insensitively for ethereum and as is for solana; every spelling of one
//! ethereum address accepted has the same key; addresses made from key bytes parse back; the
//! lookup `GET /v1/users?address=` agrees with `parse_any`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::users::Lookup;
use shared::edge::api::bodies::UsersQuery;
use shared::model::{ChainType, Identifier, WalletAddress};

fn check_canonical(address: &WalletAddress) {
    let again = WalletAddress::parse(address.chain(), address.as_str());
    assert_eq!(again.as_ref(), Ok(address), "not canonical: {address:?}");
    assert_eq!(
        WalletAddress::parse_any(address.as_str()).as_ref(),
        Some(address)
    );
    match address.chain() {
        ChainType::Ethereum => {
            assert_eq!(address.key(), address.as_str().to_ascii_lowercase());
            // The key (all lowercase) and the all-uppercase spelling are the same address.
            let lower = WalletAddress::parse(ChainType::Ethereum, &address.key());
            assert_eq!(lower.as_ref(), Ok(address));
            let upper = format!("0x{}", address.as_str()[2..].to_ascii_uppercase());
            assert_eq!(
                WalletAddress::parse(ChainType::Ethereum, &upper).as_ref(),
                Ok(address)
            );
        }
        ChainType::Solana => assert_eq!(address.key(), address.as_str()),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 1024 {
        return;
    }
    // Addresses the service makes from key material parse back to themselves.
    if let Some(account) = data.first_chunk::<20>() {
        check_canonical(&WalletAddress::ethereum(account));
    }
    if let Some(public_key) = data.first_chunk::<32>() {
        check_canonical(&WalletAddress::solana(public_key));
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for chain in ChainType::ALL {
        if let Ok(address) = WalletAddress::parse(chain, text) {
            assert_eq!(address.chain(), chain);
            if chain == ChainType::Solana {
                assert_eq!(address.as_str(), text, "solana addresses are kept as given");
            } else {
                assert!(address.as_str().eq_ignore_ascii_case(text));
            }
            check_canonical(&address);
        }
    }
    let any = WalletAddress::parse_any(text);
    if let Some(address) = &any {
        check_canonical(address);
    }
    let lookup = UsersQuery::from_query(&[("address".to_owned(), text.to_owned())]);
    match &any {
        Some(address) => assert_eq!(
            lookup,
            Ok(UsersQuery::Lookup(Lookup::of(Identifier::Address(
                address.key()
            ))))
        ),
        None => assert!(lookup.is_err(), "lookup accepts {text:?}"),
    }
});
