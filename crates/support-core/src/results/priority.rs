//! The `priority` result: level, score, the factors behind it and the SLA clocks.

use std::fmt;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Priority levels, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Low,
    Medium,
    High,
    Urgent,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Urgent,
        Level::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Urgent => "urgent",
            Level::Critical => "critical",
        }
    }

    /// The level above, if any.
    pub fn next(self) -> Option<Level> {
        Level::ALL.get(self as usize + 1).copied()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `priority` key a ticket gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Priority {
    /// low, medium, high, urgent or critical: from the score, raised to the
    /// floor of any impact that sets one.
    pub level: Level,
    /// 0-100: the sum of the factors' points, clamped.
    pub score: f64,
    /// Every contribution to the score, with its points and cause.
    #[serde(default)]
    pub factors: Vec<Factor>,
    /// SLA targets of the level, their due times and status.
    pub sla: Sla,
    /// How sure the level is, in [0, 1]: lower near a level boundary and when signals are missing.
    pub confidence: f64,
    /// Readable sentences naming what decided the level and the SLA status.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// One contribution to the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Factor {
    pub kind: FactorKind,
    /// Points added (negative points lower the score).
    pub points: f64,
    /// What caused it: the words and the field they were in, the tier, the channel, ...
    pub cause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Base,
    Impact,
    Negativity,
    Frustration,
    Tier,
    Channel,
    Age,
}

/// Where an SLA clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Done by the due time.
    Met,
    /// Done late, or not done and past the due time.
    Breached,
    /// Not done, and most of the window (the configured fraction) has elapsed.
    AtRisk,
    /// Not done, with time left.
    OnTrack,
}

impl SlaStatus {
    pub fn describe(self) -> &'static str {
        match self {
            SlaStatus::Met => "met",
            SlaStatus::Breached => "breached",
            SlaStatus::AtRisk => "at risk",
            SlaStatus::OnTrack => "on track",
        }
    }
}

/// One SLA clock, started at `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SlaClock {
    /// Minutes allowed from `created_at` at this priority level.
    pub target_minutes: u32,
    /// `created_at` + target; absent when the ticket has no `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub due: Option<Timestamp>,
    /// Absent when there is no due time, or the work was done at an unknown time that may be after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SlaStatus>,
    /// Whether the response (or resolution) has happened, so the clock has stopped.
    #[serde(default)]
    pub done: bool,
}

impl SlaClock {
    /// The status as of `now`. Time only moves forward: a clock that was still
    /// running when it was computed and whose due time has since passed is breached.
    pub fn status_at(&self, now: Timestamp) -> Option<SlaStatus> {
        match (self.status, self.due) {
            (Some(SlaStatus::OnTrack | SlaStatus::AtRisk), Some(due)) if now > due => {
                Some(SlaStatus::Breached)
            }
            (status, _) => status,
        }
    }
}

/// The SLA block of a priority: both clocks for the ticket's level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sla {
    pub first_response: SlaClock,
    pub resolution: SlaClock,
}

/// What later tools read of an earlier `priority` result to weigh it
/// (lenient, borrowed); escalation reads the whole [`Priority`] for its SLA.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct EarlierPriority<'a> {
    #[serde(default, borrow)]
    pub level: Option<&'a str>,
    #[serde(default)]
    pub confidence: Option<f64>,
}

impl<'a> super::Reading<'a> for EarlierPriority<'a> {
    type Of = Priority;

    fn of(result: &'a Priority) -> Self {
        EarlierPriority {
            level: Some(result.level.name()),
            confidence: Some(result.confidence),
        }
    }
}
