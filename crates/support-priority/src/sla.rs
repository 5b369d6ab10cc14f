//! SLA clocks: when the first response and the resolution are due, and
//! whether each was met, breached, is at risk or on track.

use jiff::{SignedDuration, Timestamp};
use support_core::results::priority::{SlaClock, SlaStatus};

/// Whether, and when, the work a clock measures was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    No,
    At(Timestamp),
    /// Done at an unknown time no later than this (e.g. the status says
    /// resolved, so it was done before now).
    NoLaterThan(Timestamp),
}

/// Runs one clock of `target_minutes` from `created_at`.
pub(crate) fn clock(
    target_minutes: u32,
    created_at: Option<Timestamp>,
    done: Done,
    now: Timestamp,
    at_risk_fraction: f64,
) -> SlaClock {
    let window = SignedDuration::from_mins(i64::from(target_minutes));
    let due = created_at.and_then(|c| c.checked_add(window).ok());
    let status = match (created_at, due) {
        (Some(created), Some(due)) => status(created, due, window, done, now, at_risk_fraction),
        _ => None,
    };
    SlaClock {
        target_minutes,
        due,
        status,
        done: done != Done::No,
    }
}

fn status(
    created: Timestamp,
    due: Timestamp,
    window: SignedDuration,
    done: Done,
    now: Timestamp,
    at_risk_fraction: f64,
) -> Option<SlaStatus> {
    match done {
        Done::At(at) if at <= due => Some(SlaStatus::Met),
        Done::At(_) => Some(SlaStatus::Breached),
        // Certainly in time if done no later than the due time; otherwise unknown.
        Done::NoLaterThan(latest) => (latest <= due).then_some(SlaStatus::Met),
        Done::No if now > due => Some(SlaStatus::Breached),
        Done::No => {
            let elapsed = now.duration_since(created).as_secs_f64();
            if elapsed >= at_risk_fraction * window.as_secs_f64() {
                Some(SlaStatus::AtRisk)
            } else {
                Some(SlaStatus::OnTrack)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const CREATED: &str = "2026-11-24T08:00:00Z";

    fn run(done: Done, now: &str) -> SlaClock {
        clock(60, Some(ts(CREATED)), done, ts(now), 0.8)
    }

    #[test]
    fn due_is_created_plus_target() {
        let c = run(Done::No, "2026-11-24T08:10:00Z");
        assert_eq!(c.due, Some(ts("2026-11-24T09:00:00Z")));
        let long = clock(7200, Some(ts(CREATED)), Done::No, ts(CREATED), 0.8);
        assert_eq!(long.due, Some(ts("2026-11-29T08:00:00Z")), "5 days later");
    }

    #[test]
    fn running_clock_is_on_track_then_at_risk_then_breached() {
        assert_eq!(
            run(Done::No, "2026-11-24T08:47:59Z").status,
            Some(SlaStatus::OnTrack)
        );
        assert_eq!(
            run(Done::No, "2026-11-24T08:48:00Z").status,
            Some(SlaStatus::AtRisk),
            "80% of 60 min"
        );
        assert_eq!(
            run(Done::No, "2026-11-24T09:00:00Z").status,
            Some(SlaStatus::AtRisk),
            "due time itself is in time"
        );
        let running = run(Done::No, "2026-11-24T09:00:01Z");
        assert_eq!(
            (running.status, running.done),
            (Some(SlaStatus::Breached), false)
        );
    }

    #[test]
    fn done_clock_is_met_or_breached_whatever_now_is() {
        let late_now = "2026-12-01T00:00:00Z";
        assert_eq!(
            run(Done::At(ts("2026-11-24T08:59:00Z")), late_now).status,
            Some(SlaStatus::Met)
        );
        let late = run(Done::At(ts("2026-11-24T09:01:00Z")), late_now);
        assert_eq!((late.status, late.done), (Some(SlaStatus::Breached), true));
    }

    #[test]
    fn done_at_unknown_time_is_met_only_if_surely_before_due() {
        let now = "2026-11-24T12:00:00Z";
        assert_eq!(
            run(Done::NoLaterThan(ts("2026-11-24T08:30:00Z")), now).status,
            Some(SlaStatus::Met)
        );
        assert_eq!(
            run(Done::NoLaterThan(ts("2026-11-24T10:00:00Z")), now).status,
            None
        );
    }

    #[test]
    fn no_created_at_gives_no_due_time_nor_status() {
        let c = clock(60, None, Done::No, ts(CREATED), 0.8);
        assert_eq!(
            (c.target_minutes, c.due, c.status, c.done),
            (60, None, None, false)
        );
    }

    #[test]
    fn status_at_a_later_now_turns_running_clocks_breached() {
        let c = run(Done::No, "2026-11-24T08:10:00Z");
        assert_eq!(
            c.status_at(ts("2026-11-24T08:30:00Z")),
            Some(SlaStatus::OnTrack),
            "kept as computed"
        );
        assert_eq!(
            c.status_at(ts("2026-11-24T09:30:00Z")),
            Some(SlaStatus::Breached)
        );
        let met = run(Done::At(ts("2026-11-24T08:20:00Z")), "2026-11-24T08:30:00Z");
        assert_eq!(
            met.status_at(ts("2026-11-25T00:00:00Z")),
            Some(SlaStatus::Met)
        );
    }
}
