//! One language's lexicon compiled into a single phrase matcher, so a ticket
//! is scanned once for every kind of cue.

use std::collections::BTreeMap;

use support_text::PhraseSet;

use crate::config::Lexicon;
use crate::document::Document;

/// What a matched phrase means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cue {
    /// A polar phrase with its signed weight.
    Polar(f64),
    /// Polar only when negated: this negative weight then.
    NegativeWhenNegated(f64),
    /// Looks polar but is not; it only hides the shorter phrases inside it.
    Neutral,
    Negator,
    /// Intensifier (above 1) or downtoner (below 1) of the next polar phrase.
    Modifier(f64),
    Contrast,
    Frustration(FrustrationKind),
    /// Hides a frustration cue inside it ("thanks again").
    NotFrustration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrustrationKind {
    RepeatedContact,
    Threat,
    Insult,
}

impl Cue {
    fn is_frustration(self) -> bool {
        matches!(self, Cue::Frustration(_) | Cue::NotFrustration)
    }
}

/// A cue found at tokens `start..start + len`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub cue: Cue,
    pub start: usize,
    pub len: usize,
}

impl Hit {
    pub fn end(&self) -> usize {
        self.start + self.len
    }
}

/// Polarity cues and frustration cues found in a document, each in token order
/// and without overlaps.
pub(crate) struct Hits {
    pub polarity: Vec<Hit>,
    pub frustration: Vec<Hit>,
}

impl Hits {
    /// How many polar phrases were found (negation-only words excluded).
    pub fn polar_count(&self) -> usize {
        self.polarity
            .iter()
            .filter(|h| matches!(h.cue, Cue::Polar(_)))
            .count()
    }
}

pub(crate) struct CompiledLexicon {
    phrases: PhraseSet,
    /// The cue of each phrase, by phrase number.
    cues: Vec<Cue>,
}

impl CompiledLexicon {
    pub fn new(lexicon: &Lexicon) -> Self {
        fn weighted(
            map: &BTreeMap<String, f64>,
            cue: fn(f64) -> Cue,
        ) -> impl Iterator<Item = (&str, Cue)> {
            map.iter()
                .map(move |(phrase, &weight)| (phrase.as_str(), cue(weight)))
        }
        fn listed(phrases: &[String], cue: Cue) -> impl Iterator<Item = (&str, Cue)> {
            phrases.iter().map(move |phrase| (phrase.as_str(), cue))
        }
        let frustration = &lexicon.frustration;
        let entries: Vec<(&str, Cue)> = weighted(&lexicon.positive, Cue::Polar)
            .chain(weighted(&lexicon.negative, |w| Cue::Polar(-w.abs())))
            .chain(weighted(&lexicon.negative_when_negated, |w| {
                Cue::NegativeWhenNegated(-w.abs())
            }))
            .chain(weighted(&lexicon.intensifiers, Cue::Modifier))
            .chain(weighted(&lexicon.downtoners, Cue::Modifier))
            .chain(listed(&lexicon.neutral, Cue::Neutral))
            .chain(listed(&lexicon.negators, Cue::Negator))
            .chain(listed(&lexicon.contrast, Cue::Contrast))
            .chain(listed(
                &frustration.repeated_contact,
                Cue::Frustration(FrustrationKind::RepeatedContact),
            ))
            .chain(listed(
                &frustration.threat,
                Cue::Frustration(FrustrationKind::Threat),
            ))
            .chain(listed(
                &frustration.insult,
                Cue::Frustration(FrustrationKind::Insult),
            ))
            .chain(listed(&frustration.exceptions, Cue::NotFrustration))
            .collect();
        CompiledLexicon {
            phrases: PhraseSet::new(entries.iter().map(|(phrase, _)| *phrase)),
            cues: entries.into_iter().map(|(_, cue)| cue).collect(),
        }
    }

    /// Finds the cues of both layers. Within a layer, the longest phrase
    /// starting first wins ("no response" over "no"; "buenos días" over
    /// "buenos"), and no phrase spans two clauses.
    pub fn find(&self, doc: &Document) -> Hits {
        let mut hits = Hits {
            polarity: Vec::new(),
            frustration: Vec::new(),
        };
        let mut free_from = [0usize; 2];
        let matches = self.phrases.find_all(&doc.tokens);
        for group in matches.chunk_by(|a, b| a.start == b.start) {
            let start = group[0].start;
            for (layer, frustration) in [(0, false), (1, true)] {
                if start < free_from[layer] {
                    continue;
                }
                let longest = group
                    .iter()
                    .filter(|m| {
                        self.cues[m.phrase].is_frustration() == frustration
                            && doc.same_clause(m.start, m.start + m.len)
                    })
                    .max_by_key(|m| m.len);
                if let Some(m) = longest {
                    let hit = Hit {
                        cue: self.cues[m.phrase],
                        start,
                        len: m.len,
                    };
                    free_from[layer] = hit.end();
                    if frustration {
                        hits.frustration.push(hit);
                    } else {
                        hits.polarity.push(hit);
                    }
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use support_text::{fold, tokenize};

    use super::*;
    use crate::SentimentConfig;

    /// A phrase as the matcher reads it: folded, tokenized, wildcards kept.
    fn normalized(phrase: &str) -> String {
        fold(phrase)
            .split_whitespace()
            .map(|word| {
                let stem: String = tokenize(word.trim_end_matches('*'))
                    .into_iter()
                    .map(|t| t.norm)
                    .collect();
                if word.ends_with('*') {
                    stem + "*"
                } else {
                    stem
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn default_lexicons_give_each_phrase_one_meaning_per_layer() {
        let config = SentimentConfig::default();
        for (language, lexicon) in [("es", &config.languages.es), ("en", &config.languages.en)] {
            let compiled = CompiledLexicon::new(lexicon);
            let mut seen: HashMap<(String, bool), Cue> = HashMap::new();
            let phrases = lexicon
                .positive
                .keys()
                .chain(lexicon.negative.keys())
                .chain(lexicon.negative_when_negated.keys())
                .chain(lexicon.intensifiers.keys())
                .chain(lexicon.downtoners.keys())
                .chain(&lexicon.neutral)
                .chain(&lexicon.negators)
                .chain(&lexicon.contrast)
                .chain(&lexicon.frustration.repeated_contact)
                .chain(&lexicon.frustration.threat)
                .chain(&lexicon.frustration.insult)
                .chain(&lexicon.frustration.exceptions);
            for (phrase, &cue) in phrases.zip(&compiled.cues) {
                let key = (normalized(phrase), cue.is_frustration());
                assert!(!key.0.is_empty(), "{language}: `{phrase}` has no words");
                if let Some(earlier) = seen.insert(key, cue) {
                    panic!("{language}: `{phrase}` is listed twice in one layer ({earlier:?} and {cue:?})");
                }
            }
        }
    }

    #[test]
    fn longest_phrase_wins_and_layers_are_independent() {
        let config = SentimentConfig::default();
        let compiled = CompiledLexicon::new(&config.languages.en);
        let texts = [support_core::TextField {
            field: support_core::FieldName::Description,
            text: "no response again",
        }];
        let analysis = support_core::TextAnalysis::new(&texts);
        let doc = Document::new(&analysis, &texts);
        let hits = compiled.find(&doc);
        let polarity: Vec<(usize, usize)> =
            hits.polarity.iter().map(|h| (h.start, h.len)).collect();
        assert_eq!(polarity, [(0, 2)], "'no response' beats the negator 'no'");
        assert!(matches!(
            hits.frustration[..],
            [Hit {
                cue: Cue::Frustration(FrustrationKind::RepeatedContact),
                start: 2,
                ..
            }]
        ));
    }
}
