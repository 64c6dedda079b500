//! Timestamps as the API shows them: RFC 3339, UTC, millisecond precision.

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const RFC3339_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The current time in Unix milliseconds (leases and locks compare these across processes).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The current time, formatted for the API (`2026-01-31T12:00:00.123Z`).
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// The current time for a change to something last changed at `previous`: now, or a
/// millisecond after `previous` if the clock has not passed it. A version's `updated_at` thus
/// always follows the one before, however fast the changes come (two in one millisecond) or
/// however far one sandbox's clock lags another's.
pub fn now_after(previous: &str) -> String {
    let now = OffsetDateTime::now_utc();
    match time::PrimitiveDateTime::parse(previous, RFC3339_MILLIS) {
        Ok(previous) => {
            let next = previous.assume_utc() + time::Duration::milliseconds(1);
            format_rfc3339(now.max(next))
        }
        Err(_) => format_rfc3339(now),
    }
}

/// Formats a UTC instant for the API. Fixed-width output sorts lexicographically by time.
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    // Formatting a UTC `OffsetDateTime` with a fixed description cannot fail for years 0-9999.
    at.to_offset(time::UtcOffset::UTC)
        .format(RFC3339_MILLIS)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_with_milliseconds_in_utc() {
        let at = datetime!(2026-03-04 05:06:07.089 +02:00);
        assert_eq!(format_rfc3339(at), "2026-03-04T03:06:07.089Z");
    }

    #[test]
    fn a_change_is_stamped_after_the_one_before_it() {
        let future = "2999-01-01T00:00:00.999Z";
        assert_eq!(now_after(future), "2999-01-01T00:00:01.000Z");
        let past = "2000-01-01T00:00:00.000Z";
        let stamped = now_after(past);
        assert!(
            stamped.as_str() > past && stamped.starts_with("20"),
            "{stamped}"
        );
        assert!(now_after("not a time").as_str() > past);
    }
}
