//! The `escalation` result: whether and to which level, the triggers, actions and deadlines.

use std::fmt;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::priority::Level;

/// Escalation levels, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum EscalationLevel {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "L1", alias = "l1")]
    L1,
    #[serde(rename = "L2", alias = "l2")]
    L2,
    #[serde(rename = "manager")]
    Manager,
}

impl fmt::Display for EscalationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EscalationLevel::None => "none",
            EscalationLevel::L1 => "L1",
            EscalationLevel::L2 => "L2",
            EscalationLevel::Manager => "manager",
        })
    }
}

/// What fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    FirstResponseSlaAtRisk,
    FirstResponseSlaBreached,
    ResolutionSlaAtRisk,
    ResolutionSlaBreached,
    /// The bot's confidence is below the threshold.
    LowBotConfidence,
    /// The last bot message admits it did not understand.
    BotFallback,
    /// The last bot message repeats an earlier one.
    BotRepeating,
    /// Many bot turns since the last agent message, without resolution.
    BotTurns,
    /// The customer asks for a person.
    HumanRequested,
    WorseningSentiment,
    /// Legal, regulator, press or fraud words.
    CriticalWords,
    Vip,
}

/// The `escalation` key a ticket gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Escalation {
    /// Whether to escalate now: some trigger calls for a level above none, and the ticket is not resolved.
    pub escalate: bool,
    /// none, L1, L2 or manager: the highest level the triggers and rules call for.
    pub level: EscalationLevel,
    /// Every check that fired.
    pub triggers: Vec<Trigger>,
    /// What to do: reassign, raise the priority, notify. Empty when not escalating.
    pub actions: Vec<Action>,
    /// By when: acknowledging the escalation, and the SLA clocks still running.
    pub deadlines: Vec<Deadline>,
    /// How sure the decision is, in [0, 1].
    pub confidence: f64,
    /// Readable sentences naming the triggers, rules and sources that decided.
    pub reasons: Vec<String>,
}

/// One check that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// What exactly fired: the words and field, the value and threshold, the due time, ...
    pub detail: String,
    /// How strongly it supports escalating, in [0, 1].
    pub weight: f64,
    /// The level this trigger alone calls for.
    pub level: EscalationLevel,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Move the ticket to this queue.
    Reassign { queue: String },
    /// Raise the ticket's priority level.
    RaisePriority { from: Level, to: Level },
    /// Tell this person or team.
    Notify { who: String },
}

/// A time by which something must happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deadline {
    pub kind: DeadlineKind,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub due: Timestamp,
    /// How the time was set.
    pub basis: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Someone at the new level takes the ticket.
    Acknowledge,
    FirstResponse,
    Resolution,
}
