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
}
