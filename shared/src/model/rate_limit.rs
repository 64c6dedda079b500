//! What an app may spend per window: requests a second, and the costlier things (webhook
//! redeliveries, imported users) on budgets of their own. The rules that spend them are in
//! `domain::rate_limit`.

/// The requests an app may make each second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
}

impl RateLimit {
    /// The default: 100 requests a second per app, a tenth of API Gateway's default route
    /// throttle, so one app cannot spend it.
    pub const DEFAULT: Self = Self { per_second: 100 };

    /// The limit, from its text (a positive whole number of requests a second).
    pub fn parse(text: &str) -> Option<Self> {
        let per_second: u32 = text.trim().parse().ok()?;
        (per_second > 0).then_some(Self { per_second })
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What an app spends beyond its requests, each with its own budget per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The counter's name.
    pub name: &'static str,
    /// What the budget allows per window.
    pub limit: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
}

impl Budget {
    /// Redeliveries (`POST /v1/events/{id}/redeliver`): each queues up to one delivery per
    /// endpoint, each up to 7 attempts, at hosts the app chose. 60 an hour is a redelivery a
    /// minute, bursts allowed; an outage's backlog is replayed by the queue, not by hand.
    pub const REDELIVERIES: Self = Self {
        name: "redeliveries",
        limit: 60,
        window_secs: 3600,
    };

    /// Imported users (`POST /v1/users/batch`, counted by rows): 6,000 a minute is 100 users
    /// a second sustained, each a transaction, a wallet key and a data key, and still moves a
    /// million users in under three hours.
    pub const IMPORTED_USERS: Self = Self {
        name: "imported-users",
        limit: 6000,
        window_secs: 60,
    };
}

/// One window of one of an app's counters: requests in a second, or a budget's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub name: &'static str,
    /// The window's start, in Unix seconds divided by its length.
    pub window: u64,
}

impl Counter {
    /// The counter's key: its name and window.
    pub fn key(&self) -> String {
        format!("{}#{}", self.name, self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_positive_whole_numbers() {
        assert_eq!(
            RateLimit::parse(" 250 "),
            Some(RateLimit { per_second: 250 })
        );
        for bad in ["0", "-1", "1.5", "lots", ""] {
            assert_eq!(RateLimit::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn counters_of_other_names_or_windows_differ() {
        let a = Counter {
            name: "requests",
            window: 7,
        };
        assert_eq!(a.key(), "requests#7");
        assert_ne!(
            a.key(),
            Counter {
                name: "redeliveries",
                window: 7
            }
            .key()
        );
        assert_ne!(
            a.key(),
            Counter {
                name: "requests",
                window: 8
            }
            .key()
        );
    }
}
