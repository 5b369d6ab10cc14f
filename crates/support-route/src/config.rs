//! The configuration of routing; `defaults/route.yaml` explains every field.

use std::collections::BTreeMap;

use serde::Deserialize;
use support_text::Language;

use crate::DEFAULT_CONFIG_JSON;

/// The configuration; `defaults/route.yaml` explains every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub fallback_language: Language,
    /// Ordered; the first rule that matches chooses the queue.
    pub rules: Vec<Rule>,
    pub default_queue: String,
    pub default_confidence: f64,
    /// Skills each queue needs; a queue not listed needs a skill of its own name.
    pub queue_skills: BTreeMap<String, Vec<String>>,
    pub agents: AgentSettings,
}

impl Default for RouteConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// A routing rule: its queue, and conditions on the ticket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub queue: String,
    /// Whether every listed condition must hold (`all`) or one is enough (`any`).
    #[serde(default, rename = "match")]
    pub combine: Combine,
    #[serde(default)]
    pub category: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub language: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub priority: Vec<String>,
    #[serde(default)]
    pub channel: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    #[default]
    All,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// How many ranked candidates the output lists.
    pub candidates: usize,
    pub weights: Weights,
}

/// Weights of the agent score's parts; only their ratios matter.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub skill: f64,
    pub capacity: f64,
    pub satisfaction: f64,
}

impl Weights {
    pub(crate) fn total(self) -> f64 {
        self.skill + self.capacity + self.satisfaction
    }
}
