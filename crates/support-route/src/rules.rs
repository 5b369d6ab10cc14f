//! Queue rules: what they read of a ticket ([`Facts`]), and each rule
//! compiled once into conditions that say why they hold and how surely.

use std::borrow::Cow;

use anyhow::ensure;
use support_agents::normalize_language;
use support_core::text;

use crate::config::{Combine, Rule};
use crate::lowercase_all;

/// A value from the ticket or an earlier tool, with how sure it is.
#[derive(Clone, Copy)]
pub(crate) struct Weighted<'a> {
    pub(crate) value: &'a str,
    pub(crate) confidence: f64,
}

impl<'a> Weighted<'a> {
    pub(crate) fn new(value: &'a str, confidence: Option<f64>) -> Self {
        // A result without a confidence counts as certain.
        Weighted {
            value: value.trim(),
            confidence: confidence.map_or(1.0, |c| c.clamp(0.0, 1.0)),
        }
    }
}

pub(crate) struct TicketLanguage {
    pub(crate) code: String,
    /// Where the language came from, for the reasons.
    pub(crate) source: String,
    pub(crate) confidence: f64,
    /// Read from the text (which may have been cut), not given.
    pub(crate) detected: bool,
}

/// Everything the rules and the agent ranking read of one ticket.
pub(crate) struct Facts<'a> {
    pub(crate) category: Option<Weighted<'a>>,
    pub(crate) tags: Vec<Weighted<'a>>,
    pub(crate) priority: Option<Weighted<'a>>,
    pub(crate) tier: Option<Cow<'a, str>>,
    pub(crate) channel: Option<Cow<'a, str>>,
    pub(crate) language: TicketLanguage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Category,
    Tags,
    Language,
    Tier,
    Priority,
    Channel,
}

pub(crate) struct Condition {
    pub(crate) field: Field,
    /// Accepted values, lower-cased.
    pub(crate) values: Vec<String>,
}

/// Why a condition holds, and how sure that is.
pub(crate) struct Evidence {
    pub(crate) text: String,
    pub(crate) confidence: f64,
}

pub(crate) struct CompiledRule {
    pub(crate) queue: String,
    pub(crate) combine: Combine,
    pub(crate) conditions: Vec<Condition>,
}

impl CompiledRule {
    /// `rules[index]` of the configuration, with its values lower-cased once.
    pub(crate) fn compile(index: usize, rule: &Rule) -> anyhow::Result<CompiledRule> {
        let conditions: Vec<Condition> = [
            (Field::Category, &rule.category),
            (Field::Tags, &rule.tags),
            (Field::Language, &rule.language),
            (Field::Tier, &rule.tier),
            (Field::Priority, &rule.priority),
            (Field::Channel, &rule.channel),
        ]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(field, values)| Condition {
            field,
            values: if field == Field::Language {
                values.iter().map(|v| normalize_language(v)).collect()
            } else {
                lowercase_all(values)
            },
        })
        .collect();
        ensure!(
            !conditions.is_empty(),
            "configuration: rules[{index}] (queue {}) has no condition; use `default_queue` for a catch-all",
            rule.queue
        );
        Ok(CompiledRule {
            queue: rule.queue.trim().to_lowercase(),
            combine: rule.combine,
            conditions,
        })
    }

    /// The evidence for each condition that holds, when the rule matches.
    pub(crate) fn evaluate(&self, facts: &Facts<'_>) -> Option<Vec<Evidence>> {
        match self.combine {
            Combine::All => self.conditions.iter().map(|c| c.check(facts)).collect(),
            Combine::Any => {
                let evidence: Vec<Evidence> = self
                    .conditions
                    .iter()
                    .filter_map(|c| c.check(facts))
                    .collect();
                (!evidence.is_empty()).then_some(evidence)
            }
        }
    }
}

impl Condition {
    pub(crate) fn accepts(&self, value: &str) -> bool {
        self.values.iter().any(|v| v.eq_ignore_ascii_case(value))
    }

    pub(crate) fn check(&self, facts: &Facts<'_>) -> Option<Evidence> {
        let certain = |text: String| Evidence {
            text,
            confidence: 1.0,
        };
        match self.field {
            Field::Category => facts
                .category
                .filter(|c| self.accepts(c.value))
                .map(|c| Evidence {
                    text: text!("category is {}", c.value),
                    confidence: c.confidence,
                }),
            Field::Tags => facts
                .tags
                .iter()
                .filter(|t| self.accepts(t.value))
                .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
                .map(|t| Evidence {
                    text: text!("tag {}", t.value),
                    confidence: t.confidence,
                }),
            Field::Priority => facts
                .priority
                .filter(|p| self.accepts(p.value))
                .map(|p| Evidence {
                    text: text!("priority is {}", p.value),
                    confidence: p.confidence,
                }),
            Field::Language => self.accepts(&facts.language.code).then(|| Evidence {
                text: text!("language is {}", facts.language.code),
                confidence: facts.language.confidence,
            }),
            Field::Tier => facts
                .tier
                .as_deref()
                .filter(|t| self.accepts(t))
                .map(|t| certain(text!("customer.tier is {t}"))),
            Field::Channel => facts
                .channel
                .as_deref()
                .filter(|c| self.accepts(c))
                .map(|c| certain(text!("channel is {c}"))),
        }
    }
}
