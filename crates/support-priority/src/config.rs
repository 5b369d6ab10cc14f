//! The configuration, as written in `defaults/priority.yaml`.

use std::collections::HashMap;

use serde::Deserialize;

use crate::Level;

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/priority.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/priority.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityConfig {
    /// Points every ticket starts with.
    pub base_points: f64,
    pub impact: ImpactConfig,
    pub sentiment: SentimentWeights,
    /// Points by customer tier.
    pub tiers: HashMap<String, f64>,
    /// Points by channel.
    pub channels: HashMap<String, f64>,
    /// Points by hours open; the highest step reached counts.
    pub age: Vec<AgeStep>,
    pub levels: LevelThresholds,
    /// Statuses meaning resolved even without `resolved_at`.
    pub closed_statuses: Vec<String>,
    pub sla: SlaConfig,
    pub confidence: ConfidenceConfig,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactConfig {
    /// Cap on the points all impact groups add together.
    pub max_points: f64,
    pub groups: Vec<ImpactGroup>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactGroup {
    pub name: String,
    pub points: f64,
    /// The lowest level a ticket naming this impact can get.
    #[serde(default)]
    pub min_level: Option<Level>,
    pub phrases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentWeights {
    /// Points at sentiment score -1.
    pub negativity_points: f64,
    /// Points at frustration 1.
    pub frustration_points: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeStep {
    pub hours: f64,
    pub points: f64,
}

/// Lowest score of each level above `low`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelThresholds {
    pub medium: f64,
    pub high: f64,
    pub urgent: f64,
    pub critical: f64,
}

impl LevelThresholds {
    /// The lowest score of `level`; `low` has none.
    pub fn lower_bound(&self, level: Level) -> Option<f64> {
        match level {
            Level::Low => None,
            Level::Medium => Some(self.medium),
            Level::High => Some(self.high),
            Level::Urgent => Some(self.urgent),
            Level::Critical => Some(self.critical),
        }
    }

    /// The highest level whose lower bound the score reaches.
    pub fn level_for(&self, score: f64) -> Level {
        Level::ALL
            .into_iter()
            .filter(|&level| self.lower_bound(level).is_none_or(|bound| score >= bound))
            .max()
            .unwrap_or(Level::Low)
    }

    /// How far the score is from the nearest boundary that would change its level.
    pub fn margin(&self, score: f64, level: Level) -> f64 {
        let below = self.lower_bound(level).map(|bound| score - bound);
        let above = level
            .next()
            .and_then(|next| self.lower_bound(next))
            .map(|bound| bound - score);
        below.into_iter().chain(above).fold(f64::INFINITY, f64::min)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// Fraction of a window after which a running clock is at risk.
    pub at_risk_fraction: f64,
    pub targets: SlaTargets,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargets {
    pub low: SlaMinutes,
    pub medium: SlaMinutes,
    pub high: SlaMinutes,
    pub urgent: SlaMinutes,
    pub critical: SlaMinutes,
}

impl SlaTargets {
    pub fn for_level(&self, level: Level) -> &SlaMinutes {
        match level {
            Level::Low => &self.low,
            Level::Medium => &self.medium,
            Level::High => &self.high,
            Level::Urgent => &self.urgent,
            Level::Critical => &self.critical,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaMinutes {
    pub first_response: u32,
    pub resolution: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceConfig {
    pub min: f64,
    pub max: f64,
    /// Points from the nearest level boundary at which confidence reaches `max`.
    pub boundary_margin: f64,
    /// Taken off for each missing signal (created_at, channel, customer tier).
    pub missing_signal_penalty: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_parses_and_is_consistent() {
        let c = PriorityConfig::default();
        let bounds: Vec<f64> = Level::ALL
            .iter()
            .filter_map(|&l| c.levels.lower_bound(l))
            .collect();
        assert!(
            bounds.windows(2).all(|w| w[0] < w[1]),
            "level thresholds ascend: {bounds:?}"
        );
        assert!(c.impact.groups.iter().all(|g| !g.phrases.is_empty()));
        assert!(c.age.windows(2).all(|w| w[0].hours < w[1].hours));
        let firsts: Vec<u32> = Level::ALL
            .iter()
            .map(|&l| c.sla.targets.for_level(l).first_response)
            .collect();
        assert!(
            firsts.windows(2).all(|w| w[0] > w[1]),
            "higher levels answer sooner: {firsts:?}"
        );
    }

    #[test]
    fn the_default_closed_statuses_are_the_finished_statuses_the_store_counts() {
        let words: Vec<&str> = support_core::status::FINISHED_STATUSES
            .iter()
            .map(|(word, _)| *word)
            .collect();
        assert_eq!(PriorityConfig::default().closed_statuses, words);
    }

    #[test]
    fn score_maps_to_level_at_the_thresholds() {
        let t = PriorityConfig::default().levels;
        let cases = [
            (0.0, Level::Low),
            (24.9, Level::Low),
            (25.0, Level::Medium),
            (44.9, Level::Medium),
            (45.0, Level::High),
            (65.0, Level::Urgent),
            (79.9, Level::Urgent),
            (80.0, Level::Critical),
            (100.0, Level::Critical),
        ];
        for (score, level) in cases {
            assert_eq!(t.level_for(score), level, "score {score}");
        }
    }

    #[test]
    fn margin_is_the_distance_to_the_nearest_boundary() {
        let t = PriorityConfig::default().levels;
        assert_eq!(t.margin(30.0, Level::Medium), 5.0);
        assert_eq!(t.margin(42.0, Level::Medium), 3.0);
        assert_eq!(t.margin(10.0, Level::Low), 15.0);
        assert_eq!(t.margin(95.0, Level::Critical), 15.0);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let text = DEFAULT_CONFIG.replace("base_points:", "base_pointz:");
        let err = support_core::config::parse_yaml::<PriorityConfig>("test", &text).unwrap_err();
        assert!(err.to_string().contains("base_pointz"), "{err}");
    }
}
