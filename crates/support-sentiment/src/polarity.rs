//! Polarity: each polar phrase or emoji becomes a piece of evidence with a
//! signed value, after negation, intensifiers, capitals, questions and
//! contrast; each text field sums its evidence.

use std::collections::HashMap;
use std::ops::Range;

use support_text::TokenKind;

use crate::config::ScoringConfig;
use crate::document::{Document, Segment};
use crate::lexicon::{Cue, Hit};
use crate::Label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvidenceKind {
    Phrase,
    Emoji,
    /// A negator that negates no polar word ("still no refund").
    BareNegation,
}

/// One thing that moved the score.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    pub kind: EvidenceKind,
    /// Tokens quoted in reasons: from the negator or modifier to the polar phrase.
    pub span: Range<usize>,
    /// The polar phrase or emoji itself.
    pub word: Range<usize>,
    pub value: f64,
    pub negated: bool,
    /// Product of the intensifiers and downtoners that applied (1 when none).
    pub modifier: f64,
}

pub(crate) struct Polarity {
    /// All evidence, segment after segment.
    pub evidence: Vec<Evidence>,
    /// The summed evidence of each segment, with exclamation emphasis.
    pub segment_sums: Vec<f64>,
}

/// Maps a sum of evidence to [-1, 1]: one strong word is clear, more words saturate.
pub(crate) fn normalize(sum: f64, normalization: f64) -> f64 {
    if sum == 0.0 {
        0.0
    } else {
        sum / (sum * sum + normalization).sqrt()
    }
}

/// How sure the label is. A polar label is surer the further the score is
/// past the neutral band, the more evidence there is and the more it agrees;
/// a neutral label is surer the closer the score is to 0. Nothing polar at
/// all gives a neutral label at 0.5: absence of cues is weak evidence. The
/// scale was checked against accuracy on labelled data: lexicon labels are
/// right less often than their margins alone suggest, so 0.95 is the ceiling.
pub(crate) fn confidence(score: f64, label: Label, band: f64, evidence: &[Evidence]) -> f64 {
    let positive: f64 = evidence.iter().map(|e| e.value.max(0.0)).sum();
    let negative: f64 = evidence.iter().map(|e| (-e.value).max(0.0)).sum();
    let total = positive + negative;
    if label == Label::Neutral {
        if total == 0.0 {
            return 0.5;
        }
        let closeness = 1.0 - score.abs() / band;
        return 0.3 + 0.2 * closeness;
    }
    let margin = ((score.abs() - band) / (1.0 - band)).clamp(0.0, 1.0);
    let agreement = (positive - negative).abs() / total;
    let amount = 1.0 - (-total / 3.0).exp();
    0.3 + 0.65 * (margin + agreement + amount) / 3.0
}

/// The evidence of every segment and each segment's sum.
pub(crate) fn score(
    doc: &Document,
    hits: &[Hit],
    scoring: &ScoringConfig,
    emoji: &HashMap<String, f64>,
) -> Polarity {
    let mut polarity = Polarity {
        evidence: Vec::new(),
        segment_sums: Vec::with_capacity(doc.segments.len()),
    };
    let mut remaining = hits;
    for segment in &doc.segments {
        let in_segment = remaining.partition_point(|h| h.start < segment.tokens.end);
        let (segment_hits, rest) = remaining.split_at(in_segment);
        remaining = rest;
        let first = polarity.evidence.len();
        let contrast_at =
            score_phrases(doc, segment, segment_hits, scoring, &mut polarity.evidence);
        score_emoji(doc, segment, emoji, &mut polarity.evidence);
        let evidence = &mut polarity.evidence[first..];
        let complains = evidence.iter().any(|e| e.value < 0.0);
        for e in evidence.iter_mut() {
            if complains && e.value > 0.0 {
                e.value *= scoring.mixed_positive;
            }
            if let Some(contrast) = contrast_at {
                e.value *= if e.word.start < contrast {
                    scoring.contrast_before
                } else {
                    scoring.contrast_after
                };
            }
        }
        let mut sum: f64 = evidence.iter().map(|e| e.value).sum();
        if sum != 0.0 {
            let exclamations = segment
                .text
                .bytes()
                .filter(|&b| b == b'!')
                .count()
                .min(scoring.max_exclamations);
            sum += sum.signum() * exclamations as f64 * scoring.exclamation_emphasis;
        }
        polarity.segment_sums.push(sum);
    }
    polarity
}

/// Turns the polar phrases of one segment into evidence; returns where the
/// last contrast word stands.
fn score_phrases(
    doc: &Document,
    segment: &Segment,
    hits: &[Hit],
    scoring: &ScoringConfig,
    evidence: &mut Vec<Evidence>,
) -> Option<usize> {
    let mut negator: Option<Range<usize>> = None;
    let mut modifiers: Vec<(Range<usize>, f64)> = Vec::new();
    let mut contrast_at = None;
    // Praise anywhere in a text that asks is mostly politeness ("can you DM
    // me? thanks"); a complaint word is only softened inside the question itself.
    let push = |evidence: &mut Vec<Evidence>, mut e: Evidence| {
        if e.value > 0.0 && segment.asks {
            e.value *= scoring.question_positive;
        } else if e.value < 0.0 && doc.questions[doc.clause_of[e.word.start]] {
            e.value *= scoring.question_negative;
        }
        if e.value != 0.0 {
            evidence.push(e);
        }
    };
    let bare = |negator: Range<usize>| Evidence {
        kind: EvidenceKind::BareNegation,
        span: negator.clone(),
        word: negator,
        value: scoring.bare_negation,
        negated: false,
        modifier: 1.0,
    };
    // Where the last negated phrase ends: a negator directly after it repeats
    // that negation ("no funciona nada", "no contesta nadie"), it does not start one.
    let mut negated_until: Option<usize> = None;
    for hit in hits {
        let word = hit.start..hit.end();
        let weight = match hit.cue {
            Cue::Negator => {
                if negated_until
                    .is_some_and(|end| end == word.start && doc.same_clause(end - 1, word.end))
                {
                    continue;
                }
                negator = match negator.take() {
                    // Two negators close together are one negation ("no está nada mal").
                    Some(pending)
                        if doc.same_clause(pending.start, word.end)
                            && word.start - pending.end <= scoring.negation_window =>
                    {
                        Some(pending.start..word.end)
                    }
                    Some(unused) => {
                        push(evidence, bare(unused));
                        Some(word)
                    }
                    None => Some(word),
                };
                continue;
            }
            Cue::Modifier(factor) => {
                modifiers.push((word, factor));
                continue;
            }
            Cue::Contrast => {
                contrast_at = Some(hit.start);
                continue;
            }
            Cue::Neutral | Cue::Frustration(_) | Cue::NotFrustration => continue,
            Cue::Polar(weight) | Cue::NegativeWhenNegated(weight) => weight,
        };
        let reaches = |cue: &Range<usize>, window: usize| {
            doc.same_clause(cue.start, word.end) && word.start - cue.end <= window
        };
        let negated_by = match negator.take() {
            Some(n) if reaches(&n, scoring.negation_window) => Some(n),
            Some(unused) => {
                push(evidence, bare(unused));
                None
            }
            None => None,
        };
        let mut span_start = negated_by.as_ref().map_or(word.start, |n| n.start);
        let mut modifier = 1.0;
        for (range, factor) in modifiers.drain(..) {
            if reaches(&range, scoring.modifier_window) {
                modifier *= factor;
                span_start = span_start.min(range.start);
            }
        }
        let negated = negated_by.is_some();
        negated_until = negated.then_some(word.end);
        let mut value = match (hit.cue, negated) {
            (Cue::NegativeWhenNegated(_), false) => continue,
            (Cue::NegativeWhenNegated(_), true) => weight,
            (_, true) if weight > 0.0 => weight * scoring.negated_positive,
            (_, true) => weight * scoring.negated_negative,
            (_, false) => weight,
        };
        value *= modifier;
        if doc.tokens[word.clone()].iter().any(|t| t.shouted) {
            value *= scoring.shouted_emphasis;
        }
        push(
            evidence,
            Evidence {
                kind: EvidenceKind::Phrase,
                span: span_start..word.end,
                word,
                value,
                negated,
                modifier,
            },
        );
    }
    if let Some(unused) = negator {
        push(evidence, bare(unused));
    }
    contrast_at
}

fn score_emoji(
    doc: &Document,
    segment: &Segment,
    emoji: &HashMap<String, f64>,
    evidence: &mut Vec<Evidence>,
) {
    for i in segment.tokens.clone() {
        let token = &doc.tokens[i];
        if token.kind != TokenKind::Emoji {
            continue;
        }
        if let Some(&value) = emoji.get(token.norm.as_str()) {
            evidence.push(Evidence {
                kind: EvidenceKind::Emoji,
                span: i..i + 1,
                word: i..i + 1,
                value,
                negated: false,
                modifier: 1.0,
            });
        }
    }
}
