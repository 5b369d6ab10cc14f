//! Which tickets a command reads: a time window over `created_at`, and
//! status, category and priority.

use std::fmt;
use std::str::FromStr;

use jiff::{civil::Date, tz::TimeZone, SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;

use crate::row::TicketRow;

/// A span back from the clock: `24h`, `7d`, `30d` (any whole number of hours, days or weeks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    hours: i64,
    /// As written, for display (`7d`).
    count: i64,
    unit: char,
}

impl Period {
    pub fn duration(self) -> SignedDuration {
        SignedDuration::from_hours(self.hours)
    }

    /// The window that ends at `now`.
    pub fn ending_at(self, now: Timestamp) -> Window {
        Window {
            since: now - self.duration(),
            until: now,
        }
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Period, String> {
        let bad = || {
            format!("`{text}` is not a period: use a number of hours, days or weeks, such as 24h, 7d or 30d")
        };
        let text = text.trim();
        let unit = text.chars().last().ok_or_else(bad)?;
        let count: i64 = text[..text.len() - unit.len_utf8()]
            .parse()
            .map_err(|_| bad())?;
        let hours_per_unit = match unit {
            'h' => 1,
            'd' => 24,
            'w' => 24 * 7,
            _ => return Err(bad()),
        };
        // Up to ten years: enough for any report, far from overflowing times.
        if !(1..=87_600 / hours_per_unit).contains(&count) {
            return Err(bad());
        }
        Ok(Period {
            hours: count * hours_per_unit,
            count,
            unit,
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit)
    }
}

/// A time given on the command line: RFC 3339, or a date meaning its UTC midnight.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>()
        .or_else(|_| {
            text.parse::<Date>()
                .and_then(|date| date.to_zoned_datetime(TimeZone::UTC))
                .map(|zoned| zoned.timestamp())
        })
        .map_err(|_| {
            format!("`{text}` is not a time: use RFC 3339 (2026-11-24T09:00:00Z) or a date (2026-11-24, UTC)")
        })
}

/// Tickets created at or after `since` and before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Window {
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub since: Timestamp,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub until: Timestamp,
}

impl Window {
    /// From `--period`, `--since` and `--until`: a period ends at `--until`
    /// (default `now`), and so does `--since`; without either, `default` is
    /// the period, and with no default either, every ticket (before `--until`).
    pub fn from_args(
        period: Option<Period>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        now: Timestamp,
        default: Option<Period>,
    ) -> Result<Option<Window>, String> {
        let end = until.unwrap_or(now);
        let window = match (period, since) {
            (Some(_), Some(_)) => return Err("give --period or --since, not both".into()),
            (Some(period), None) => Some(period.ending_at(end)),
            (None, Some(since)) => Some(Window { since, until: end }),
            (None, None) => match (default, until) {
                (Some(period), _) => Some(period.ending_at(end)),
                (None, Some(_)) => Some(Window {
                    since: Timestamp::MIN,
                    until: end,
                }),
                (None, None) => None,
            },
        };
        match window {
            Some(w) if w.since >= w.until => Err(format!(
                "the window is empty: --since {} is not before --until {}",
                w.since, w.until
            )),
            _ => Ok(window),
        }
    }

    pub fn contains(&self, time: Timestamp) -> bool {
        self.since <= time && time < self.until
    }
}

/// Which tickets to read. Empty lists accept every value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub window: Option<Window>,
    pub statuses: Vec<String>,
    pub categories: Vec<String>,
    pub priorities: Vec<String>,
}

impl Filter {
    pub fn matches(&self, row: &TicketRow) -> bool {
        fn one_of(allowed: &[String], value: Option<&str>) -> bool {
            allowed.is_empty() || value.is_some_and(|v| allowed.iter().any(|a| a == v))
        }
        self.window
            .is_none_or(|w| row.columns.created_at.is_some_and(|t| w.contains(t)))
            && one_of(&self.statuses, Some(&row.columns.status))
            && one_of(&self.categories, row.columns.category.as_deref())
            && one_of(&self.priorities, row.columns.priority.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn periods_parse_and_print() {
        let week: Period = "7d".parse().unwrap();
        assert_eq!(week.duration(), SignedDuration::from_hours(168));
        assert_eq!(week.to_string(), "7d");
        assert_eq!("2w".parse::<Period>().unwrap().duration().as_hours(), 336);
        for bad in ["", "d", "7", "-1d", "0h", "7m", "1.5d", "99999w"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn times_are_rfc3339_or_dates() {
        assert_eq!(
            parse_time("2026-11-24").unwrap(),
            ts("2026-11-24T00:00:00Z")
        );
        assert_eq!(
            parse_time("2026-11-24T10:00:00+01:00").unwrap(),
            ts("2026-11-24T09:00:00Z")
        );
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn windows_from_the_flags() {
        let now = ts("2026-11-24T09:00:00Z");
        let day: Period = "24h".parse().unwrap();
        let w = Window::from_args(Some(day), None, None, now, None)
            .unwrap()
            .unwrap();
        assert_eq!((w.since, w.until), (ts("2026-11-23T09:00:00Z"), now));
        assert!(w.contains(w.since) && !w.contains(w.until));
        let until = ts("2026-11-20T00:00:00Z");
        let w = Window::from_args(Some(day), None, Some(until), now, None)
            .unwrap()
            .unwrap();
        assert_eq!(w.since, ts("2026-11-19T00:00:00Z"));
        assert_eq!(
            Window::from_args(None, None, None, now, None).unwrap(),
            None
        );
        let w = Window::from_args(None, None, None, now, Some(day))
            .unwrap()
            .unwrap();
        assert_eq!(w.until, now);
        assert!(Window::from_args(Some(day), Some(now), None, now, None).is_err());
        let err = Window::from_args(None, Some(now), Some(until), now, None).unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn filters_match_every_condition() {
        let row = crate::row::tests::row_from(serde_json::json!({
            "id": "A", "status": "open", "created_at": "2026-11-24T08:00:00Z",
            "category": {"name": "refund"}, "priority": {"level": "high"}
        }))
        .unwrap();
        let window = Window {
            since: ts("2026-11-24T00:00:00Z"),
            until: ts("2026-11-25T00:00:00Z"),
        };
        let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(Filter::default().matches(&row));
        let filter = Filter {
            window: Some(window),
            statuses: strings(&["open", "pending"]),
            categories: strings(&["refund"]),
            priorities: strings(&["high", "urgent"]),
        };
        assert!(filter.matches(&row));
        for other in [
            Filter {
                statuses: strings(&["closed"]),
                ..filter.clone()
            },
            Filter {
                categories: strings(&["order"]),
                ..filter.clone()
            },
            Filter {
                priorities: strings(&["low"]),
                ..filter.clone()
            },
            Filter {
                window: Some(Window {
                    since: window.until,
                    until: ts("2026-11-26T00:00:00Z"),
                }),
                ..filter.clone()
            },
        ] {
            assert!(!other.matches(&row), "{other:?}");
        }
    }
}
