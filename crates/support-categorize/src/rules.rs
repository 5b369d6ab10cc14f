//! Keyword rules that boost or force a category, in any language.

use serde::Deserialize;
use support_core::text;
use support_text::{matched_text, PhraseSet, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Adds `weight` to the category's score before renormalising.
    Boost,
    /// Sets the category with confidence `weight`.
    Force,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub category: String,
    /// A model label inside the category to prefer, e.g. `track_order`.
    #[serde(default)]
    pub intent: Option<String>,
    pub action: Action,
    pub weight: f64,
    pub phrases: Vec<String>,
}

struct Rule {
    name: String,
    category: usize,
    label: Option<usize>,
    action: Action,
    weight: f64,
}

/// The rules that apply to the taxonomy and the model's labels, with one
/// phrase index over all of them.
pub(crate) struct Rules {
    rules: Vec<Rule>,
    phrases: PhraseSet,
    rule_of_phrase: Vec<usize>,
    /// Rules naming a category outside the taxonomy or an intent the model lacks.
    pub(crate) skipped: Vec<String>,
}

/// The embedding vote as the rules' scores take it.
pub(crate) struct SemanticMix<'a> {
    /// A distribution over the categories.
    pub share: &'a [f64],
    /// Its part of the mixed score.
    pub weight: f64,
    /// The power the mixed scores are raised to before renormalising, so
    /// the confidence matches how often the category is right.
    pub sharpness: f64,
}

/// Scores after the rules, and what they did.
pub(crate) struct Decision<'a> {
    pub category_scores: Vec<f64>,
    label_scores: Vec<f64>,
    category_of: &'a [usize],
    pub forced: bool,
    pub boosted: bool,
    pub reasons: Vec<String>,
}

impl Decision<'_> {
    /// The most likely model label inside `category`.
    pub fn best_label_in(&self, category: usize) -> Option<usize> {
        (0..self.label_scores.len())
            .filter(|&l| self.category_of[l] == category)
            .max_by(|&a, &b| {
                self.label_scores[a]
                    .total_cmp(&self.label_scores[b])
                    .then(b.cmp(&a))
            })
    }
}

impl Rules {
    /// Compiles the rules against the categories and the model's labels. A
    /// rule naming a category or intent that cannot come out is skipped (with
    /// a warning), so a custom model or taxonomy keeps working with the
    /// default rules.
    pub fn compile(
        configs: &[RuleConfig],
        categories: &[String],
        labels: &[String],
    ) -> anyhow::Result<Rules> {
        let mut rules = Vec::new();
        let mut phrases = Vec::new();
        let mut rule_of_phrase = Vec::new();
        let mut skipped = Vec::new();
        for config in configs {
            if !config.weight.is_finite()
                || config.weight < 0.0
                || (config.action == Action::Force && config.weight > 1.0)
            {
                anyhow::bail!(
                    "rule `{}`: weight {} must be non-negative (and at most 1 for `force`)",
                    config.name,
                    config.weight
                );
            }
            let category = categories.iter().position(|c| *c == config.category);
            let label = config
                .intent
                .as_ref()
                .map(|i| labels.iter().position(|l| l == i));
            let (Some(category), None | Some(Some(_))) = (category, label) else {
                skipped.push(config.name.clone());
                continue;
            };
            for phrase in &config.phrases {
                phrases.push(phrase.as_str());
                rule_of_phrase.push(rules.len());
            }
            rules.push(Rule {
                name: config.name.clone(),
                category,
                label: label.flatten(),
                action: config.action,
                weight: config.weight,
            });
        }
        if !skipped.is_empty() {
            // One line, not one per rule: a model trained on other labels
            // (banking intents, say) skips most default rules at once.
            tracing::warn!(
                "{} of {} keyword rules skipped: their category is not in the taxonomy or their intent not among the model's labels ({}); give rules for your categories with --config",
                skipped.len(),
                configs.len(),
                skipped.join(", ")
            );
        }
        Ok(Rules {
            rules,
            phrases: PhraseSet::new(phrases),
            rule_of_phrase,
            skipped,
        })
    }

    /// Applies the matching rules to a distribution over model labels; the
    /// boosted scores are then mixed with `semantic` when given: the rules
    /// are lexical evidence, and weigh as much as the lexical side does.
    pub fn apply<'a>(
        &self,
        tokens: &[Token],
        distribution: &[f64],
        semantic: Option<SemanticMix<'_>>,
        category_of: &'a [usize],
        categories: usize,
    ) -> Decision<'a> {
        let mut category_scores = vec![0.0; categories];
        for (label, p) in distribution.iter().enumerate() {
            category_scores[category_of[label]] += p;
        }
        let mut decision = Decision {
            category_scores,
            label_scores: distribution.to_vec(),
            category_of,
            forced: false,
            boosted: false,
            reasons: Vec::new(),
        };
        // Each rule once, with all its words, in the order of the configuration.
        let mut words_of_rule: Vec<Vec<String>> = vec![Vec::new(); self.rules.len()];
        for m in self.phrases.find_all(tokens) {
            let words = &mut words_of_rule[self.rule_of_phrase[m.phrase]];
            let text = matched_text(tokens, &m);
            if !words.contains(&text) {
                words.push(text);
            }
        }
        let mut force: Option<&Rule> = None;
        for (rule, words) in self.rules.iter().zip(&words_of_rule) {
            if words.is_empty() {
                continue;
            }
            let quoted = words
                .iter()
                .map(|w| text!("'{w}'"))
                .collect::<Vec<_>>()
                .join(", ");
            match rule.action {
                Action::Boost => {
                    // More distinct phrases of a rule are more evidence, with diminishing returns.
                    let boost = rule.weight * (1.0 + 0.5 * (words.len().min(3) - 1) as f64);
                    decision.category_scores[rule.category] += boost;
                    if let Some(label) = rule.label {
                        decision.label_scores[label] += boost;
                    }
                    decision.boosted = true;
                    decision
                        .reasons
                        .push(text!("rule {}: {quoted} (boost +{boost})", rule.name));
                }
                Action::Force => {
                    if force.is_none_or(|f| rule.weight > f.weight) {
                        force = Some(rule);
                    }
                    decision
                        .reasons
                        .push(text!("rule {}: {quoted} (force)", rule.name));
                }
            }
        }
        normalize(&mut decision.category_scores);
        if let Some(mix) = semantic {
            for (score, s) in decision.category_scores.iter_mut().zip(mix.share) {
                *score = ((1.0 - mix.weight) * *score + mix.weight * s).powf(mix.sharpness);
            }
            normalize(&mut decision.category_scores);
        }
        if let Some(rule) = force {
            let others: f64 = decision
                .category_scores
                .iter()
                .enumerate()
                .filter(|(c, _)| *c != rule.category)
                .map(|(_, p)| p)
                .sum();
            let kept = decision.category_scores[rule.category].max(rule.weight);
            for (c, p) in decision.category_scores.iter_mut().enumerate() {
                *p = if c == rule.category {
                    kept
                } else if others > 0.0 {
                    *p / others * (1.0 - kept)
                } else {
                    0.0
                };
            }
            if let Some(label) = rule.label {
                decision.label_scores[label] = f64::INFINITY;
            }
            decision.forced = true;
        }
        decision
    }
}

fn normalize(scores: &mut [f64]) {
    let total: f64 = scores.iter().sum();
    if total > 0.0 {
        scores.iter_mut().for_each(|p| *p /= total);
    }
}
