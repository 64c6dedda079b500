//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what we send, and a
//! verifier for receivers written in Rust.
//!
//! A message is signed as `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key
//! being the bytes base64-encoded after `whsec_` in the secret. While a rotated secret is
//! still valid, the `webhook-signature` header carries one signature per secret, separated
//! by spaces; a receiver accepts the message if any of them verifies with its secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in the secrets we issue.
const SECRET_BYTES: usize = 32;
/// How far a message's timestamp may be from the receiver's clock (the specification's
/// suggestion), against replays of captured messages.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

/// The three headers that identify, date and sign a message.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// On a redelivery asked for through the API: the id of the event it sends again (its
/// `webhook-id` is new, so that receivers deduplicating on it do not drop it).
pub const HEADER_REDELIVERY_OF: &str = "x-redelivery-of";

/// A signing secret: `whsec_` and the base64 of the key. Zeroed on drop; not `Display`, so it
/// does not end up in a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Zeroizing<Vec<u8>>);

/// Why a message does not verify, or a secret does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the secret is not `whsec_` followed by base64")]
    InvalidSecret,
    #[error("the {0} header is missing or not text")]
    MissingHeader(&'static str),
    #[error("the timestamp is not a number of seconds")]
    InvalidTimestamp,
    #[error("the timestamp is more than five minutes from now")]
    TimestampOutOfTolerance,
    #[error("no signature matches")]
    NoMatchingSignature,
    #[error("the random source failed")]
    Random,
}

impl SigningSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, SignatureError> {
        let mut key = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        getrandom::fill(key.as_mut_slice()).map_err(|_| SignatureError::Random)?;
        Ok(Self(key))
    }

    /// The secret written `whsec_<base64>` (the prefix is optional, as in the reference
    /// libraries).
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = BASE64
            .decode(encoded)
            .map_err(|_| SignatureError::InvalidSecret)?;
        if key.is_empty() {
            return Err(SignatureError::InvalidSecret);
        }
        Ok(Self(Zeroizing::new(key)))
    }

    /// The key bytes (what is sealed at rest).
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The secret from its key bytes.
    pub fn from_key(key: &[u8]) -> Self {
        Self(Zeroizing::new(key.to_vec()))
    }

    /// The secret as shown to its owner, once: `whsec_<base64>`.
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{SECRET_PREFIX}{}", BASE64.encode(self.key())))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The signature of one message: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", BASE64.encode(tag))
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// The `webhook-signature` header for a message: one signature per valid secret.
pub fn signature_header(
    secrets: &[SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Verifies a received message: the timestamp is within tolerance of `now` (Unix seconds)
/// and one of the `v1` signatures in `signature_header` is the secret's, compared in
/// constant time. For receivers in Rust; the reference libraries do the same.
pub fn verify(
    secret: &SigningSecret,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    if now.abs_diff(timestamp) > TIMESTAMP_TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::TimestampOutOfTolerance);
    }
    let expected = secret.mac(id, timestamp, body);
    let matches = signature_header
        .split(' ')
        .filter_map(|signature| signature.strip_prefix("v1,"))
        .filter_map(|tag| BASE64.decode(tag).ok())
        .any(|tag| expected.clone().verify_slice(&tag).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification and its reference libraries' tests.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specification_example() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        assert_eq!(secret.sign(ID, TIMESTAMP, BODY), SIGNATURE);
        assert_eq!(
            verify(
                &secret,
                ID,
                &TIMESTAMP.to_string(),
                SIGNATURE,
                BODY,
                TIMESTAMP
            ),
            Ok(())
        );
    }

    #[test]
    fn any_alteration_fails() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        let ts = TIMESTAMP.to_string();
        let other = SigningSecret::generate().unwrap();
        let cases = [
            verify(
                &secret,
                ID,
                &ts,
                SIGNATURE,
                br#"{"test": 2432232315}"#,
                TIMESTAMP,
            ),
            verify(&secret, "msg_other", &ts, SIGNATURE, BODY, TIMESTAMP),
            verify(
                &secret,
                ID,
                &(TIMESTAMP + 1).to_string(),
                SIGNATURE,
                BODY,
                TIMESTAMP,
            ),
            verify(&other, ID, &ts, SIGNATURE, BODY, TIMESTAMP),
            verify(
                &secret,
                ID,
                &ts,
                "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                BODY,
                TIMESTAMP,
            ),
        ];
        for result in cases {
            assert_eq!(result, Err(SignatureError::NoMatchingSignature));
        }
        assert_eq!(
            verify(
                &secret,
                ID,
                &ts,
                SIGNATURE,
                BODY,
                TIMESTAMP + TIMESTAMP_TOLERANCE_SECS + 1
            ),
            Err(SignatureError::TimestampOutOfTolerance)
        );
        assert_eq!(
            verify(&secret, ID, "soon", SIGNATURE, BODY, TIMESTAMP),
            Err(SignatureError::InvalidTimestamp)
        );
    }

    #[test]
    fn extreme_timestamps_are_refused_without_overflow() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        // `now - timestamp` is i64::MIN for the first: its `abs()` overflows (a panic in debug
        // builds, a negative "difference" that passes the tolerance check in release).
        for timestamp in [
            TIMESTAMP.wrapping_add(i64::MIN),
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let signed = secret.sign(ID, timestamp, BODY);
            assert_eq!(
                verify(
                    &secret,
                    ID,
                    &timestamp.to_string(),
                    &signed,
                    BODY,
                    TIMESTAMP
                ),
                Err(SignatureError::TimestampOutOfTolerance),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn a_header_with_several_signatures_verifies_with_either_secret() {
        let (old, new) = (
            SigningSecret::generate().unwrap(),
            SigningSecret::generate().unwrap(),
        );
        let header = signature_header(&[new.clone(), old.clone()], ID, TIMESTAMP, BODY);
        assert_eq!(header.split(' ').count(), 2);
        for secret in [&old, &new] {
            assert_eq!(
                verify(secret, ID, &TIMESTAMP.to_string(), &header, BODY, TIMESTAMP),
                Ok(())
            );
        }
    }

    #[test]
    fn secrets_round_trip_and_never_print() {
        let secret = SigningSecret::generate().unwrap();
        let shown = secret.reveal();
        assert!(shown.starts_with(SECRET_PREFIX));
        assert_eq!(SigningSecret::parse(&shown).unwrap(), secret);
        assert_eq!(format!("{secret:?}"), "SigningSecret(..)");
        assert!(SigningSecret::parse("whsec_!!").is_err());
    }
}
