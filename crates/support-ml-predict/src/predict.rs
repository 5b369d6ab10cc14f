//! The tool: a ticket in, its predictions out, from a trained model or,
//! before any training, from the embedded priors.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use support_agents::Roster;
use support_core::{round3, text, Context, Decimal, RecordError, Ticket, Tool, ToolResult};

use crate::boosted::ResolutionEstimate;
use crate::config::{MlPredictConfig, Prior};
use crate::fields::{self, FieldError, Fields};
use crate::linear::Multinomial;
use crate::model::{AgentModel, Model};
use crate::output::{
    Candidate, Effect, Estimate, Interval, Predictions, Recommendation, Risk, Source,
};
use crate::schema::{Inputs, Schema, MISSING};
use crate::stats::{round_to, sigmoid};

/// How outputs name the embedded priors.
pub const DEFAULT_MODEL_NAME: &str = "embedded:default-priors";

pub struct Predictor {
    config: MlPredictConfig,
    model: Option<(Model, String)>,
    /// Current load and capacity by agent id, from an agents file.
    loads: Option<HashMap<String, (u32, u32)>>,
}

impl Predictor {
    /// `model` with the name outputs give it; without one, the priors.
    pub fn new(
        config: MlPredictConfig,
        model: Option<(Model, String)>,
        roster: Option<Roster>,
    ) -> Self {
        let loads = roster.map(|r| {
            r.agents
                .into_iter()
                .map(|a| (a.id, (a.load, a.capacity)))
                .collect()
        });
        Predictor {
            config,
            model,
            loads,
        }
    }

    /// Reads the model file and the agents file when given.
    pub fn load(
        config: MlPredictConfig,
        model: Option<&Path>,
        agents: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let model = model
            .map(|path| Model::load(path).map(|m| (m, path.display().to_string())))
            .transpose()?;
        let roster = agents
            .map(|path| Roster::load(path).with_context(|| "reading the agents file (--agents)"))
            .transpose()?;
        Ok(Predictor::new(config, model, roster))
    }

    /// The predictions for a record (a ticket, or a history row).
    pub fn predict(&self, record: &impl Fields) -> Result<Predictions, FieldError> {
        match &self.model {
            Some((model, name)) => self.with_model(model, name, record),
            None => self.with_priors(record),
        }
    }

    fn with_model(
        &self,
        model: &Model,
        name: &str,
        record: &impl Fields,
    ) -> Result<Predictions, FieldError> {
        let schema = &model.schema;
        let inputs = schema.read(record)?;
        let bins = model.onehot.bins(&inputs);
        let columns = model.onehot.columns_of(&bins);
        let mut reasons = Vec::new();
        let explain = self.config.explain;

        let estimate = model.resolution.as_ref().map(|r| r.estimate(&bins));
        let resolution_minutes = match (&estimate, &model.resolution) {
            (Some(e), Some(resolution)) => {
                let features = top_effects(schema, &inputs, &e.effects, explain, f64::exp);
                reasons.push(text!(
                    "resolution in about {} ({:.0}% between {} and {}){}",
                    HumanDuration(e.minutes),
                    Decimal((resolution.interval[1] - resolution.interval[0]) * 100.0),
                    HumanDuration(e.low),
                    HumanDuration(e.high),
                    MovedMost(&features, Unit::Factor)
                ));
                Some(Estimate {
                    value: round_to(e.minutes, 1),
                    interval: Interval {
                        low: round_to(e.low, 1),
                        high: round_to(e.high, 1),
                        level: round3(resolution.interval[1] - resolution.interval[0]),
                    },
                    confidence: round3(e.within_factor_2),
                    features,
                })
            }
            _ => None,
        };

        let sla_breach = model.sla_breach.as_ref().map(|trees| {
            let (log_odds, effects) = trees.explain(&bins);
            let p = sigmoid(log_odds);
            let features = top_effects(schema, &inputs, &effects, explain, |x| x);
            reasons.push(text!(
                "SLA breach risk {:.0}%{}",
                Decimal(p * 100.0),
                MovedMost(&features, Unit::LogOdds)
            ));
            Risk {
                probability: round3(p),
                confidence: round3(p.max(1.0 - p)),
                features,
            }
        });

        let csat = model.csat.as_ref().map(|ridge| {
            let value = ridge.predict(&columns);
            let features = top_effects(schema, &inputs, &ridge.effects(&columns), explain, |x| x);
            let low = (value + ridge.residuals[0]).clamp(1.0, 5.0);
            let high = (value + ridge.residuals[1]).clamp(1.0, 5.0);
            reasons.push(text!(
                "expected rating {:.1} (between {:.1} and {:.1}){}",
                Decimal(value),
                Decimal(low),
                Decimal(high),
                MovedMost(&features, Unit::Points)
            ));
            Estimate {
                value: round3(value),
                interval: Interval {
                    low: round3(low),
                    high: round3(high),
                    level: round3(
                        model
                            .resolution
                            .as_ref()
                            .map_or(0.8, |f| f.interval[1] - f.interval[0]),
                    ),
                },
                confidence: ridge.within_one,
                features,
            }
        });

        let group = model.group.as_ref().map(|classifier| {
            let p = classifier.probabilities(&columns);
            let ranked = Multinomial::top(&p, self.config.agents.candidates.max(1));
            let best = ranked[0];
            let features = top_effects(
                schema,
                &inputs,
                &classifier.effects(best, &columns),
                explain,
                |x| x,
            );
            reasons.push(text!(
                "group `{}` handles such tickets (probability {:.2}){}",
                classifier.classes[best],
                Decimal(p[best]),
                MovedMost(&features, Unit::LogOdds)
            ));
            Recommendation {
                recommended: classifier.classes[best].clone(),
                confidence: round3(p[best]),
                candidates: ranked
                    .iter()
                    .map(|&k| Candidate {
                        name: classifier.classes[k].clone(),
                        probability: round3(p[k]),
                        score: None,
                        expected_minutes: None,
                        csat: None,
                        reasons: Vec::new(),
                    })
                    .collect(),
                features,
            }
        });

        let agent = model.agent.as_ref().map(|agents| {
            self.recommend_agent(agents, schema, &inputs, &columns, estimate.as_ref())
        });
        if let Some(agent) = &agent {
            reasons.push(text!(
                "agent `{}` recommended: {}",
                agent.recommended,
                agent.candidates[0].reasons.join(", ")
            ));
        }

        for (i, value) in inputs.0.iter().enumerate() {
            if value != MISSING && !columns[i].known {
                reasons.push(text!(
                    "{} `{value}` is new or rare in the training data: treated as `other`",
                    schema.field_of(i)
                ));
            }
        }

        let confidences = [
            resolution_minutes.as_ref().map(|e| e.confidence),
            sla_breach.as_ref().map(|r| r.confidence),
            csat.as_ref().map(|e| e.confidence),
            group.as_ref().map(|g| g.confidence),
            agent.as_ref().map(|a| a.confidence),
        ];
        Ok(Predictions {
            source: Source::Model,
            model: name.to_string(),
            resolution_minutes,
            sla_breach,
            csat,
            group,
            agent,
            confidence: lowest(&confidences),
            reasons,
        })
    }

    /// Candidates the model finds for this kind of ticket, ranked by fit,
    /// speed and satisfaction, times their free capacity.
    fn recommend_agent(
        &self,
        agents: &AgentModel,
        schema: &Schema,
        inputs: &Inputs,
        columns: &[crate::encode::Column],
        estimate: Option<&ResolutionEstimate>,
    ) -> Recommendation {
        let weights = self.config.agents.weights;
        let total_weight = (weights.fit + weights.speed + weights.satisfaction).max(f64::EPSILON);
        let p = agents.classifier.probabilities(columns);
        let ranked = Multinomial::top(&p, self.config.agents.candidates.max(1));
        let best_p = p[ranked[0]];
        let mut candidates: Vec<(usize, Candidate)> = ranked
            .iter()
            .map(|&k| {
                let name = &agents.classifier.classes[k];
                let profile = &agents.profiles[k];
                let mut reasons = vec![text!(
                    "handles such tickets (probability {:.2})",
                    Decimal(p[k])
                )];
                let speed = match profile.speed {
                    Some(s) => {
                        let factor = s.exp();
                        reasons.push(if factor <= 1.0 {
                            text!(
                                "resolves ×{:.2} faster than expected",
                                Decimal(1.0 / factor)
                            )
                        } else {
                            text!("resolves ×{:.2} slower than expected", Decimal(factor))
                        });
                        sigmoid(-s)
                    }
                    None => {
                        reasons.push("speed unknown (no resolved tickets)".into());
                        0.5
                    }
                };
                let satisfaction = match profile.csat {
                    Some(c) => {
                        reasons.push(text!(
                            "mean rating {:.1} ({} ratings)",
                            Decimal(c),
                            profile.ratings
                        ));
                        (c - 1.0) / 4.0
                    }
                    None => 0.5,
                };
                let free = match self.loads.as_ref().map(|loads| loads.get(name)) {
                    Some(Some(&(load, capacity))) => {
                        let free = if capacity == 0 {
                            0.0
                        } else {
                            (capacity.saturating_sub(load)) as f64 / capacity as f64
                        };
                        reasons.push(if free == 0.0 {
                            text!("at capacity ({load} of {capacity})")
                        } else {
                            text!("load {load} of {capacity}")
                        });
                        free
                    }
                    Some(None) => {
                        reasons.push("not in the agents file: load unknown".into());
                        1.0
                    }
                    None => {
                        reasons.push("load unknown (no --agents)".into());
                        1.0
                    }
                };
                let fit = p[k] / best_p;
                let score = (weights.fit * fit
                    + weights.speed * speed
                    + weights.satisfaction * satisfaction)
                    / total_weight
                    * free;
                let expected = estimate.map(|e| {
                    let factor = profile.speed.unwrap_or(0.0).exp();
                    round_to((1.0 + e.minutes) * factor - 1.0, 1)
                });
                let candidate = Candidate {
                    name: name.clone(),
                    probability: round3(p[k]),
                    score: Some(round3(score)),
                    expected_minutes: expected,
                    csat: profile.csat,
                    reasons,
                };
                (k, candidate)
            })
            .collect();
        candidates.sort_by(|a, b| {
            let score = |c: &Candidate| c.score.unwrap_or(0.0);
            score(&b.1).total_cmp(&score(&a.1))
        });
        let (best, _) = candidates[0];
        Recommendation {
            recommended: agents.classifier.classes[best].clone(),
            confidence: round3(p[best]),
            features: top_effects(
                schema,
                inputs,
                &agents.classifier.effects(best, columns),
                self.config.explain,
                |x| x,
            ),
            candidates: candidates.into_iter().map(|(_, c)| c).collect(),
        }
    }

    fn with_priors(&self, record: &impl Fields) -> Result<Predictions, FieldError> {
        let priors = &self.config.priors;
        let level = fields::text(record, &priors.priority_from)?.map(|l| l.to_lowercase());
        let known = level
            .as_deref()
            .and_then(|l| priors.levels.get(l).map(|prior| (l, prior)));
        let unknown = &priors.unknown;
        let confidence = priors.confidence;
        let field = priors.priority_from.first().cloned().unwrap_or_default();
        let (prior, reason): (&Prior, String) = match (known, level.as_deref()) {
            (Some((l, prior)), _) => (prior, text!("default prior for priority `{l}`")),
            (None, Some(l)) => (unknown, text!("priority `{l}` has no prior: default prior for all tickets")),
            (None, None) => (
                unknown,
                "no priority on the ticket (run support-priority first): default prior for all tickets".to_string(),
            ),
        };
        let effect = |value: f64| -> Vec<Effect> {
            match known {
                Some((l, _)) => vec![Effect {
                    field: field.clone(),
                    value: l.to_string(),
                    effect: round3(value),
                }],
                None => Vec::new(),
            }
        };
        let logit = |p: f64| (p / (1.0 - p)).ln();
        Ok(Predictions {
            source: Source::Default,
            model: DEFAULT_MODEL_NAME.to_string(),
            resolution_minutes: Some(Estimate {
                value: prior.resolution_minutes,
                interval: Interval {
                    low: prior.low,
                    high: prior.high,
                    level: 0.8,
                },
                confidence,
                features: effect(prior.resolution_minutes / unknown.resolution_minutes),
            }),
            sla_breach: Some(Risk {
                probability: prior.sla_breach,
                confidence,
                features: effect(logit(prior.sla_breach) - logit(unknown.sla_breach)),
            }),
            csat: Some(Estimate {
                value: prior.csat,
                interval: Interval {
                    low: 1.0,
                    high: 5.0,
                    level: 1.0,
                },
                confidence,
                features: effect(prior.csat - unknown.csat),
            }),
            group: None,
            agent: None,
            confidence,
            reasons: vec![
                text!(
                    "{reason}: resolution in about {} ({} to {}), SLA breach risk {:.0}%, rating {:.1}",
                    HumanDuration(prior.resolution_minutes),
                    HumanDuration(prior.low),
                    HumanDuration(prior.high),
                    Decimal(prior.sla_breach * 100.0),
                    Decimal(prior.csat)
                ),
                "embedded defaults, not learned: train a model on your history with `support-ml-predict train` and pass --model".into(),
            ],
        })
    }
}

impl ToolResult for Predictions {
    const KEY: &'static str = "predictions";
}

impl Tool for Predictor {
    type Output = Predictions;
    // Predictions read structured fields only; an incident log has no text.
    const NEEDS_TEXT: bool = false;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Predictions, RecordError> {
        self.predict(ticket)
            .map_err(|e| RecordError::invalid_field(&e.field, e.message))
    }
}

/// The `limit` features with the largest effects (by absolute value), as
/// `shown` turns them into the prediction's unit.
fn top_effects(
    schema: &Schema,
    inputs: &Inputs,
    effects: &[f64],
    limit: usize,
    shown: impl Fn(f64) -> f64,
) -> Vec<Effect> {
    let mut order: Vec<usize> = (0..effects.len())
        .filter(|&i| effects[i].abs() > 1e-6)
        .collect();
    order.sort_by(|&a, &b| {
        effects[b]
            .abs()
            .total_cmp(&effects[a].abs())
            .then(a.cmp(&b))
    });
    order
        .into_iter()
        .take(limit)
        .map(|i| Effect {
            field: schema.field_of(i),
            value: inputs.0[i].clone(),
            effect: round3(shown(effects[i])),
        })
        .collect()
}

/// How a reason shows an effect: a factor on the time (`×1.25`), a change
/// of the log-odds (`+0.40 log-odds`) or of the rating (`+0.40`).
#[derive(Clone, Copy)]
enum Unit {
    Factor,
    LogOdds,
    Points,
}

/// "; moved most by field `value` (effect), ..." for a reason sentence, or
/// nothing without effects: written straight into the reason.
struct MovedMost<'a>(&'a [Effect], Unit);

impl fmt::Display for MovedMost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { "; moved most by " } else { ", " })?;
            let effect = Decimal(e.effect);
            match self.1 {
                Unit::Factor => write!(f, "{} `{}` ×{effect:.2}", e.field, e.value),
                Unit::LogOdds => write!(f, "{} `{}` {effect:+.2} log-odds", e.field, e.value),
                Unit::Points => write!(f, "{} `{}` {effect:+.2}", e.field, e.value),
            }?;
        }
        Ok(())
    }
}

fn lowest(values: &[Option<f64>]) -> f64 {
    values
        .iter()
        .flatten()
        .copied()
        .fold(None, |low: Option<f64>, x| {
            Some(low.map_or(x, |l| l.min(x)))
        })
        .unwrap_or(0.0)
}

/// Minutes as a person reads them, shown straight into a reason.
struct HumanDuration(f64);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = self.0;
        if minutes < 90.0 {
            write!(f, "{:.0} min", Decimal(minutes))
        } else if minutes < 48.0 * 60.0 {
            write!(f, "{:.1} h", Decimal(minutes / 60.0))
        } else {
            write!(f, "{:.1} d", Decimal(minutes / 1440.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use support_core::testing::object as map;

    #[test]
    fn before_training_the_priors_are_marked_default() {
        let predictor = Predictor::new(MlPredictConfig::default(), None, None);
        let urgent = predictor
            .predict(&map(
                json!({"subject": "x", "priority": {"level": "urgent"}}),
            ))
            .unwrap();
        assert_eq!(urgent.source, Source::Default);
        assert_eq!(urgent.model, DEFAULT_MODEL_NAME);
        let low = predictor.predict(&map(json!({"priority": "LOW"}))).unwrap();
        let minutes = |p: &Predictions| p.resolution_minutes.as_ref().unwrap().value;
        assert!(minutes(&urgent) < minutes(&low));
        assert_eq!(
            urgent.resolution_minutes.as_ref().unwrap().features[0].value,
            "urgent"
        );
        let none = predictor.predict(&map(json!({"subject": "x"}))).unwrap();
        assert!(
            none.reasons[0].contains("no priority"),
            "{:?}",
            none.reasons
        );
        assert!(none.resolution_minutes.unwrap().features.is_empty());
        let odd = predictor.predict(&map(json!({"priority": "p9"}))).unwrap();
        assert!(odd.reasons[0].contains("`p9`"), "{:?}", odd.reasons);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(HumanDuration(45.0).to_string(), "45 min");
        assert_eq!(HumanDuration(150.0).to_string(), "2.5 h");
        assert_eq!(HumanDuration(4320.0).to_string(), "3.0 d");
    }

    #[test]
    fn effects_read_as_a_clause_in_their_unit() {
        let effect = |field: &str, value: &str, effect: f64| Effect {
            field: field.into(),
            value: value.into(),
            effect,
        };
        // 0.245 lies just under the half: rounded as `Display` rounds it.
        let effects = [
            effect("channel", "email", 0.245),
            effect("hour", "09", -1.0),
        ];
        assert_eq!(
            MovedMost(&effects, Unit::Factor).to_string(),
            format!(
                "; moved most by channel `email` ×{:.2}, hour `09` ×{:.2}",
                0.245, -1.0
            )
        );
        assert_eq!(
            MovedMost(&effects, Unit::LogOdds).to_string(),
            "; moved most by channel `email` +0.24 log-odds, hour `09` -1.00 log-odds"
        );
        assert_eq!(
            MovedMost(&effects[1..], Unit::Points).to_string(),
            "; moved most by hour `09` -1.00"
        );
        assert_eq!(MovedMost(&[], Unit::Points).to_string(), "");
    }
}
