//! Linked accounts: the body of `POST /v1/users/{id}/linked_accounts` (parsed as the
//! link-account function does, at path ""), and each item of `linked_accounts` in a create.
//!
//! Asserts: parsing never panics; an account is returned exactly when no violation was
//! recorded (every rejection names a field; nothing accepted carries an error); an accepted
//! account shown as JSON parses again to the same account with the same identifier; the
//! stored form (serde) reads back equal; every violation names the account's path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::model::LinkedAccount;
use shared::model::validation::Violations;

fuzz_target!(|data: &[u8]| {
    let Some(body) = shared_fuzz::json(data) else {
        return;
    };
    for path in ["", "linked_accounts[3]"] {
        let mut violations = Violations::default();
        let account = LinkedAccount::parse(path, &body, &mut violations);
        let errors = violations.into_errors();
        assert_eq!(
            account.is_some(),
            errors.is_empty(),
            "account {account:?} with errors {errors:?}"
        );
        for error in &errors {
            assert!(error.field.starts_with(path), "{error:?} outside {path:?}");
        }
        let Some(account) = account else {
            continue;
        };
        let shown = match serde_json::to_value(&account) {
            Ok(shown) => shown,
            Err(error) => panic!("{account:?} does not serialise: {error}"),
        };
        let mut violations = Violations::default();
        let again = LinkedAccount::parse(path, &shown, &mut violations);
        assert_eq!(
            again.as_ref(),
            Some(&account),
            "{:?}",
            violations.into_errors()
        );
        let stored: Result<LinkedAccount, _> = serde_json::from_value(shown);
        assert_eq!(stored.ok().as_ref(), Some(&account));
    }
});
