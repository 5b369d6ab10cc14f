//! The `route` result: queue, the rule that chose it, and the recommended agents.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `route` key a ticket gets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Route {
    /// The queue the ticket goes to.
    pub queue: String,
    /// Index (from 0) in the configuration's `rules` of the rule that chose
    /// the queue; null when no rule matched and the default queue was used.
    pub rule: Option<usize>,
    /// The ticket language used for rules and agents (`es`, `en`, ...).
    pub language: String,
    /// Id of the recommended agent; null when no agent fits or no agents
    /// file was given (route to the queue only).
    pub agent: Option<String>,
    /// The best available agents, best first (at most `agents.candidates`).
    pub candidates: Vec<AgentCandidate>,
    /// Confidence in the queue: that of the evidence of the matching rule,
    /// or `default_confidence` for the default queue.
    pub confidence: f64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentCandidate {
    pub id: String,
    pub name: String,
    /// In [0, 1]: weighted skill match, free capacity and satisfaction.
    pub score: f64,
    /// The parts of the score, and why the agent is available.
    pub reasons: Vec<String>,
}
