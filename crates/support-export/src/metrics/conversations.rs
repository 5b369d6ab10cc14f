//! The `conversations` payload: what the transcripts show.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use crate::filter::Window;

/// `conversations`: what the transcripts show (tickets with messages).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Conversations {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub overall: ConversationFigures,
    pub by_channel: Vec<ConversationGroup>,
    pub by_language: Vec<ConversationGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConversationGroup {
    pub name: String,
    #[serde(flatten)]
    pub figures: ConversationFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConversationFigures {
    pub conversations: u64,
    pub resolved: u64,
    pub resolution_rate: Option<f64>,
    pub bot_resolved: u64,
    pub bot_resolution_rate: Option<f64>,
    pub ratings: u64,
    pub csat_avg: Option<f64>,
    /// Messages per conversation.
    pub avg_turns: Option<f64>,
    /// First to last message.
    pub avg_duration_minutes: Option<f64>,
}
