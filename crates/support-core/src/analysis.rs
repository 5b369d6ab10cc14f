//! A ticket's customer text analysed once, for every tool that reads it:
//! tokens per field, split into clauses.
//!
//! In support-triage the six stages share one analysis per ticket
//! ([`Ticket::analysis`](crate::Ticket::analysis)); a tool run alone builds it
//! on first use, the same way.

use std::ops::Range;

use support_text::{clauses, joined_words, spaced_words, Token, Tokenizer};

use crate::ticket::{FieldName, TextField};

/// The tokens of a ticket's customer texts ([`crate::Ticket::customer_texts`]),
/// in order, with the field and clause each came from.
#[derive(Debug, Default)]
pub struct TextAnalysis {
    /// Every token of every field, field after field.
    pub tokens: Vec<Token>,
    /// Clause number of each token. A clause ends at sentence punctuation
    /// followed by a space, or at a line break ([`support_text::clauses`]).
    pub clause_of: Vec<usize>,
    /// Whether each clause asks something ("can you help?").
    pub questions: Vec<bool>,
    /// One per text field, in the order of the customer texts.
    pub segments: Vec<Segment>,
}

/// One text field of the ticket: where its tokens are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub field: FieldName,
    pub tokens: Range<usize>,
    /// The text asks something somewhere.
    pub asks: bool,
}

impl TextAnalysis {
    /// Tokenizes `texts` once, clause by clause: the tokens are those of
    /// each whole text, since clauses end where words do.
    pub fn new(texts: &[TextField<'_>]) -> Self {
        // About one token per five bytes of text: sized once, not grown clause by clause.
        let expected_tokens = texts.iter().map(|t| t.text.len()).sum::<usize>() / 5 + 8;
        let mut analysis = TextAnalysis {
            tokens: Vec::with_capacity(expected_tokens),
            clause_of: Vec::with_capacity(expected_tokens),
            questions: Vec::with_capacity(8),
            segments: Vec::with_capacity(texts.len()),
        };
        let mut tokenizer = Tokenizer::new();
        for text in texts {
            let first_token = analysis.tokens.len();
            for clause in clauses(text.text) {
                let start = analysis.tokens.len();
                tokenizer.tokenize_into(clause, &mut analysis.tokens);
                if analysis.tokens.len() > start {
                    let clause_number = analysis.questions.len();
                    analysis
                        .clause_of
                        .resize(analysis.tokens.len(), clause_number);
                    analysis.questions.push(clause.contains('?'));
                }
            }
            analysis.segments.push(Segment {
                field: text.field,
                tokens: first_token..analysis.tokens.len(),
                asks: text.text.contains('?'),
            });
        }
        analysis
    }

    /// The tokens of each field, with the field.
    pub fn fields(&self) -> impl Iterator<Item = (FieldName, &[Token])> {
        self.segments
            .iter()
            .map(|s| (s.field, &self.tokens[s.tokens.clone()]))
    }

    /// Whether tokens `start..end` lie in one clause.
    pub fn same_clause(&self, start: usize, end: usize) -> bool {
        self.clause_of[start] == self.clause_of[end - 1]
    }

    /// The folded words of tokens `range`, as reasons quote them.
    pub fn quote(&self, range: Range<usize>) -> String {
        joined_words(&self.tokens[range])
    }

    /// Appends the folded words of tokens `range`, space-separated.
    pub fn write_quote(&self, range: Range<usize>, out: &mut String) {
        out.extend(spaced_words(&self.tokens[range]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use support_text::tokenize;

    #[test]
    fn keeps_segments_and_marks_questions() {
        let texts = [
            TextField {
                field: FieldName::Subject,
                text: "Hola",
            },
            TextField {
                field: FieldName::Description,
                text: "¿Dónde está mi pedido? Gracias",
            },
        ];
        let analysis = TextAnalysis::new(&texts);
        assert_eq!(analysis.segments.len(), 2);
        assert_eq!(analysis.segments[1].tokens, 1..6);
        assert!(analysis.segments[1].asks && !analysis.segments[0].asks);
        assert_eq!(analysis.questions, [false, true, false]);
        assert!(analysis.same_clause(1, 4));
        assert!(!analysis.same_clause(4, 6));
        assert_eq!(analysis.quote(1..4), "donde esta mi");
        let fields: Vec<FieldName> = analysis.fields().map(|(f, _)| f).collect();
        assert_eq!(fields, [FieldName::Subject, FieldName::Description]);
    }

    #[test]
    fn clause_by_clause_gives_the_tokens_of_the_whole_text() {
        let text = "No, gracias. Mira https://t.co/x.y ;) ok?\nbien,mal. ¡NO! :( fin";
        let analysis = TextAnalysis::new(&[TextField {
            field: FieldName::Description,
            text,
        }]);
        assert_eq!(analysis.tokens, tokenize(text));
    }
}
