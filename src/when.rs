//! Time as the reports show it: one format (UTC, day and minute) for every
//! message and renderer, and whole days until a date. Pure: "now" is always
//! passed in (the inventory's `collected_at`), never read from the clock.

use jiff::Timestamp;

/// Formats a timestamp as a day and minute in UTC, for messages.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// Whole days from `now` until `then` (negative when `then` is past).
pub fn days_until(now: Timestamp, then: Timestamp) -> i64 {
    (then.as_second() - now.as_second()).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_until_floors() {
        let now: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
        assert_eq!(days_until(now, "2026-12-07T00:00:00Z".parse().unwrap()), 7);
        assert_eq!(days_until(now, "2026-12-06T23:59:59Z".parse().unwrap()), 6);
        assert_eq!(days_until(now, "2026-11-29T12:00:00Z".parse().unwrap()), -1);
    }
}
