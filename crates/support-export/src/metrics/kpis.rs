//! The `kpis` payload: the service figures a support lead is measured by.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use crate::filter::Window;

/// `kpis`: the service figures a support lead is measured by.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Kpis {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub tickets: u64,
    pub resolved: u64,
    pub bot_resolution_rate: f64,
    pub avg_first_response_minutes: Option<f64>,
    pub first_response_by_priority: Vec<PriorityResponse>,
    /// Per priority, as `v_sla_compliance`.
    pub sla_compliance: Vec<SlaCompliance>,
    pub sla_overall: SlaCompliance,
    pub csat: Csat,
    /// Resolved tickets with at least one rating, of all resolved tickets.
    pub feedback_response_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PriorityResponse {
    pub priority: String,
    pub tickets: u64,
    /// Tickets with a first response.
    pub responded: u64,
    pub avg_first_response_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SlaCompliance {
    pub priority: String,
    pub tickets: u64,
    pub first_response_met: u64,
    pub first_response_decided: u64,
    /// met / decided; null while nothing is decided.
    pub first_response_rate: Option<f64>,
    pub resolution_met: u64,
    pub resolution_decided: u64,
    pub resolution_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Csat {
    /// Ratings of the window's tickets.
    pub ratings: u64,
    /// Mean rating, 1 to 5.
    pub average: Option<f64>,
    /// Ratings at or above `csat.satisfied_from`, of all ratings.
    pub satisfied_rate: Option<f64>,
    /// How many ratings of each value, 1 to 5.
    pub distribution: [u64; 5],
}
