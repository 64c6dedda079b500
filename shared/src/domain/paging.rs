//! Page cursors for listing users (and allowlist entries and invitations): opaque to clients, bound to the app that received them.
//!
//! A cursor names the last user of the previous page; the next page holds the users created
//! before it. Its checksum rejects an edited or truncated cursor, and the app inside it rejects
//! another app's. A cursor holds a position, not a secret: forging one reveals nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::model::validation::FieldError;
use crate::model::{AppId, UserId};

const VERSION: &str = "v1";
const CHECKSUM_HEX: usize = 16;

/// A page size: `value` as a whole number from 1 to `max`, or the error every listing gives.
pub fn parse_limit(value: &str, max: usize) -> Result<usize, FieldError> {
    value
        .parse()
        .ok()
        .filter(|limit| (1..=max).contains(limit))
        .ok_or_else(|| FieldError::new("limit", format!("must be a whole number from 1 to {max}")))
}

/// What every listing says of a cursor it did not issue to the app (altered, or another
/// app's). A cursor names a position, not a filter: one from the unfiltered users listing
/// pages a filtered one from the same point.
pub fn bad_cursor() -> FieldError {
    FieldError::new("cursor", "is not a cursor this API issued to your app")
}

/// Encodes the position after `last` for `app`.
pub fn encode(app: &AppId, last: UserId) -> String {
    encode_position(app, &last.to_string())
}

/// Decodes a cursor `app` issued; `None` if it was altered, is another app's, or is not one.
pub fn decode(app: &AppId, cursor: &str) -> Option<UserId> {
    UserId::parse(&decode_position(app, cursor)?)
}

/// Encodes the position after the item with id `last` (no `|` in it) for `app`.
pub fn encode_position(app: &AppId, last: &str) -> String {
    let payload = format!("{VERSION}|{app}|{last}");
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        checksum(&payload)
    )
}

/// The id a cursor of `app` names; `None` if it was altered, is another app's, or is not one.
pub fn decode_position(app: &AppId, cursor: &str) -> Option<String> {
    let (encoded, sum) = cursor.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
    if checksum(&payload) != sum {
        return None;
    }
    let mut parts = payload.split('|');
    let (version, owner, last) = (parts.next()?, parts.next()?, parts.next()?);
    if version != VERSION || owner != app.as_str() || parts.next().is_some() {
        return None;
    }
    Some(last.to_owned())
}

fn checksum(payload: &str) -> String {
    let digest = Sha256::digest(format!("wallet-users cursor|{payload}").as_bytes());
    hex::encode(digest)[..CHECKSUM_HEX].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_for_their_app_only() {
        let (app, other, last) = (AppId::generate(), AppId::generate(), UserId::generate());
        let cursor = encode(&app, last);
        assert_eq!(decode(&app, &cursor), Some(last));
        assert_eq!(decode(&other, &cursor), None);
    }

    #[test]
    fn altered_cursors_are_refused() {
        let app = AppId::generate();
        let cursor = encode(&app, UserId::generate());
        let mut bytes = cursor.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(bytes).unwrap();
        for bad in [
            edited.as_str(),
            &cursor[..cursor.len() - 1],
            "",
            ".",
            "abc",
            "djE.0000000000000000",
        ] {
            assert_eq!(decode(&app, bad), None, "{bad:?}");
        }
    }
}
