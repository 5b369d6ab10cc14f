//! Fast matching of many keyword phrases against tokens.
//!
//! Phrases are written as people write them ("no puedo acceder", "cancel*"),
//! folded like the text, and indexed by their first word so a ticket is
//! scanned once whatever the number of phrases. A trailing `*` on a word
//! matches any word that starts with it (at least 3 letters before the `*`).

use std::hash::Hasher;
use std::ops::Range;

use crate::hash::{HashedMap, WordHasher};
use crate::normalize::{fold, joined_words, tokenize, Token};

/// One word of a phrase: the bytes `start..end` of [`PhraseSet::text`],
/// matched as the whole word or, for `word*`, as its beginning.
#[derive(Debug, Clone, Copy)]
struct WordPattern {
    start: u32,
    end: u32,
    prefix: bool,
}

/// A match of phrase number `phrase` over tokens `start..start + len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch {
    pub phrase: usize,
    pub start: usize,
    pub len: usize,
}

/// A set of phrases to find in token streams.
///
/// Lexicons have thousands of phrases and are compiled at every start of a
/// tool, so the words live in one string and the indexes hold ranges, not
/// an allocation per word or per key.
#[derive(Debug, Clone, Default)]
pub struct PhraseSet {
    /// The folded words of every phrase, back to back.
    text: String,
    /// The words of every phrase, phrase after phrase.
    words: Vec<WordPattern>,
    /// Phrase `i` is `words[word_ends[i - 1]..word_ends[i]]` (from 0 for the first).
    word_ends: Vec<u32>,
    /// Phrase numbers grouped by first word; the indexes point into it.
    candidates: Vec<u32>,
    /// [`word_hash`] of an exact first word → its phrases in `candidates`.
    by_first_word: Index,
    /// [`word_hash`] of the key of a prefix first word → its phrases in `candidates`.
    by_first_prefix: Index,
    /// A bit for the keys of both indexes ([`FirstWordFilter`]).
    first_words: FirstWordFilter,
}

/// A bit per key of the indexes, by the key's top bits: a clear bit says a
/// token starts no phrase of the set in one load instead of a lookup. On
/// 3,000 bench tickets in support-triage, 89% of the lookups found their bit
/// clear (README, "b0408e1").
#[derive(Debug, Clone)]
struct FirstWordFilter(Box<[u64; FILTER_WORDS]>);

const FILTER_BITS: u32 = 15;
const FILTER_WORDS: usize = (1 << FILTER_BITS) / 64;

impl Default for FirstWordFilter {
    fn default() -> Self {
        FirstWordFilter(Box::new([0; FILTER_WORDS]))
    }
}

impl FirstWordFilter {
    fn place(key: u64) -> (usize, u64) {
        let bit = (key >> (64 - FILTER_BITS)) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    fn insert(&mut self, key: u64) {
        let (word, bit) = Self::place(key);
        self.0[word] |= bit;
    }

    #[inline(always)]
    fn may_hold(&self, key: u64) -> bool {
        let (word, bit) = Self::place(key);
        self.0[word] & bit != 0
    }
}

type Index = HashedMap<Range<u32>>;

/// The hash the indexes are keyed by; fixed, so a phrase's word and a
/// token agree. Two words with one hash only share candidates, which are
/// checked word by word anyway.
fn word_hash(word: &str) -> u64 {
    crate::hash::word_hash(word.as_bytes())
}

const PREFIX_KEY_CHARS: usize = 3;

/// The first `PREFIX_KEY_CHARS` characters of `word`.
fn prefix_key(word: &str) -> Option<&str> {
    // Most words start with ASCII letters, one byte each: no decoding.
    if word
        .as_bytes()
        .get(..PREFIX_KEY_CHARS)
        .is_some_and(<[u8]>::is_ascii)
    {
        return Some(&word[..PREFIX_KEY_CHARS]);
    }
    let (start, last) = word.char_indices().nth(PREFIX_KEY_CHARS - 1)?;
    Some(&word[..start + last.len_utf8()])
}

/// A token's keys in the indexes: the [`word_hash`] of the word and of its
/// prefix key (none for a word shorter than the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WordKeys {
    pub(crate) exact: u64,
    prefix: Option<u64>,
}

impl WordKeys {
    pub(crate) fn of(word: &str) -> WordKeys {
        // The hash reads bytes in order, so the prefix's is a step on the way to the word's.
        let mut hasher = WordHasher::default();
        let prefix = prefix_key(word).map(|key| {
            hasher.write(key.as_bytes());
            (hasher.finish(), key.len())
        });
        hasher.write(&word.as_bytes()[prefix.map_or(0, |(_, len)| len)..]);
        WordKeys {
            exact: hasher.finish(),
            prefix: prefix.map(|(hash, _)| hash),
        }
    }
}

/// Appends the matcher's form of a word written in a phrase (without its
/// `*`): folded and tokenized as ticket text is, its tokens joined
/// ("E-mail" → "email"). Nothing when it has no word (e.g. a URL).
fn push_word(written: &str, out: &mut String) {
    // Plain letters and digits read as their lower case; most words are such,
    // and the general path allocates.
    if written.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let start = out.len();
        out.push_str(written);
        out[start..].make_ascii_lowercase();
    } else {
        for token in tokenize(&fold(written)) {
            out.push_str(&token.norm);
        }
    }
}

/// Indexes `keyed` (key, phrase number) pairs, in phrase order: each key
/// gets a range of `candidates` holding its phrase numbers in that order.
fn index(keyed: &[(u64, u32)], candidates: &mut Vec<u32>) -> Index {
    // Counting then filling is linear; sorting thousands of pairs is not.
    let mut index = Index::with_capacity_and_hasher(keyed.len(), Default::default());
    for &(key, _) in keyed {
        index.entry(key).or_insert(0..0).end += 1;
    }
    let mut next = candidates.len() as u32;
    for range in index.values_mut() {
        let count = range.end;
        *range = next..next;
        next += count;
    }
    candidates.resize(next as usize, 0);
    for &(key, phrase) in keyed {
        let range = index.get_mut(&key).expect("every key was counted");
        candidates[range.end as usize] = phrase;
        range.end += 1;
    }
    index
}

impl PhraseSet {
    /// Builds the set; phrase numbers follow the order given. Empty phrases never match.
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Self {
        let mut set = PhraseSet::default();
        let mut exact_keys = Vec::new();
        let mut prefix_keys = Vec::new();
        for phrase in phrases {
            let number = set.word_ends.len() as u32;
            let first = set.words.len();
            for written in phrase.as_ref().split_whitespace() {
                let stem = written.trim_end_matches('*');
                let start = set.text.len();
                push_word(stem, &mut set.text);
                let word = &set.text[start..];
                if word.is_empty() {
                    continue;
                }
                let wildcard = stem.len() < written.len();
                set.words.push(WordPattern {
                    start: start as u32,
                    end: set.text.len() as u32,
                    prefix: wildcard && word.chars().count() >= PREFIX_KEY_CHARS,
                });
            }
            set.word_ends.push(set.words.len() as u32);
            if let Some(&first) = set.words.get(first) {
                let word = set.word_text(first);
                if first.prefix {
                    let key = prefix_key(word).expect("prefix has the key length");
                    prefix_keys.push((word_hash(key), number));
                } else {
                    exact_keys.push((word_hash(word), number));
                }
            }
        }
        for &(key, _) in exact_keys.iter().chain(&prefix_keys) {
            set.first_words.insert(key);
        }
        set.by_first_word = index(&exact_keys, &mut set.candidates);
        set.by_first_prefix = index(&prefix_keys, &mut set.candidates);
        set
    }

    pub fn len(&self) -> usize {
        self.word_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.word_ends.is_empty()
    }

    fn word_text(&self, word: WordPattern) -> &str {
        &self.text[word.start as usize..word.end as usize]
    }

    fn phrase_words(&self, phrase: usize) -> &[WordPattern] {
        let start = match phrase {
            0 => 0,
            _ => self.word_ends[phrase - 1] as usize,
        };
        &self.words[start..self.word_ends[phrase] as usize]
    }

    fn matches(&self, pattern: WordPattern, word: &str) -> bool {
        let pattern_bytes = &self.text.as_bytes()[pattern.start as usize..pattern.end as usize];
        if pattern.prefix {
            word.as_bytes().starts_with(pattern_bytes)
        } else {
            word.as_bytes() == pattern_bytes
        }
    }

    /// The phrases indexed under the [`word_hash`] `key` in `index`; inlined,
    /// so that a token whose bit is clear costs no call.
    #[inline(always)]
    fn candidates_of(&self, index: &Index, key: u64) -> &[u32] {
        // A clear bit (every bit, for an empty index) spares the lookup.
        if !self.first_words.may_hold(key) {
            return &[];
        }
        index
            .get(&key)
            .map_or(&[], |r| &self.candidates[r.start as usize..r.end as usize])
    }

    /// Every match, in token order; overlapping matches are all reported.
    pub fn find_all(&self, tokens: &[Token]) -> Vec<PhraseMatch> {
        let mut found = Vec::new();
        for start in 0..tokens.len() {
            let keys = tokens[start].keys;
            let exact = self.candidates_of(&self.by_first_word, keys.exact);
            let prefixed = keys
                .prefix
                .map_or(&[][..], |k| self.candidates_of(&self.by_first_prefix, k));
            for &phrase in exact.iter().chain(prefixed) {
                let pattern = self.phrase_words(phrase as usize);
                let end = start + pattern.len();
                if end <= tokens.len()
                    && pattern
                        .iter()
                        .zip(&tokens[start..end])
                        .all(|(&p, t)| self.matches(p, &t.norm))
                {
                    found.push(PhraseMatch {
                        phrase: phrase as usize,
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
    joined_words(&tokens[m.start..m.start + m.len])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token's keys are the hashes the indexes are built with, whatever
    /// the word's length and characters.
    #[test]
    fn token_keys_are_the_word_and_prefix_hashes() {
        for word in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "reembolso",
            "ñandú",
            "año",
            "😡",
            "電子メール",
        ] {
            let keys = WordKeys::of(word);
            assert_eq!(keys.exact, word_hash(word), "{word}");
            assert_eq!(keys.prefix, prefix_key(word).map(word_hash), "{word}");
        }
    }

    #[test]
    fn prefix_keys_are_the_first_three_characters() {
        for word in [
            "",
            "ab",
            "abc",
            "abcd",
            "abñ",
            "abño",
            "ñandú",
            "año",
            "😡😡😡x",
            "a😡",
        ] {
            let chars: Vec<char> = word.chars().collect();
            let expected = (chars.len() >= PREFIX_KEY_CHARS)
                .then(|| chars[..PREFIX_KEY_CHARS].iter().collect::<String>());
            assert_eq!(prefix_key(word).map(str::to_string), expected, "{word}");
        }
    }

    /// Each match of `text` as (phrase number, matched words).
    fn found(set: &PhraseSet, text: &str) -> Vec<(usize, String)> {
        let tokens = tokenize(text);
        set.find_all(&tokens)
            .iter()
            .map(|m| (m.phrase, matched_text(&tokens, m)))
            .collect()
    }

    #[test]
    fn matches_multiword_accentless_and_prefix() {
        let set = PhraseSet::new([
            "no puedo acceder",
            "caída del servicio",
            "cancel*",
            "refund",
        ]);
        assert_eq!(
            found(
                &set,
                "NO PUEDO ACCEDER, y la caida del servicio... I cancelled; refunds?"
            ),
            [
                (0, "no puedo acceder".to_string()),
                (1, "caida del servicio".to_string()),
                (2, "cancelled".to_string())
            ],
            "`refund` is exact, so `refunds` does not match"
        );
    }

    #[test]
    fn plain_words_read_as_the_tokenizer_reads_them() {
        for written in ["Refund", "24h", "xD", "XD", "B2B", "www"] {
            let mut plain = String::new();
            push_word(written, &mut plain);
            let tokenized: String = tokenize(&fold(written))
                .into_iter()
                .map(|t| t.norm)
                .collect();
            assert_eq!(plain, tokenized, "{written}");
        }
    }

    #[test]
    fn words_are_read_as_text_is_and_wildcards_need_three_letters() {
        let set = PhraseSet::new([
            "E-mail",
            "don\u{2019}t*",
            "ab* cd",
            "  ",
            "@someone refund*",
            "Ña*",
        ]);
        assert_eq!(set.len(), 6);
        assert_eq!(
            found(&set, "email don'tcha ab cd refunded ñam nandu na"),
            [
                (0, "email".to_string()),
                (1, "don'tcha".to_string()),
                (2, "ab cd".to_string()),
                (4, "refunded".to_string()),
                (5, "na".to_string()),
            ],
            "`ña*` is too short for a prefix, so it is the exact word `na`"
        );
        assert!(!set.any(&tokenize("abc cd")), "`ab*` is exact: too short");
    }

    #[test]
    fn phrase_at_end_of_text_and_partial_phrase() {
        let set = PhraseSet::new(["data loss"]);
        assert!(set.any(&tokenize("we had data loss")));
        assert!(!set.any(&tokenize("we had data")));
    }
}
