//! The configuration, as written in `defaults/ml-predict.yaml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::schema::{FeatureSource, Schema};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/ml-predict.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/ml-predict.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlPredictConfig {
    pub priors: Priors,
    /// How history files map onto inputs and targets, by format name.
    pub formats: BTreeMap<String, FormatConfig>,
    pub training: TrainSettings,
    pub agents: AgentSettings,
    /// Features quoted per prediction.
    pub explain: usize,
}

impl Default for MlPredictConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

impl MlPredictConfig {
    /// The format named `name`, with the names there are when it is not one.
    pub fn format(&self, name: &str) -> Result<&FormatConfig, String> {
        self.formats.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.formats.keys().map(String::as_str).collect();
            format!(
                "no format `{name}` in the configuration (formats: {})",
                known.join(", ")
            )
        })
    }
}

/// Figures used before any model is trained.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priors {
    /// Where the ticket's priority is read from.
    pub priority_from: Vec<String>,
    pub confidence: f64,
    /// By priority level, lower-case.
    pub levels: BTreeMap<String, Prior>,
    /// For a ticket without a listed priority.
    pub unknown: Prior,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prior {
    pub resolution_minutes: f64,
    pub low: f64,
    pub high: f64,
    pub sla_breach: f64,
    pub csat: f64,
}

/// Where one format keeps the inputs and targets (paths tried in order).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatConfig {
    /// Fields whose presence picks this format.
    pub detect: Vec<String>,
    pub features: Vec<FeatureSource>,
    pub time_features: bool,
    /// Also learn from the team's load when each ticket opened.
    pub load_features: bool,
    pub created_at: Vec<String>,
    pub resolved_at: Vec<String>,
    pub resolution_minutes: Vec<String>,
    pub sla_met: Vec<String>,
    pub sla_due: Vec<String>,
    pub csat: Vec<String>,
    pub group: Vec<String>,
    pub agent: Vec<String>,
    pub not_agents: Vec<String>,
    /// The category and priority features of the naive baseline.
    pub baseline: [String; 2],
}

impl FormatConfig {
    /// The inputs a model trained on this format reads.
    pub fn schema(&self, name: &str) -> Schema {
        Schema {
            format: name.to_string(),
            features: self.features.clone(),
            created_at: self.created_at.clone(),
            time_features: self.time_features,
            load: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    pub min_count: usize,
    /// Lower and upper quantile of the resolution time's interval.
    pub interval: [f64; 2],
    /// The boosted trees of the resolution time and the SLA breach.
    pub trees: support_boost::Options,
    pub classifier: ClassifierSettings,
    pub csat: CsatSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSettings {
    pub alpha: f64,
    pub max_iterations: u32,
    pub min_examples: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatSettings {
    pub alpha: f64,
    pub min_examples: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    pub candidates: usize,
    pub weights: AgentWeights,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentWeights {
    pub fit: f64,
    pub speed: f64,
    pub satisfaction: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_parses_as_yaml_and_json() {
        let from_yaml: MlPredictConfig =
            support_core::config::parse_yaml("default", DEFAULT_CONFIG).unwrap();
        let from_json = MlPredictConfig::default();
        assert_eq!(from_yaml.formats.len(), from_json.formats.len());
        assert!(from_json.format("itsm").is_ok());
        let err = from_json.format("zendesk").unwrap_err();
        assert!(err.contains("itsm") && err.contains("ticket"), "{err}");
    }

    #[test]
    fn the_itsm_format_reads_no_final_state_field() {
        let config = MlPredictConfig::default();
        let itsm = config.format("itsm").unwrap();
        let leaking = [
            "assignment_group",
            "assigned_to",
            "reassignment_count",
            "reopen_count",
            "sys_mod_count",
            "closed_code",
            "resolved_by",
            "made_sla",
            "closed_at",
            "resolved_at",
        ];
        for feature in &itsm.features {
            for path in &feature.from {
                assert!(
                    !leaking.contains(&path.as_str()),
                    "{path} is known only at the end"
                );
            }
        }
    }
}
