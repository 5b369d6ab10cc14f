//! The `predictions` key a ticket gets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Predictions for one ticket, each with its value and interval (or
/// probability), a confidence, and the features that moved it most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Predictions {
    /// `model`: learned from history by `support-ml-predict train`; `default`:
    /// the embedded priors by priority, before any training (not learned).
    pub source: Source,
    /// The model file, or `embedded:default-priors`.
    pub model: String,
    /// Minutes from opening to resolution: the median estimate and its interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_minutes: Option<Estimate>,
    /// Probability that the resolution SLA is breached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breach: Option<Risk>,
    /// Expected satisfaction rating (1-5), when the history had ratings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Estimate>,
    /// The group (queue) that handles tickets like this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Recommendation>,
    /// The agent to assign: who handles such tickets, how fast, how well
    /// rated, weighed against their current load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Recommendation>,
    /// The lowest confidence of the predictions above, in [0, 1].
    pub confidence: f64,
    /// Readable sentences: each prediction and what moved it, values the
    /// model never saw.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Model,
    Default,
}

/// A predicted quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Estimate {
    pub value: f64,
    pub interval: Interval,
    /// Resolution time: the share of similar past tickets resolved within a
    /// factor 2 of the value. Rating: the share of past ratings within one
    /// point of the prediction. Priors: a fixed low figure.
    pub confidence: f64,
    /// The features that moved the value most. `effect` is a factor on the
    /// time for resolution minutes (1.5 = half as long again), rating points for csat.
    pub features: Vec<Effect>,
}

/// Where the true value is expected to fall, with probability `level`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub level: f64,
}

/// The probability of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub probability: f64,
    /// max(p, 1 - p): how far from a coin toss.
    pub confidence: f64,
    /// `effect` is the change in log-odds (positive raises the risk).
    pub features: Vec<Effect>,
}

/// A group or agent to hand the ticket to, and the alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    pub recommended: String,
    /// Group: its probability. Agent: the recommended agent's probability of
    /// handling such a ticket.
    pub confidence: f64,
    /// Best first.
    pub candidates: Vec<Candidate>,
    /// `effect` is the change in the log-odds of the recommended one.
    pub features: Vec<Effect>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    pub name: String,
    /// How likely this group or agent handles a ticket like this one.
    pub probability: f64,
    /// Agents: the weighed score that ranks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Agents: the expected resolution minutes if they take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_minutes: Option<f64>,
    /// Agents: their mean rating (shrunk towards the overall mean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// One feature's part in a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Effect {
    /// Where the value was read, e.g. `category.name` or `created_at (hour)`.
    pub field: String,
    pub value: String,
    pub effect: f64,
}
