//! The configuration, as written in `defaults/escalate.yaml`.

use serde::Deserialize;
use support_core::results::priority::Level;

use crate::{EscalationLevel, TriggerKind};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/escalate.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/escalate.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateConfig {
    pub sla: SlaTriggers,
    pub bot_confidence: BotConfidenceCheck,
    pub bot_fallback: PhraseCheck,
    pub bot_repeating: PlainCheck,
    pub bot_turns: BotTurnsCheck,
    pub human_request: PhraseCheck,
    pub worsening_sentiment: PlainCheck,
    pub critical_words: Vec<CriticalWords>,
    pub vip: VipCheck,
    pub rules: Vec<Rule>,
    pub levels: LevelActions,
    /// New target, from now, for an SLA clock already breached.
    pub breached_sla_grace_minutes: u32,
    pub confidence: ConfidenceConfig,
}

impl Default for EscalateConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// What a trigger does when it fires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    /// The escalation level this trigger alone calls for.
    pub level: EscalationLevel,
    /// How strongly it supports escalating, in [0, 1].
    pub weight: f64,
    /// Who to tell, on top of the level's list.
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTriggers {
    pub first_response_at_risk: Effect,
    pub first_response_breached: Effect,
    pub resolution_at_risk: Effect,
    pub resolution_breached: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainCheck {
    pub escalation: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseCheck {
    pub phrases: Vec<String>,
    pub escalation: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfidenceCheck {
    /// Fires when the bot's confidence is below this.
    pub below: f64,
    pub escalation: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotTurnsCheck {
    /// Bot messages since the last agent message for the check to fire.
    pub at_least: usize,
    pub escalation: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalWords {
    pub name: String,
    pub phrases: Vec<String>,
    pub escalation: Effect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VipCheck {
    pub tiers: Vec<String>,
    pub escalation: Effect,
}

/// A combination of triggers that raises the level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// Every one of these must have fired.
    #[serde(default)]
    pub all_of: Vec<TriggerKind>,
    /// At least one of these must have fired, when any are given.
    #[serde(default)]
    pub any_of: Vec<TriggerKind>,
    /// At least this many triggers must have fired in all.
    #[serde(default = "one")]
    pub min_triggers: usize,
    pub level: EscalationLevel,
}

fn one() -> usize {
    1
}

impl Rule {
    pub fn applies(&self, fired: &[TriggerKind]) -> bool {
        fired.len() >= self.min_triggers.max(1)
            && self.all_of.iter().all(|kind| fired.contains(kind))
            && (self.any_of.is_empty() || self.any_of.iter().any(|kind| fired.contains(kind)))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelActions {
    #[serde(rename = "L1")]
    pub l1: LevelAction,
    #[serde(rename = "L2")]
    pub l2: LevelAction,
    pub manager: LevelAction,
}

impl LevelActions {
    /// What `level` does; `none` does nothing.
    pub fn for_level(&self, level: EscalationLevel) -> Option<&LevelAction> {
        match level {
            EscalationLevel::None => None,
            EscalationLevel::L1 => Some(&self.l1),
            EscalationLevel::L2 => Some(&self.l2),
            EscalationLevel::Manager => Some(&self.manager),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelAction {
    pub queue: String,
    pub notify: Vec<String>,
    pub raise_priority_to: Level,
    pub acknowledge_within_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceConfig {
    /// Confidence of not escalating when nothing fired.
    pub quiet: f64,
    /// Taken off `quiet` when the SLA could not be checked.
    pub unknown_sla_penalty: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_parses_and_is_consistent() {
        let c = EscalateConfig::default();
        assert!(!c.human_request.phrases.is_empty() && !c.bot_fallback.phrases.is_empty());
        assert!(c.critical_words.iter().all(|g| !g.phrases.is_empty()));
        assert!(c.bot_turns.at_least > 0);
        let raises: Vec<Level> = [
            EscalationLevel::L1,
            EscalationLevel::L2,
            EscalationLevel::Manager,
        ]
        .into_iter()
        .map(|l| c.levels.for_level(l).unwrap().raise_priority_to)
        .collect();
        assert!(
            raises.windows(2).all(|w| w[0] <= w[1]),
            "higher levels raise priority at least as much"
        );
    }

    #[test]
    fn rule_needs_all_of_any_of_and_the_count() {
        use TriggerKind::*;
        let rule = Rule {
            name: "test".into(),
            all_of: vec![Vip],
            any_of: vec![HumanRequested, BotTurns],
            min_triggers: 3,
            level: EscalationLevel::L2,
        };
        assert!(rule.applies(&[Vip, BotTurns, WorseningSentiment]));
        assert!(!rule.applies(&[Vip, BotTurns]), "only two triggers");
        assert!(
            !rule.applies(&[BotTurns, HumanRequested, WorseningSentiment]),
            "no vip"
        );
        assert!(
            !rule.applies(&[Vip, WorseningSentiment, CriticalWords]),
            "none of any_of"
        );
    }

    #[test]
    fn unknown_trigger_kind_in_a_rule_is_rejected() {
        let text = DEFAULT_CONFIG.replace("all_of: [vip]", "all_of: [vipp]");
        let err = support_core::config::parse_yaml::<EscalateConfig>("test", &text).unwrap_err();
        assert!(err.to_string().contains("rules[0].all_of"), "{err}");
    }
}
