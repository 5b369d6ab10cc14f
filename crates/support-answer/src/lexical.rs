//! The lexical half of retrieval: Okapi BM25 over the indexed texts. Words
//! are folded (lower case, no accents) and cut to a crude stem, so
//! "reembolsos" finds "reembolso" and "charged" finds "charge"; it catches
//! exact product names, codes and rare words the embeddings blur.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use support_text::{tokenize, TokenKind};

/// BM25's usual constants: term-frequency saturation and length normalization.
const K1: f64 = 1.2;
const B: f64 = 0.75;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bm25 {
    /// Term → (text, occurrences) for every text holding it, texts ascending.
    postings: BTreeMap<String, Vec<(u32, u32)>>,
    /// Terms per text.
    lengths: Vec<u32>,
}

impl Bm25 {
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut postings: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
        let mut lengths = Vec::new();
        for (doc, text) in texts.into_iter().enumerate() {
            let terms = terms(text);
            lengths.push(terms.len() as u32);
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for term in terms {
                *counts.entry(term).or_default() += 1;
            }
            for (term, count) in counts {
                postings.entry(term).or_default().push((doc as u32, count));
            }
        }
        Bm25 { postings, lengths }
    }

    /// Whether every posting names one of `texts` texts, as the index's
    /// texts (a stored index is checked before it is searched).
    pub fn is_consistent(&self, texts: usize) -> bool {
        self.lengths.len() == texts
            && self
                .postings
                .values()
                .flatten()
                .all(|&(doc, _)| (doc as usize) < texts)
    }

    /// The texts matching `query`, best first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(u32, f64)> {
        let texts = self.lengths.len() as f64;
        let average = self.lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / texts.max(1.0);
        let mut scores: BTreeMap<u32, f64> = BTreeMap::new();
        let mut query_terms = terms(query);
        query_terms.sort();
        query_terms.dedup();
        for term in &query_terms {
            let Some(posting) = self.postings.get(term) else {
                continue;
            };
            let n = posting.len() as f64;
            let idf = ((texts - n + 0.5) / (n + 0.5) + 1.0).ln();
            for &(doc, count) in posting {
                let tf = f64::from(count);
                let length = f64::from(self.lengths[doc as usize]);
                let norm = K1 * (1.0 - B + B * length / average.max(1.0));
                *scores.entry(doc).or_default() += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        // Ties by text order: the same query ranks alike every time.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked
    }
}

/// Folded, stemmed words of `text`, without the commonest function words.
fn terms(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| t.kind == TokenKind::Word && !STOPWORDS.contains(&t.norm.as_str()))
        .map(|t| stem(&t.norm).to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Strips the commonest Spanish and English inflections; crude, but the same
/// on both sides of the search, which is what matters.
fn stem(word: &str) -> &str {
    for suffix in ["ciones", "cion", "mente", "ing", "es", "ed", "s"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.chars().count() >= 3 {
                return stem;
            }
        }
    }
    word
}

const STOPWORDS: &[&str] = &[
    "a", "al", "de", "del", "el", "en", "es", "la", "las", "lo", "los", "me", "mi", "mis", "no",
    "para", "por", "que", "se", "su", "un", "una", "y", "o", "con", "como", "hay", "le", "ya",
    "the", "an", "and", "or", "of", "to", "in", "on", "for", "is", "it", "my", "i", "me", "be",
    "do", "does", "can", "how", "what", "with", "this", "that", "are", "was", "you", "your", "at",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_and_accents_find_the_singular() {
        let index = Bm25::build(["Reembolso de un pedido", "Cambiar la contraseña"]);
        let hits = index.search("¿Dónde están mis REEMBOLSOS?", 5);
        assert_eq!(hits[0].0, 0);
        assert_eq!(index.search("contrasena", 5)[0].0, 1);
    }

    #[test]
    fn rare_words_weigh_more_than_common_ones() {
        let index = Bm25::build(["invoice order", "order status", "order tracking"]);
        let hits = index.search("order invoice", 3);
        assert_eq!(hits[0].0, 0);
        assert_eq!(hits.len(), 3);
    }

    #[test]
    fn a_query_of_unknown_words_finds_nothing() {
        let index = Bm25::build(["refund"]);
        assert!(index.search("zzz qqq", 5).is_empty());
        assert!(Bm25::build([]).search("refund", 5).is_empty());
    }
}
