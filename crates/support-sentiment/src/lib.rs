//! Sentiment analysis: STUB to be replaced — public API fixed for other crates.
pub mod evaluate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use support_core::{Context, RecordError, Ticket, Tool};
use support_text::Language;

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/sentiment.yaml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentConfig {
    pub fallback_language: Language,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        support_core::config::embedded(DEFAULT_CONFIG)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Worsening,
    Stable,
    Improving,
}

/// The `sentiment` key a ticket gets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Sentiment {
    pub label: Label,
    /// Polarity in [-1, 1].
    pub score: f64,
    /// Emotional urgency in [0, 1], separate from polarity.
    pub frustration: f64,
    pub language: Language,
    pub confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    pub reasons: Vec<String>,
}

pub struct Analyzer {
    config: SentimentConfig,
}

impl Analyzer {
    pub fn new(config: SentimentConfig) -> Self {
        Analyzer { config }
    }

    pub fn analyze(&self, _ticket: &Ticket<'_>) -> Sentiment {
        Sentiment {
            label: Label::Neutral,
            score: 0.0,
            frustration: 0.0,
            language: self.config.fallback_language,
            confidence: 0.5,
            trend: None,
            reasons: vec![],
        }
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(SentimentConfig::default())
    }
}

impl Tool for Analyzer {
    const KEY: &'static str = "sentiment";
    type Output = Sentiment;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Sentiment, RecordError> {
        Ok(self.analyze(ticket))
    }
}
