//! `report`: the figures for people. HTML (one self-contained file, charts as
//! inline SVG, no script, no network, prints well) or Markdown for chat tools.

mod html;
mod markdown;
mod svg;

use clap::ValueEnum;
use jiff::{tz::TimeZone, Timestamp};

use crate::config::ExportConfig;
use crate::metrics::HourTrend;
use crate::Summary;

pub use html::html;
pub use markdown::markdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page with charts.
    Html,
    /// Markdown, for chat tools and tickets.
    Md,
}

/// Articles of the knowledge-base section, and customers' words per article.
const FAILED_ARTICLES_SHOWN: usize = 10;
const QUERIES_SHOWN: usize = 3;

/// A customer's text cut for a table cell: at most 140 characters.
fn shorten(text: &str) -> String {
    const MAX: usize = 140;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
        None => text.to_string(),
    }
}

/// Renders the report.
pub fn render(summary: &Summary, config: &ExportConfig, format: ReportFormat) -> String {
    match format {
        ReportFormat::Html => html(summary, config),
        ReportFormat::Md => markdown(summary, config),
    }
}

/// Tickets of one bar of the volume chart: an hour, or a day for windows over two days.
struct VolumeBucket {
    start: Timestamp,
    tickets: u64,
    resolved: u64,
    bot_resolved: u64,
}

impl VolumeBucket {
    /// Resolved by agents (or by anyone but the bot).
    fn agent_resolved(&self) -> u64 {
        self.resolved - self.bot_resolved
    }

    fn open(&self) -> u64 {
        self.tickets - self.resolved
    }
}

/// Hourly trends as they read best: by the hour up to two days, else by UTC day.
fn volume_buckets(trends: &[HourTrend]) -> (Vec<VolumeBucket>, bool) {
    let hourly = trends.len() <= 48;
    let mut buckets: Vec<VolumeBucket> = Vec::new();
    for hour in trends {
        let start = if hourly {
            hour.hour
        } else {
            day_start(hour.hour)
        };
        match buckets.last_mut() {
            Some(bucket) if bucket.start == start => {
                bucket.tickets += hour.tickets;
                bucket.resolved += hour.resolved;
                bucket.bot_resolved += hour.bot_resolved;
            }
            _ => buckets.push(VolumeBucket {
                start,
                tickets: hour.tickets,
                resolved: hour.resolved,
                bot_resolved: hour.bot_resolved,
            }),
        }
    }
    (buckets, hourly)
}

fn day_start(time: Timestamp) -> Timestamp {
    Timestamp::from_second(time.as_second().div_euclid(86_400) * 86_400).unwrap_or(time)
}

/// "last 7 days", "last 24 hours", or "12 days".
fn period_label(since: Timestamp, until: Timestamp, now: Timestamp) -> String {
    let hours = until.duration_since(since).as_hours();
    let span = if hours % 24 == 0 && hours > 24 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    };
    if until == now {
        format!("Last {span}")
    } else {
        span
    }
}

/// `24 Nov 2026 09:00 UTC`.
fn date_time(time: Timestamp) -> String {
    time.to_zoned_datetime(TimeZone::UTC)
        .strftime("%-d %b %Y %H:%M UTC")
        .to_string()
}

/// `1,234`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as `42.5%`, or `–` when there is none.
fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => {
            let value = rate * 100.0;
            if value == value.round() {
                format!("{value:.0}%")
            } else {
                format!("{value:.1}%")
            }
        }
        None => "–".into(),
    }
}

/// Minutes as a person reads them: `45 min`, `2 h 05 min`, `3.2 days`.
fn duration(minutes: Option<f64>) -> String {
    let Some(minutes) = minutes else {
        return "–".into();
    };
    let total_minutes = minutes.round() as i64;
    if minutes < 1.0 {
        format!("{} s", (minutes * 60.0).round())
    } else if total_minutes < 60 {
        format!("{total_minutes} min")
    } else if total_minutes < 48 * 60 {
        format!("{} h {:02} min", total_minutes / 60, total_minutes % 60)
    } else {
        format!("{:.1} days", minutes / 1440.0)
    }
}

/// `4.3` out of 5, or `–`.
fn rating(average: Option<f64>) -> String {
    average.map_or_else(|| "–".into(), |a| format!("{a:.1}"))
}

/// Five stars, filled to the rating.
fn stars(rating: u8) -> String {
    (1..=5)
        .map(|i| if i <= rating { '★' } else { '☆' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(percent(Some(0.425)), "42.5%");
        assert_eq!(percent(Some(1.0)), "100%");
        assert_eq!(percent(None), "–");
        assert_eq!(duration(Some(0.5)), "30 s");
        assert_eq!(duration(Some(44.6)), "45 min");
        assert_eq!(duration(Some(125.0)), "2 h 05 min");
        assert_eq!(duration(Some(4608.0)), "3.2 days");
        assert_eq!(stars(3), "★★★☆☆");
        assert_eq!(
            date_time(ts("2026-11-24T09:05:00Z")),
            "24 Nov 2026 09:05 UTC"
        );
    }

    #[test]
    fn periods_are_named() {
        let now = ts("2026-11-24T09:00:00Z");
        assert_eq!(
            period_label(ts("2026-11-17T09:00:00Z"), now, now),
            "Last 7 days"
        );
        assert_eq!(
            period_label(ts("2026-11-23T09:00:00Z"), now, now),
            "Last 24 hours"
        );
        assert_eq!(
            period_label(ts("2026-11-10T09:00:00Z"), ts("2026-11-17T09:00:00Z"), now),
            "7 days"
        );
    }

    #[test]
    fn long_windows_are_drawn_by_day() {
        let trend = |hour: &str, tickets| HourTrend {
            hour: ts(hour),
            tickets,
            resolved: 1,
            bot_resolved: 1,
            critical_urgent: 0,
        };
        let hours: Vec<HourTrend> = (0..72)
            .map(|h| {
                let t = ts("2026-11-21T09:00:00Z") + SignedDuration::from_hours(h);
                trend(&t.to_string(), 2)
            })
            .collect();
        let (days, hourly) = volume_buckets(&hours);
        assert!(!hourly);
        // 15 hours on the 21st, 24 on the 22nd and 23rd, 9 on the 24th.
        let tickets: Vec<u64> = days.iter().map(|d| d.tickets).collect();
        assert_eq!(tickets, [30, 48, 48, 18]);
        assert_eq!(days[0].start, ts("2026-11-21T00:00:00Z"));
        assert_eq!(days[1].open(), 24);
        let (hours, hourly) = volume_buckets(&hours[..24]);
        assert!(hourly);
        assert_eq!(hours.len(), 24);
    }
}
