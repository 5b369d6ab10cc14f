//! The `dashboard` payload: what a dashboard page draws.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use crate::filter::Window;
use crate::row::Feedback;

/// `dashboard`: the payload a dashboard page draws.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Dashboard {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub metrics: DashboardMetrics,
    /// One entry per hour of the window, by the hour tickets were created.
    pub trends: Vec<HourTrend>,
    pub priority_distribution: Vec<PriorityShare>,
    pub top_categories: Vec<CategoryShare>,
    pub top_agents: Vec<AgentFigures>,
    /// Newest first.
    pub recent_feedback: Vec<Feedback>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DashboardMetrics {
    pub total_tickets: u64,
    pub chatbot_resolved: u64,
    /// Open: not resolved or closed.
    pub pending: u64,
    pub critical_urgent: u64,
    pub avg_first_response_minutes: Option<f64>,
    /// chatbot_resolved / total_tickets.
    pub chatbot_resolution_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HourTrend {
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub hour: Timestamp,
    pub tickets: u64,
    pub resolved: u64,
    pub bot_resolved: u64,
    pub critical_urgent: u64,
}

impl Default for HourTrend {
    fn default() -> Self {
        HourTrend {
            hour: Timestamp::UNIX_EPOCH,
            tickets: 0,
            resolved: 0,
            bot_resolved: 0,
            critical_urgent: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PriorityShare {
    pub priority: String,
    pub tickets: u64,
    /// Of all tickets in the window (tickets without a priority make up the rest).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CategoryShare {
    pub category: String,
    pub tickets: u64,
    pub share: f64,
}

/// An agent's tickets in the window (by `assigned_to`), as `v_agent_performance` counts them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentFigures {
    pub agent_id: String,
    pub name: Option<String>,
    pub tickets: u64,
    pub resolved: u64,
    pub avg_first_response_minutes: Option<f64>,
    pub avg_resolution_minutes: Option<f64>,
    pub csat_avg: Option<f64>,
}
