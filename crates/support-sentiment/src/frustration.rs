//! Frustration: emotional urgency, separate from polarity. Each kind of cue
//! (repeated contact, threats, insults, shouting, exclamation runs) adds its
//! weight once, combined as `1 - Π(1 - weight)` so the value stays in [0, 1].

use support_core::text;

use crate::config::FrustrationConfig;
use crate::document::Document;
use crate::lexicon::{Cue, FrustrationKind, Hit};

pub(crate) struct Frustration {
    pub value: f64,
    pub reasons: Vec<String>,
}

/// At most this many words are quoted per kind of cue.
const MAX_QUOTES: usize = 4;

pub(crate) fn assess(doc: &Document, hits: &[Hit], config: &FrustrationConfig) -> Frustration {
    let mut phrases: [Vec<String>; 3] = Default::default();
    for hit in hits {
        if let Cue::Frustration(kind) = hit.cue {
            add_quote(&mut phrases[kind as usize], doc.quote(hit.start..hit.end()));
        }
    }
    let weights = &config.weights;
    let mut found: Vec<(f64, &str, Vec<String>)> = Vec::new();
    for (kind, weight, what) in [
        (
            FrustrationKind::RepeatedContact,
            weights.repeated_contact,
            "repeated contact",
        ),
        (
            FrustrationKind::Threat,
            weights.threat,
            "threat to cancel, leave or complain",
        ),
        (FrustrationKind::Insult, weights.insult, "insult"),
    ] {
        let quotes = std::mem::take(&mut phrases[kind as usize]);
        if !quotes.is_empty() {
            found.push((weight, what, quotes));
        }
    }
    let (shouted_count, shouted) = shouted_words(doc, config.shouting_min_letters);
    if shouted_count >= config.shouting_min_words.max(1) {
        found.push((weights.shouting, "shouted", shouted));
    }
    let runs = exclamation_runs(doc, config.exclamation_run.max(1));
    if !runs.is_empty() {
        found.push((weights.exclamations, "exclamation run", runs));
    }
    let calm: f64 = found
        .iter()
        .map(|(weight, _, _)| 1.0 - weight.clamp(0.0, 1.0))
        .product();
    Frustration {
        value: 1.0 - calm,
        reasons: found
            .into_iter()
            .map(|(_, what, quotes)| text!("frustration: {what} {}", quote_list(&quotes)))
            .collect(),
    }
}

fn add_quote(quotes: &mut Vec<String>, quote: String) {
    if quotes.len() < MAX_QUOTES && !quotes.contains(&quote) {
        quotes.push(quote);
    }
}

/// How many words are written in capitals with at least `min_letters`
/// letters (so airport codes and "OK" do not count), and the distinct ones.
/// Repeating one word ("NUNCA NUNCA") is shouting too, hence the count.
fn shouted_words(doc: &Document, min_letters: usize) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut words = Vec::new();
    for token in doc.tokens.iter().filter(|t| t.shouted) {
        if token.norm.chars().filter(|c| c.is_alphabetic()).count() >= min_letters {
            count += 1;
            add_quote(&mut words, token.norm.to_uppercase().into());
        }
    }
    (count, words)
}

/// Runs of `!` or `¡` at least `min_run` long, as written.
fn exclamation_runs(doc: &Document, min_run: usize) -> Vec<String> {
    let mut runs = Vec::new();
    for segment in &doc.segments {
        // Most texts have no exclamation mark at all: skip the character walk.
        if !segment.text.contains(['!', '¡']) {
            continue;
        }
        let mut run = 0;
        let mut start = 0;
        for (i, c) in segment
            .text
            .char_indices()
            .chain(std::iter::once((segment.text.len(), ' ')))
        {
            if matches!(c, '!' | '¡') {
                if run == 0 {
                    start = i;
                }
                run += 1;
            } else {
                if run >= min_run {
                    add_quote(&mut runs, segment.text[start..i].to_string());
                }
                run = 0;
            }
        }
    }
    runs
}

/// `'a', 'b'`
fn quote_list(quotes: &[String]) -> String {
    quotes
        .iter()
        .map(|q| text!("'{q}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
