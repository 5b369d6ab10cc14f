//! A ticket's customer texts tokenized once: segments (one per text field)
//! split into clauses, so negation and intensifiers stop at punctuation.

use std::ops::Range;

use support_core::{FieldName, TextField};
use support_text::{tokenize, Token};

/// One text field of the ticket.
pub(crate) struct Segment<'a> {
    pub field: FieldName,
    pub text: &'a str,
    pub tokens: Range<usize>,
    /// The text asks something somewhere.
    pub asks: bool,
}

pub(crate) struct Document<'a> {
    pub tokens: Vec<Token>,
    /// Clause number of each token.
    pub clause_of: Vec<usize>,
    /// Whether each clause asks something ("can you help?").
    pub questions: Vec<bool>,
    pub segments: Vec<Segment<'a>>,
}

impl<'a> Document<'a> {
    pub fn new(texts: &[TextField<'a>]) -> Self {
        // About one token per five bytes of text: sized once, not grown clause by clause.
        let expected_tokens = texts.iter().map(|t| t.text.len()).sum::<usize>() / 5 + 8;
        let mut doc = Document {
            tokens: Vec::with_capacity(expected_tokens),
            clause_of: Vec::with_capacity(expected_tokens),
            questions: Vec::with_capacity(8),
            segments: Vec::with_capacity(texts.len()),
        };
        for text in texts {
            let first_token = doc.tokens.len();
            for clause in clauses(text.text) {
                let start = doc.tokens.len();
                doc.tokens.extend(tokenize(clause));
                if doc.tokens.len() > start {
                    doc.clause_of.resize(doc.tokens.len(), doc.questions.len());
                    doc.questions.push(clause.contains('?'));
                }
            }
            doc.segments.push(Segment {
                field: text.field,
                text: text.text,
                tokens: first_token..doc.tokens.len(),
                asks: text.text.contains('?'),
            });
        }
        doc
    }

    /// Whether tokens `start..end` lie in one clause.
    pub fn same_clause(&self, start: usize, end: usize) -> bool {
        self.clause_of[start] == self.clause_of[end - 1]
    }

    /// The folded words of tokens `range`, as reasons quote them.
    pub fn quote(&self, range: Range<usize>) -> String {
        let mut out = String::new();
        self.write_quote(range, &mut out);
        out
    }

    /// Appends the folded words of tokens `range`, space-separated.
    pub fn write_quote(&self, range: Range<usize>, out: &mut String) {
        for (i, token) in self.tokens[range].iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&token.norm);
        }
    }
}

/// Splits text after sentence punctuation followed by a space (so URLs,
/// decimals and emoticons such as `;)` stay whole) and at line breaks.
fn clauses(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let at = i;
            i += 1;
            let ends_clause = bytes[at] == b'\n'
                || (matches!(bytes[at], b'.' | b'!' | b'?' | b';' | b',')
                    && bytes
                        .get(at + 1)
                        .is_none_or(|next| next.is_ascii_whitespace()));
            if ends_clause {
                // ASCII bytes never occur inside a multi-byte character, so `at + 1` is a char boundary.
                let clause = &text[start..at + 1];
                start = at + 1;
                return Some(clause);
            }
        }
        (start < bytes.len()).then(|| {
            let clause = &text[start..];
            start = bytes.len();
            clause
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_at_punctuation_but_not_inside_urls_or_emoticons() {
        let split: Vec<&str> = clauses("No, gracias. Mira https://t.co/x.y ;) ok?\nbien").collect();
        assert_eq!(
            split,
            [
                "No,",
                " gracias.",
                " Mira https://t.co/x.y ;) ok?",
                "\n",
                "bien"
            ]
        );
    }

    #[test]
    fn document_keeps_segments_and_marks_questions() {
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
        let doc = Document::new(&texts);
        assert_eq!(doc.segments.len(), 2);
        assert_eq!(doc.segments[1].tokens, 1..6);
        assert!(doc.segments[1].asks && !doc.segments[0].asks);
        assert_eq!(doc.questions, [false, true, false]);
        assert!(doc.same_clause(1, 4));
        assert!(!doc.same_clause(4, 6));
        assert_eq!(doc.quote(1..4), "donde esta mi");
    }
}
