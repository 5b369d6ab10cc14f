//! The ticket's shared text analysis ([`TextAnalysis`]) as sentiment reads
//! it: each segment (one per text field) with its text, and the clauses, so
//! negation and intensifiers stop at punctuation.

use std::ops::Deref;

use support_core::analysis;
use support_core::{TextAnalysis, TextField};

/// One text field of the ticket: the shared analysis's segment (field,
/// tokens, whether it asks) with the text it was made of.
pub(crate) struct Segment<'a> {
    segment: &'a analysis::Segment,
    pub text: &'a str,
}

impl Deref for Segment<'_> {
    type Target = analysis::Segment;

    fn deref(&self) -> &analysis::Segment {
        self.segment
    }
}

/// The analysis with the texts it was made of; derefs to the analysis
/// (tokens, clauses, quotes).
pub(crate) struct Document<'a> {
    analysis: &'a TextAnalysis,
    pub segments: Vec<Segment<'a>>,
}

impl<'a> Document<'a> {
    /// `texts` are the texts `analysis` was made of, in order.
    pub fn new(analysis: &'a TextAnalysis, texts: &[TextField<'a>]) -> Self {
        let segments = analysis
            .segments
            .iter()
            .zip(texts)
            .map(|(segment, text)| Segment {
                segment,
                text: text.text,
            })
            .collect();
        Document { analysis, segments }
    }
}

impl Deref for Document<'_> {
    type Target = TextAnalysis;

    fn deref(&self) -> &TextAnalysis {
        self.analysis
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use support_core::FieldName;

    #[test]
    fn segments_carry_their_texts() {
        let texts = [
            TextField {
                field: FieldName::Message(2),
                text: "¿Y mi reembolso?",
            },
            TextField {
                field: FieldName::Message(4),
                text: "Nada",
            },
        ];
        let analysis = TextAnalysis::new(&texts);
        let doc = Document::new(&analysis, &texts);
        let fields: Vec<(FieldName, &str)> =
            doc.segments.iter().map(|s| (s.field, s.text)).collect();
        assert_eq!(
            fields,
            [
                (FieldName::Message(2), texts[0].text),
                (FieldName::Message(4), "Nada")
            ]
        );
        assert_eq!(doc.segments[1].tokens, 3..4);
        assert_eq!(doc.quote(0..3), "y mi reembolso");
    }
}
