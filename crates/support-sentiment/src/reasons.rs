//! Reasons naming the words that moved the score, written straight into one
//! string per polarity: this runs for every ticket.

use std::fmt::Write as _;
use std::ops::Range;

use support_core::{text, write_joined};

use crate::document::Document;
use crate::polarity::{Evidence, EvidenceKind};
use crate::Label;

/// At most this many distinct phrases are quoted per polarity.
const MAX_QUOTED: usize = 8;

/// "negative: 'no funciona' (negated 'funciona'), 'horrible', 😡", the
/// dominant polarity first.
pub(crate) fn polarity(doc: &Document, evidence: &[Evidence], label: Label) -> Vec<String> {
    if evidence.is_empty() {
        return vec!["neutral: no polar words or emoji".to_string()];
    }
    let mut sides = [("negative", false), ("positive", true)];
    if label == Label::Positive {
        sides.reverse();
    }
    let mut reasons = Vec::with_capacity(2);
    // Distinct quotes of one side and how often each occurs.
    let mut distinct: Vec<(&Evidence, usize)> = Vec::new();
    for (name, positive) in sides {
        distinct.clear();
        for e in evidence.iter().filter(|e| (e.value > 0.0) == positive) {
            match distinct
                .iter_mut()
                .find(|(seen, _)| same_quote(doc, seen, e))
            {
                Some((_, count)) => *count += 1,
                None => distinct.push((e, 1)),
            }
        }
        if distinct.is_empty() {
            continue;
        }
        let mut reason = text!("{name}: ");
        let quoted = distinct.iter().take(MAX_QUOTED);
        write_joined(&mut reason, quoted, ", ", |out, (e, count)| {
            describe(doc, e, out);
            match count {
                1 => Ok(()),
                _ => write!(out, " ×{count}"),
            }
        });
        if distinct.len() > MAX_QUOTED {
            let _ = write!(reason, ", and {} more", distinct.len() - MAX_QUOTED);
        }
        reasons.push(reason);
    }
    reasons
}

/// The note a modifier leaves in a quote.
fn modifier_note(modifier: f64) -> Option<&'static str> {
    if modifier > 1.0 {
        Some("intensified")
    } else if modifier < 1.0 {
        Some("softened")
    } else {
        None
    }
}

/// Whether two pieces of evidence read the same in reasons.
fn same_quote(doc: &Document, a: &Evidence, b: &Evidence) -> bool {
    let same_words = |x: &Range<usize>, y: &Range<usize>| {
        x.len() == y.len()
            && doc.tokens[x.clone()]
                .iter()
                .zip(&doc.tokens[y.clone()])
                .all(|(s, t)| s.norm == t.norm)
    };
    a.kind == b.kind
        && a.negated == b.negated
        && modifier_note(a.modifier) == modifier_note(b.modifier)
        && same_words(&a.span, &b.span)
        && same_words(&a.word, &b.word)
}

/// Appends `'no funciona' (negated 'funciona')`, `'muy lento' (intensified)`,
/// `'no' (negation)` or `😡`.
fn describe(doc: &Document, e: &Evidence, out: &mut String) {
    if e.kind == EvidenceKind::Emoji {
        doc.write_quote(e.word.clone(), out);
        return;
    }
    out.push('\'');
    doc.write_quote(e.span.clone(), out);
    out.push('\'');
    let mut notes = 0;
    let mut note = |out: &mut String| {
        out.push_str(if notes == 0 { " (" } else { ", " });
        notes += 1;
    };
    if e.kind == EvidenceKind::BareNegation {
        note(out);
        out.push_str("negation");
    }
    if e.negated {
        note(out);
        out.push_str("negated '");
        doc.write_quote(e.word.clone(), out);
        out.push('\'');
    }
    if let Some(text) = modifier_note(e.modifier) {
        note(out);
        out.push_str(text);
    }
    if notes > 0 {
        out.push(')');
    }
}
