//! Email addresses and their uniqueness key (`email_key`), and the lookup by email.
//!
//! Asserts: parsing never panics; a parsed address keeps its text and re-parses to the same
//! value; its key is `email_key` of its text; the key is a fixed point of `email_key`
//! (normalising twice changes nothing, so an address typed in its normalised spelling is the
//! same user); the lookup `GET /v1/users?email=` finds by the same key the create stored.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::users::Lookup;
use shared::edge::api::bodies::UsersQuery;
use shared::model::email::email_key;
use shared::model::{EmailAddress, Identifier};

fuzz_target!(|data: &[u8]| {
    let Some(text) = shared_fuzz::text(data) else {
        return;
    };

    // The key function alone, on any text (stored emails are re-keyed with it).
    if let Some(key) = email_key(text) {
        assert_eq!(
            email_key(&key).as_deref(),
            Some(key.as_str()),
            "email_key is not idempotent for {text:?}"
        );
    }

    let parsed = EmailAddress::parse("email", text);
    let lookup = UsersQuery::from_query(&[("email".to_owned(), text.to_owned())]);
    match parsed {
        Ok(email) => {
            assert_eq!(email.as_str(), text, "stored as given");
            assert_eq!(email_key(text).as_deref(), Some(email.key()));
            let again = EmailAddress::parse("email", email.as_str());
            assert_eq!(again.as_ref(), Ok(&email), "re-parse differs for {text:?}");
            // The key splits where the address did: its domain is the domain's IDNA form,
            // which holds no '@' (else two domains could share a key).
            let (_, domain) = text.rsplit_once('@').unwrap_or_default();
            let (_, key_domain) = email.key().rsplit_once('@').unwrap_or_default();
            assert_eq!(
                idna::domain_to_ascii(domain).ok().as_deref(),
                Some(key_domain),
                "{text:?} keyed as {:?}",
                email.key()
            );
            assert_eq!(lookup, Ok(UsersQuery::Lookup(Lookup::email(&email))));
            assert_eq!(
                Lookup::email(&email).identifier(),
                &Identifier::Email(email.key().to_owned())
            );
        }
        Err(error) => {
            assert_eq!(error.field, "email");
            assert!(lookup.is_err(), "lookup accepts {text:?}, create does not");
        }
    }
});
