//! Running tallies the aggregator keeps per group, and the rounding of rates.

use jiff::Timestamp;

use super::{ConversationFigures, Csat, SlaCompliance};
use crate::row::{Feedback, TicketRow};

#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) tickets: u64,
    pub(crate) bot_resolved: u64,
    pub(crate) open: u64,
    pub(crate) critical_urgent: u64,
    pub(crate) resolved: u64,
    pub(crate) first_response: Mean,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Mean {
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl Mean {
    pub(crate) fn add(&mut self, value: Option<f64>) {
        if let Some(value) = value {
            self.sum += value;
            self.count += 1;
        }
    }

    pub(crate) fn merge(&mut self, other: &Mean) {
        self.sum += other.sum;
        self.count += other.count;
    }

    /// The mean rounded to 2 decimals (minutes, turns, ratings), as the views round.
    pub(crate) fn minutes(&self) -> Option<f64> {
        (self.count > 0).then(|| round_to(self.sum / self.count as f64, 2))
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Ratings {
    pub(crate) count: u64,
    pub(crate) sum: u64,
    pub(crate) satisfied: u64,
    pub(crate) distribution: [u64; 5],
}

impl Ratings {
    pub(crate) fn of(feedback: &[Feedback], satisfied_from: u8) -> Ratings {
        let mut ratings = Ratings::default();
        for f in feedback.iter().filter(|f| (1..=5).contains(&f.rating)) {
            ratings.count += 1;
            ratings.sum += u64::from(f.rating);
            ratings.satisfied += u64::from(f.rating >= satisfied_from);
            ratings.distribution[usize::from(f.rating - 1)] += 1;
        }
        ratings
    }

    pub(crate) fn merge(&mut self, other: &Ratings) {
        self.count += other.count;
        self.sum += other.sum;
        self.satisfied += other.satisfied;
        for (mine, theirs) in self.distribution.iter_mut().zip(other.distribution) {
            *mine += theirs;
        }
    }

    pub(crate) fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| round_to(self.sum as f64 / self.count as f64, 2))
    }

    pub(crate) fn csat(&self) -> Csat {
        Csat {
            ratings: self.count,
            average: self.average(),
            satisfied_rate: (self.count > 0).then(|| rate(self.satisfied, self.count)),
            distribution: self.distribution,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PriorityFigures {
    pub(crate) tickets: u64,
    pub(crate) first_response: Mean,
    pub(crate) first_response_met: u64,
    pub(crate) first_response_decided: u64,
    pub(crate) resolution_met: u64,
    pub(crate) resolution_decided: u64,
}

impl PriorityFigures {
    pub(crate) fn add(&mut self, row: &TicketRow, now: Timestamp) {
        self.tickets += 1;
        self.first_response.add(row.first_response_minutes());
        let (met, decided) = sla_outcome(
            row.columns.first_response_at,
            row.columns.sla_first_response_due,
            now,
        );
        self.first_response_met += u64::from(met);
        self.first_response_decided += u64::from(decided);
        let (met, decided) =
            sla_outcome(row.columns.resolved_at, row.columns.sla_resolution_due, now);
        self.resolution_met += u64::from(met);
        self.resolution_decided += u64::from(decided);
    }

    pub(crate) fn merge(&mut self, other: &PriorityFigures) {
        self.tickets += other.tickets;
        self.first_response.merge(&other.first_response);
        self.first_response_met += other.first_response_met;
        self.first_response_decided += other.first_response_decided;
        self.resolution_met += other.resolution_met;
        self.resolution_decided += other.resolution_decided;
    }

    pub(crate) fn sla(&self, priority: &str) -> SlaCompliance {
        let ratio = |met, decided| (decided > 0).then(|| rate(met, decided));
        SlaCompliance {
            priority: priority.to_string(),
            tickets: self.tickets,
            first_response_met: self.first_response_met,
            first_response_decided: self.first_response_decided,
            first_response_rate: ratio(self.first_response_met, self.first_response_decided),
            resolution_met: self.resolution_met,
            resolution_decided: self.resolution_decided,
            resolution_rate: ratio(self.resolution_met, self.resolution_decided),
        }
    }
}

/// (met, decided) for one SLA target: met when done by the due time; decided
/// once done, or when the due time has passed at `now`.
pub(crate) fn sla_outcome(
    done: Option<Timestamp>,
    due: Option<Timestamp>,
    now: Timestamp,
) -> (bool, bool) {
    match due {
        None => (false, false),
        Some(due) => (
            done.is_some_and(|done| done <= due),
            done.is_some() || due < now,
        ),
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AgentTally {
    pub(crate) tickets: u64,
    pub(crate) resolved: u64,
    pub(crate) first_response: Mean,
    pub(crate) resolution: Mean,
    pub(crate) ratings: Ratings,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct ConversationTally {
    pub(crate) conversations: u64,
    pub(crate) resolved: u64,
    pub(crate) bot_resolved: u64,
    pub(crate) turns: u64,
    pub(crate) duration: Mean,
    pub(crate) ratings: Ratings,
}

impl ConversationTally {
    pub(crate) fn figures(&self) -> ConversationFigures {
        let n = self.conversations;
        ConversationFigures {
            conversations: n,
            resolved: self.resolved,
            resolution_rate: (n > 0).then(|| rate(self.resolved, n)),
            bot_resolved: self.bot_resolved,
            bot_resolution_rate: (n > 0).then(|| rate(self.bot_resolved, n)),
            ratings: self.ratings.count,
            csat_avg: self.ratings.average(),
            avg_turns: (n > 0).then(|| round_to(self.turns as f64 / n as f64, 2)),
            avg_duration_minutes: self.duration.minutes(),
        }
    }
}

/// part / whole rounded to 4 decimals; 0 when whole is 0, as the views coalesce.
pub(crate) fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round_to(part as f64 / whole as f64, 4)
    }
}

pub(crate) fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}
