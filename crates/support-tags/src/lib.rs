//! Tags for support tickets: keyword rules over the customer's text (Spanish
//! and English, in `defaults/tags.yaml`), plus tags derived from the ticket
//! (tier, channel) and from earlier tools (sentiment, priority, category).
//!
//! Every tag says where it came from (`source`: kind, rule, words, field), and
//! one entry is kept per tag name: the strongest, with the words of the others.

use std::borrow::Cow;
use std::collections::BTreeMap;
use support_core::results::sentiment::EarlierSentiment;
pub use support_core::results::tags::{Source, SourceKind, Tag, Tags};

use support_core::{round3, text, Context, Decimal, RecordError, Ticket, Tool};
use support_text::{Language, PhraseSet};

mod candidate;
mod config;
mod derived;
mod keywords;

use candidate::{dedupe, Candidate};
pub use config::{Conditions, Fraction, FrustrationTag, Rule, TagsConfig, TextKind};
use keywords::{CompiledRule, PhraseOwner};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/tags.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/tags.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

/// What several rules read of a ticket, worked out once.
struct Facts<'a> {
    channel: Option<Cow<'a, str>>,
    tier: Option<Cow<'a, str>>,
    /// The earlier sentiment result (a missing or unreadable one yields no derived tag).
    sentiment: Option<EarlierSentiment<'a>>,
}

/// The `support-tags` tool.
pub struct Tagger {
    rules: Vec<CompiledRule>,
    /// Every rule's phrases in one set, so each text is scanned once.
    phrases: PhraseSet,
    /// Phrase number → the rule it belongs to.
    phrase_rule: Vec<PhraseOwner>,
    min_confidence: f64,
    fallback_language: Language,
    sentiment_labels: BTreeMap<String, String>,
    frustration: Option<FrustrationTag>,
    priority_levels: BTreeMap<String, String>,
    tiers: BTreeMap<String, String>,
    channel_prefix: Option<String>,
    category_prefix: Option<String>,
}

fn lowercase_keys(map: BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| (k.trim().to_lowercase(), v))
        .collect()
}

fn lowercase_all(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.trim().to_lowercase())
        .collect()
}

impl Tagger {
    pub fn new(config: TagsConfig) -> Self {
        let sources = config
            .keywords
            .into_iter()
            .map(|r| (SourceKind::Keyword, r))
            .chain(config.custom.into_iter().map(|r| (SourceKind::Custom, r)));
        let mut rules = Vec::new();
        let mut all_phrases = Vec::new();
        let mut phrase_rule = Vec::new();
        for (kind, rule) in sources {
            let rule_index = rules.len();
            let owner = |excludes| PhraseOwner {
                rule: rule_index,
                excludes,
            };
            phrase_rule.extend(std::iter::repeat_n(owner(false), rule.phrases.len()));
            phrase_rule.extend(std::iter::repeat_n(owner(true), rule.exclude.len()));
            all_phrases.extend(rule.phrases);
            all_phrases.extend(rule.exclude);
            rules.push(CompiledRule {
                kind,
                name: rule.name,
                confidence: rule.confidence.get(),
                fields: rule.fields,
                channels: lowercase_all(rule.when.channel),
                tiers: lowercase_all(rule.when.tier),
                languages: rule.when.language,
            });
        }
        Tagger {
            rules,
            phrases: PhraseSet::new(all_phrases),
            phrase_rule,
            min_confidence: config.min_confidence.get(),
            fallback_language: config.fallback_language,
            sentiment_labels: lowercase_keys(config.sentiment_labels),
            frustration: config.frustration,
            priority_levels: lowercase_keys(config.priority_levels),
            tiers: lowercase_keys(config.tiers),
            channel_prefix: config.channel_prefix,
            category_prefix: config.category_prefix,
        }
    }

    /// The tags of one ticket.
    pub fn tag(&self, ticket: &Ticket<'_>) -> Tags {
        let facts = Facts {
            channel: ticket.channel(),
            tier: ticket.tier(),
            sentiment: ticket.reading(),
        };
        let mut candidates = self.keyword_tags(ticket, &facts);
        self.derived_tags(ticket, &facts, &mut candidates);
        let (kept, left_out): (Vec<Candidate>, Vec<Candidate>) = dedupe(candidates)
            .into_iter()
            .partition(|c| c.tag.confidence >= self.min_confidence);

        let mut reasons: Vec<String> = kept.iter().map(Candidate::reason).collect();
        reasons.extend(left_out.iter().map(|c| {
            text!(
                "left out {} (confidence {} below min_confidence {})",
                c.reason(),
                Decimal(c.tag.confidence),
                Decimal(self.min_confidence)
            )
        }));
        let confidence = if kept.is_empty() {
            let strongest_left_out = left_out
                .iter()
                .map(|c| c.tag.confidence)
                .fold(0.0, f64::max);
            if left_out.is_empty() {
                reasons.push("no rule matched: no tags".to_string());
            }
            1.0 - strongest_left_out
        } else {
            kept.iter().map(|c| c.tag.confidence).sum::<f64>() / kept.len() as f64
        };
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));
        Tags {
            tags: kept.into_iter().map(|c| c.tag).collect(),
            confidence: round3(confidence),
            reasons,
        }
    }
}

impl Default for Tagger {
    fn default() -> Self {
        Tagger::new(TagsConfig::default())
    }
}

impl Tool for Tagger {
    type Output = Tags;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Tags, RecordError> {
        Ok(self.tag(ticket))
    }
}

/// The ticket's language: its `language` field, else `sentiment.language`,
/// else detected from the customer's text.
pub(crate) fn resolve_language(
    ticket: &Ticket<'_>,
    sentiment: Option<&EarlierSentiment>,
    fallback: Language,
) -> Language {
    ticket
        .language
        .as_deref()
        .and_then(Language::parse)
        .or_else(|| sentiment.and_then(|s| s.language).and_then(Language::parse))
        .unwrap_or_else(|| ticket.language_evidence().detect(fallback).language)
}

#[cfg(test)]
mod tests;
