//! The mailbox key a login matches on (`mailbox_key`, `same_mailbox`) against the uniqueness
//! key (`email_key`), on pairs of addresses: the input split at its first NUL, and the first
//! half with the ASCII case of its letters flipped.
//!
//! Asserts: neither key panics; whenever two addresses are the same mailbox their uniqueness
//! keys are equal (a login's match is always a uniqueness match, so find-or-create can never
//! find one user and create beside another); an address is its own mailbox; flipping ASCII
//! case never changes the mailbox.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::model::email::{email_key, mailbox_key, same_mailbox};

fn check(first: &str, second: &str) {
    if same_mailbox(first, second) {
        assert_eq!(
            email_key(first),
            email_key(second),
            "{first:?} and {second:?} are one mailbox but two users"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = shared_fuzz::text(data) else {
        return;
    };
    let (first, second) = text.split_once('\0').unwrap_or((text, ""));
    let flipped: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    if mailbox_key(first).is_some() {
        assert!(same_mailbox(first, first));
        assert!(same_mailbox(first, &flipped), "{first:?} vs {flipped:?}");
    }
    check(first, second);
    check(first, &flipped);
    check(second, first);
});
