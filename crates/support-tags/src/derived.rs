//! Tags derived from the ticket fields and earlier results: sentiment,
//! frustration, priority level, tier, channel and category.

use support_core::results::category::EarlierCategory;
use support_core::results::priority::EarlierPriority;
use support_core::{lowercase, round3, text, Decimal, Ticket};

use crate::candidate::Candidate;
use crate::{Facts, SourceKind, Tagger};

/// An earlier tool's confidence, kept in [0, 1]; one it did not give counts as certain.
pub(crate) fn upstream_confidence(confidence: Option<f64>) -> f64 {
    confidence.map_or(1.0, |c| c.clamp(0.0, 1.0))
}

impl Tagger {
    pub(crate) fn derived_tags(
        &self,
        ticket: &Ticket<'_>,
        facts: &Facts<'_>,
        candidates: &mut Vec<Candidate>,
    ) {
        if let Some(sentiment) = &facts.sentiment {
            if let Some(label) = sentiment.label.map(lowercase) {
                if let Some(tag) = self.sentiment_labels.get(label.as_ref()) {
                    candidates.push(Candidate::derived(
                        tag.clone(),
                        upstream_confidence(sentiment.confidence),
                        SourceKind::Sentiment,
                        text!("sentiment_labels.{label}"),
                        "sentiment.label",
                        text!("sentiment.label is {label}"),
                    ));
                }
            }
            if let (Some(rule), Some(frustration)) = (&self.frustration, sentiment.frustration) {
                if frustration >= rule.threshold.get() {
                    candidates.push(Candidate::derived(
                        rule.tag.clone(),
                        upstream_confidence(Some(frustration)),
                        SourceKind::Sentiment,
                        "frustration".to_string(),
                        "sentiment.frustration",
                        text!(
                            "sentiment.frustration {} >= {}",
                            Decimal(round3(frustration)),
                            Decimal(rule.threshold.get())
                        ),
                    ));
                }
            }
        }
        if let Some(priority) = ticket.reading::<EarlierPriority>() {
            if let Some(level) = priority.level.map(lowercase) {
                if let Some(tag) = self.priority_levels.get(level.as_ref()) {
                    candidates.push(Candidate::derived(
                        tag.clone(),
                        upstream_confidence(priority.confidence),
                        SourceKind::Priority,
                        text!("priority_levels.{level}"),
                        "priority.level",
                        text!("priority.level is {level}"),
                    ));
                }
            }
        }
        if let Some(tier) = &facts.tier {
            if let Some(tag) = self.tiers.get(tier.as_ref()) {
                candidates.push(Candidate::derived(
                    tag.clone(),
                    1.0,
                    SourceKind::Tier,
                    text!("tiers.{tier}"),
                    "customer.tier",
                    text!("customer.tier is {tier}"),
                ));
            }
        }
        if let (Some(prefix), Some(channel)) = (&self.channel_prefix, &facts.channel) {
            candidates.push(Candidate::derived(
                text!("{prefix}{channel}"),
                1.0,
                SourceKind::Channel,
                "channel_prefix".to_string(),
                "channel",
                text!("channel is {channel}"),
            ));
        }
        if let Some(prefix) = &self.category_prefix {
            let category = ticket.reading::<EarlierCategory>();
            let name = category
                .as_ref()
                .and_then(|c| c.name)
                .map(|n| lowercase(n.trim()))
                .filter(|n| !n.is_empty());
            if let (Some(category), Some(name)) = (category, name) {
                candidates.push(Candidate::derived(
                    text!("{prefix}{name}"),
                    upstream_confidence(category.confidence),
                    SourceKind::Category,
                    "category_prefix".to_string(),
                    "category.name",
                    text!("category.name is {name}"),
                ));
            }
        }
    }
}
