//! Email addresses: syntax checked by `email_address`, unique per app by a normalised key, so
//! that addresses a person would read as the same cannot be two users: the local part is
//! NFKC-normalised (fullwidth `ａｄａ` is `ada`, the ligature `ﬁ` is `fi`) and case-folded; the
//! domain is converted to its IDNA ASCII form (UTS #46: `Bücher.example` and
//! `xn--bcher-kva.example` are one domain). The address is stored and shown as given.
//!
//! Uniqueness is generous, so that two users can never hold spellings a person would confuse;
//! a login must be strict, so that nobody who verified one mailbox is handed the user of
//! another. A lookup or find-or-create therefore matches an existing user only on the
//! [`mailbox_key`]: the local part folded for ASCII case alone (mail servers treat `Ada` and
//! `ada` as one mailbox; nothing promises that `ａｄａ`, `ada²` or `ﬁnn` reach the mailbox
//! of `ada`, `ada2` or `finn`), the domain in its IDNA ASCII form (DNS resolves every UTS #46
//! spelling of a domain to the same one). Two addresses with one mailbox key always share the
//! uniqueness key, so a strict match is never a second user.

use unicode_normalization::UnicodeNormalization;

use crate::model::validation::FieldError;

/// RFC 5321 caps a forward path at 256 octets including the angle brackets.
const MAX_EMAIL_BYTES: usize = 254;

/// A syntactically valid email address, as given, with its case-folded uniqueness key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    text: String,
    key: String,
}

impl EmailAddress {
    /// Validates `text` as an address of a real domain (a dotted domain; no IP literal, no
    /// display name).
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(field, "must be a valid email address");
        if text.len() > MAX_EMAIL_BYTES {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_EMAIL_BYTES} bytes"),
            ));
        }
        let options = email_address::Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        email_address::EmailAddress::parse_with_options(text, options).map_err(|_| invalid())?;
        Ok(Self {
            text: text.to_owned(),
            key: email_key(text).ok_or_else(invalid)?,
        })
    }

    /// The address as the client gave it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised form that uniqueness and lookups compare.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The uniqueness key of a valid address; `None` if its domain has no IDNA form.
pub fn email_key(text: &str) -> Option<String> {
    let (local, domain) = text.rsplit_once('@')?;
    // NFKC again after lowercasing: `İ` lowercases to `i` and U+0307, which must then be
    // reordered with the marks that follow it, or canonically equivalent spellings differ.
    let local = local
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect::<String>();
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!("{local}@{domain}"))
}

/// The key a login matches an existing user on; `None` if the domain has no IDNA form. Only
/// ASCII letters of the local part are folded: any other character is compared as given, so
/// two distinct mailboxes never share this key (see the module's comment).
pub fn mailbox_key(text: &str) -> Option<String> {
    let (local, domain) = text.rsplit_once('@')?;
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!("{}@{domain}", local.to_ascii_lowercase()))
}

/// Whether `stored` (a user's address, as stored) and `presented` name the same mailbox.
pub fn same_mailbox(stored: &str, presented: &str) -> bool {
    matches!(
        (mailbox_key(stored), mailbox_key(presented)),
        (Some(stored), Some(presented)) if stored == presented
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_folds_case_for_the_key() {
        let email = EmailAddress::parse("email", "Ada.Lovelace+test@Example.COM").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace+test@Example.COM");
        assert_eq!(email.key(), "ada.lovelace+test@example.com");
    }

    #[test]
    fn confusable_and_idn_spellings_share_a_key() {
        let key = |text: &str| EmailAddress::parse("email", text).unwrap().key().to_owned();
        assert_eq!(key("ａｄａ@example.com"), "ada@example.com");
        assert_eq!(key("ﬁnn@example.com"), "finn@example.com");
        assert_eq!(key("ada@Bücher.example"), "ada@xn--bcher-kva.example");
        assert_eq!(
            key("ada@xn--bcher-kva.example"),
            "ada@xn--bcher-kva.example"
        );
        assert_eq!(key("ada@ＥＸＡＭＰＬＥ.com"), "ada@example.com");
        let shown = EmailAddress::parse("email", "ａｄａ@example.com").unwrap();
        assert_eq!(shown.as_str(), "ａｄａ@example.com", "stored as given");
        assert_ne!(
            key("ada@example.com"),
            key("adа@example.com"),
            "Cyrillic а is another letter"
        );
    }

    #[test]
    fn the_key_is_normalised_and_its_own_key() {
        // `İ` then a mark that sorts before its dot (here HEBREW POINT SHEVA): lowercasing
        // `İ` gives `i` and U+0307, which left the key out of canonical order, not NFKC and
        // not its own key.
        let email = EmailAddress::parse("email", "\u{130}\u{5b0}nci@example.com").unwrap();
        assert_eq!(email.key(), "i\u{5b0}\u{307}nci@example.com");
        assert_eq!(email_key(email.key()).as_deref(), Some(email.key()));
        assert_eq!(
            email_key("\u{130}\u{316}@example.com").as_deref(),
            Some("i\u{316}\u{307}@example.com")
        );
    }

    #[test]
    fn a_mailbox_folds_only_ascii_case_and_the_domain() {
        for (stored, presented) in [
            ("ada@x.com", "ADA@X.COM"),
            ("Ada@x.com", "ada@X.com"),
            ("ada@bücher.example", "ada@xn--bcher-kva.example"),
            ("ada@bücher.example", "ADA@BÜCHER.example"),
        ] {
            assert!(same_mailbox(stored, presented), "{stored} {presented}");
        }
        for (stored, presented) in [
            ("ada@x.com", "ａｄａ@x.com"),
            ("ada2@x.com", "ada²@x.com"),
            ("ada@x.com", "𝐚𝐝𝐚@x.com"),
            ("finn@x.com", "ﬁnn@x.com"),
            ("sam@x.com", "ſam@x.com"),
            ("ádá@x.com", "ÁDÁ@x.com"),
            ("\u{e9}@x.com", "e\u{301}@x.com"),
        ] {
            assert!(!same_mailbox(stored, presented), "{stored} {presented}");
            assert_eq!(
                email_key(stored),
                email_key(presented),
                "one user all the same"
            );
        }
    }

    proptest::proptest! {
        /// A strict match is always a uniqueness match: a login never finds a user that a
        /// create would not have found taken.
        #[test]
        fn one_mailbox_is_one_uniqueness_key(
            local in "[a-zA-Z0-9ÀÁàáİıſﬁ²ａＡ\u{301}\u{307}\u{316}\u{5b0}\u{212a}.+_-]{1,12}",
            domain in "[a-zA-ZüÜ]{1,8}\\.(com|COM|ｃｏｍ)",
            flips in proptest::collection::vec(proptest::bool::ANY, 12),
        ) {
            let first = format!("{local}@{domain}");
            let respelt: String = local
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect();
            let second = format!("{respelt}@{}", domain.to_uppercase());
            if same_mailbox(&first, &second) {
                proptest::prop_assert_eq!(email_key(&first), email_key(&second));
            }
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@[127.0.0.1]",
            "Ada <a@example.com>",
            "a b@example.com",
        ] {
            assert!(
                EmailAddress::parse("email", bad).is_err(),
                "{bad:?} accepted"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse("email", &long).is_err());
    }
}
