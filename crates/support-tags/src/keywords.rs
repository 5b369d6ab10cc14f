//! Keyword and custom rules: their phrases matched in the customer text,
//! and the evidence each hit gives a tag.

use std::fmt::Write as _;

use support_core::{round3, write_joined, FieldName, Ticket};
use support_text::{matched_text, Language, PhraseMatch, Token};

use crate::candidate::Candidate;
use crate::config::TextKind;
use crate::{resolve_language, Facts, Source, SourceKind, Tag, Tagger};

/// A rule compiled for matching: lists lower-cased once here, not per ticket.
pub(crate) struct CompiledRule {
    pub(crate) kind: SourceKind,
    pub(crate) name: String,
    pub(crate) confidence: f64,
    pub(crate) fields: Vec<TextKind>,
    pub(crate) channels: Vec<String>,
    pub(crate) tiers: Vec<String>,
    pub(crate) languages: Vec<Language>,
}

/// Which rule a phrase of the combined set belongs to, and whether it is
/// one of the rule's `exclude` phrases.
#[derive(Clone, Copy)]
pub(crate) struct PhraseOwner {
    pub(crate) rule: usize,
    pub(crate) excludes: bool,
}

/// What one rule found in one ticket.
#[derive(Default)]
pub(crate) struct RuleHit {
    pub(crate) words: Vec<String>,
    pub(crate) fields: Vec<FieldName>,
    /// End of the last match taken, in its field.
    pub(crate) covered: Option<(FieldName, usize)>,
}

impl RuleHit {
    pub(crate) fn add(&mut self, field: FieldName, tokens: &[Token], m: &PhraseMatch) {
        // A match overlapping one of the same rule ("me han cobrado",
        // "cobrado") is the same piece of evidence.
        if self
            .covered
            .is_some_and(|(f, end)| f == field && m.start < end)
        {
            return;
        }
        self.covered = Some((field, m.start + m.len));
        let word = matched_text(tokens, m);
        if !self.words.contains(&word) {
            self.words.push(word);
        }
        if !self.fields.contains(&field) {
            self.fields.push(field);
        }
    }
}

impl CompiledRule {
    /// Each further distinct match adds evidence: 1 - (1 - c)^n.
    pub(crate) fn candidate(&self, hit: RuleHit) -> Candidate {
        let n = i32::try_from(hit.words.len()).unwrap_or(i32::MAX);
        let confidence = 1.0 - (1.0 - self.confidence).powi(n);
        // Written in place: this runs for every tag of every ticket.
        let mut detail = String::with_capacity(64);
        detail.push_str(self.kind.as_str());
        detail.push_str(" rule `");
        detail.push_str(&self.name);
        detail.push_str("` matched ");
        write_joined(&mut detail, &hit.words, ", ", |out, word| {
            out.push('"');
            out.push_str(word);
            out.push('"');
            Ok(())
        });
        detail.push_str(" in ");
        write_joined(&mut detail, &hit.fields, ", ", |out, field| {
            write!(out, "{field}")
        });
        Candidate {
            detail,
            tag: Tag {
                name: self.name.clone(),
                confidence: round3(confidence),
                source: Source {
                    kind: self.kind,
                    rule: self.name.clone(),
                    words: hit.words,
                    field: hit.fields[0].to_string(),
                },
            },
            also: Vec::new(),
        }
    }
}

impl Tagger {
    /// Tags from keyword and custom rules, one candidate per rule that matched.
    pub(crate) fn keyword_tags(&self, ticket: &Ticket<'_>, facts: &Facts<'_>) -> Vec<Candidate> {
        let mut hits: Vec<Option<RuleHit>> = Vec::new();
        hits.resize_with(self.rules.len(), || None);
        let analysis = ticket.analysis();
        for (field, tokens) in analysis.fields() {
            self.scan(field, tokens, &mut hits);
        }
        let language = std::cell::OnceCell::new();
        let ticket_language = || {
            *language.get_or_init(|| {
                resolve_language(ticket, facts.sentiment.as_ref(), self.fallback_language)
            })
        };
        let mut candidates = Vec::new();
        for (rule, hit) in self.rules.iter().zip(hits) {
            let Some(hit) = hit else { continue };
            let holds = |allowed: &[String], value: Option<&str>| {
                allowed.is_empty() || value.is_some_and(|v| allowed.iter().any(|a| a == v))
            };
            if !holds(&rule.channels, facts.channel.as_deref())
                || !holds(&rule.tiers, facts.tier.as_deref())
                || !(rule.languages.is_empty() || rule.languages.contains(&ticket_language()))
            {
                continue;
            }
            candidates.push(rule.candidate(hit));
        }
        candidates
    }

    /// Records in `hits` what every rule finds in one field's tokens.
    pub(crate) fn scan(&self, field: FieldName, tokens: &[Token], hits: &mut [Option<RuleHit>]) {
        let kind = TextKind::of(field);
        let matches = self.phrases.find_all(tokens);
        let excluded: Vec<(usize, std::ops::Range<usize>)> = matches
            .iter()
            .filter(|m| self.phrase_rule[m.phrase].excludes)
            .map(|m| (self.phrase_rule[m.phrase].rule, m.start..m.start + m.len))
            .collect();
        for m in &matches {
            let PhraseOwner {
                rule: index,
                excludes,
            } = self.phrase_rule[m.phrase];
            let rule = &self.rules[index];
            let cancelled = || {
                excluded.iter().any(|(r, span)| {
                    *r == index && span.start < m.start + m.len && m.start < span.end
                })
            };
            if excludes || (!rule.fields.is_empty() && !rule.fields.contains(&kind)) || cancelled()
            {
                continue;
            }
            hits[index]
                .get_or_insert_with(RuleHit::default)
                .add(field, tokens, m);
        }
    }
}
