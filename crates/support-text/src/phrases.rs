//! Fast matching of many keyword phrases against tokens.
//!
//! Phrases are written as people write them ("no puedo acceder", "cancel*"),
//! folded like the text, and indexed by their first word so a ticket is
//! scanned once whatever the number of phrases. A trailing `*` on a word
//! matches any word that starts with it (at least 3 letters before the `*`).

use std::collections::HashMap;

use crate::normalize::{fold, tokenize, Token};

#[derive(Debug, Clone)]
enum WordPattern {
    Exact(String),
    Prefix(String),
}

impl WordPattern {
    fn matches(&self, word: &str) -> bool {
        match self {
            WordPattern::Exact(w) => w == word,
            WordPattern::Prefix(p) => word.starts_with(p.as_str()),
        }
    }
}

/// A match of phrase number `phrase` over tokens `start..start + len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch {
    pub phrase: usize,
    pub start: usize,
    pub len: usize,
}

/// A set of phrases to find in token streams.
#[derive(Debug, Clone, Default)]
pub struct PhraseSet {
    phrases: Vec<Vec<WordPattern>>,
    by_first_word: HashMap<String, Vec<usize>>,
    by_first_prefix: HashMap<String, Vec<usize>>,
}

const PREFIX_KEY_CHARS: usize = 3;

/// The first `PREFIX_KEY_CHARS` characters of `word`, borrowed: this runs for
/// every token scanned, so it must not allocate.
fn prefix_key(word: &str) -> Option<&str> {
    let (start, last) = word.char_indices().nth(PREFIX_KEY_CHARS - 1)?;
    Some(&word[..start + last.len_utf8()])
}

impl PhraseSet {
    /// Builds the set; phrase numbers follow the order given. Empty phrases never match.
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Self {
        let mut set = PhraseSet::default();
        for phrase in phrases {
            let index = set.phrases.len();
            let words: Vec<WordPattern> = fold(phrase.as_ref())
                .split_whitespace()
                .filter_map(|raw| {
                    let wildcard = raw.ends_with('*');
                    let word: String = tokenize(raw.trim_end_matches('*'))
                        .into_iter()
                        .map(|t| t.norm)
                        .collect::<Vec<_>>()
                        .join("");
                    if word.is_empty() {
                        None
                    } else if wildcard && word.chars().count() >= PREFIX_KEY_CHARS {
                        Some(WordPattern::Prefix(word))
                    } else {
                        Some(WordPattern::Exact(word))
                    }
                })
                .collect();
            match words.first() {
                Some(WordPattern::Exact(w)) => {
                    set.by_first_word.entry(w.clone()).or_default().push(index)
                }
                Some(WordPattern::Prefix(p)) => {
                    let key = prefix_key(p).expect("prefix has the key length");
                    set.by_first_prefix
                        .entry(key.to_string())
                        .or_default()
                        .push(index);
                }
                None => {}
            }
            set.phrases.push(words);
        }
        set
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// Every match, in token order; overlapping matches are all reported.
    pub fn find_all(&self, tokens: &[Token]) -> Vec<PhraseMatch> {
        let mut found = Vec::new();
        for start in 0..tokens.len() {
            let word = tokens[start].norm.as_str();
            let exact = self.by_first_word.get(word).into_iter().flatten();
            let prefixed = prefix_key(word)
                .and_then(|k| self.by_first_prefix.get(k))
                .into_iter()
                .flatten();
            for &phrase in exact.chain(prefixed) {
                let pattern = &self.phrases[phrase];
                let end = start + pattern.len();
                if end <= tokens.len()
                    && pattern
                        .iter()
                        .zip(&tokens[start..end])
                        .all(|(p, t)| p.matches(&t.norm))
                {
                    found.push(PhraseMatch {
                        phrase,
                        start,
                        len: pattern.len(),
                    });
                }
            }
        }
        found
    }

    /// Whether any phrase occurs.
    pub fn any(&self, tokens: &[Token]) -> bool {
        !self.find_all(tokens).is_empty()
    }
}

/// The words of a match, folded, as reasons quote them.
pub fn matched_text(tokens: &[Token], m: &PhraseMatch) -> String {
    tokens[m.start..m.start + m.len]
        .iter()
        .map(|t| t.norm.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_multiword_accentless_and_prefix() {
        let set = PhraseSet::new([
            "no puedo acceder",
            "caída del servicio",
            "cancel*",
            "refund",
        ]);
        let tokens = tokenize("NO PUEDO ACCEDER, y la caida del servicio... I cancelled; refunds?");
        let found: Vec<(usize, String)> = set
            .find_all(&tokens)
            .iter()
            .map(|m| (m.phrase, matched_text(&tokens, m)))
            .collect();
        assert_eq!(
            found,
            [
                (0, "no puedo acceder".to_string()),
                (1, "caida del servicio".to_string()),
                (2, "cancelled".to_string())
            ],
            "`refund` is exact, so `refunds` does not match"
        );
    }

    #[test]
    fn phrase_at_end_of_text_and_partial_phrase() {
        let set = PhraseSet::new(["data loss"]);
        assert!(set.any(&tokenize("we had data loss")));
        assert!(!set.any(&tokenize("we had data")));
    }
}
