//! Hashed n-gram features of a text.
//!
//! Words come from `support_text::tokenize` (folded: lower case, no accents,
//! URLs and @mentions dropped), so "Facturación" and "facturacion" are the
//! same feature. Each text yields word unigrams, word bigrams, and character
//! n-grams taken inside each word padded with a space on both sides (like
//! scikit-learn's `char_wb`), which makes the model robust to typos and
//! inflections ("reembolso"/"reembolsar"). Features are hashed into
//! `2^hash_bits` buckets with a fixed hash, so nothing depends on a
//! vocabulary and the same text always gives the same buckets on every
//! platform and version.

use serde::{Deserialize, Serialize};
use support_text::Token;

/// How texts are turned into features. Stored in the model file, so a model
/// always extracts features the way it was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSettings {
    /// Features are hashed into `2^hash_bits` buckets.
    pub hash_bits: u8,
    /// Word n-grams from 1 up to this length (1 = words only, 2 = words and bigrams).
    pub word_ngrams: u8,
    /// Shortest character n-gram (counting the padding space).
    pub char_min: u8,
    /// Longest character n-gram; 0 disables character n-grams.
    pub char_max: u8,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        FeatureSettings {
            // 2^18 buckets per block (words, char n-grams): on 6k Spanish
            // tweets 12% of the n-grams share a bucket at 2^17, 4% at 2^18,
            // and the lost ones cost about a point of dev accuracy.
            hash_bits: 19,
            word_ngrams: 2,
            char_min: 2,
            char_max: 5,
        }
    }
}

pub(crate) const MAX_HASH_BITS: u8 = 24;

impl FeatureSettings {
    /// Whether a model can be trained and read with these settings.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=MAX_HASH_BITS).contains(&self.hash_bits) {
            return Err(format!(
                "hash_bits must be 8..={MAX_HASH_BITS}, got {}",
                self.hash_bits
            ));
        }
        if !(1..=3).contains(&self.word_ngrams) {
            return Err(format!(
                "word_ngrams must be 1..=3, got {}",
                self.word_ngrams
            ));
        }
        if self.char_max != 0
            && (self.char_min < 1 || self.char_min > self.char_max || self.char_max > 8)
        {
            return Err(format!(
                "character n-grams must satisfy 1 <= char_min <= char_max <= 8, got {}..={}",
                self.char_min, self.char_max
            ));
        }
        Ok(())
    }

    pub(crate) fn bucket_count(&self) -> usize {
        1 << self.hash_bits
    }

    /// First bucket of the character n-gram block.
    pub(crate) fn char_block_start(&self) -> u32 {
        1 << (self.hash_bits - 1)
    }
}

/// What a feature is, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// A word, including the character n-grams inside it.
    Word,
    /// Two or three consecutive words.
    Phrase,
}

/// Where a feature occurrence came from: its kind and the index of the first
/// word (and the number of words) it covers in the token list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    pub kind: FeatureKind,
    pub first_word: u32,
    pub words: u32,
}

/// At least as many as the feature occurrences [`extract`] finds in
/// `tokens`: room reserved once, not grown while extracting.
pub(crate) fn occurrences_at_most(tokens: &[Token], settings: &FeatureSettings) -> usize {
    let lengths = if settings.char_max == 0 {
        0
    } else {
        usize::from(settings.char_max - settings.char_min) + 1
    };
    let per_word = usize::from(settings.word_ngrams);
    tokens
        .iter()
        .map(|t| per_word + (t.norm.len() + 2) * lengths)
        .sum()
}

/// What [`extract`] finds: groups of feature occurrences, each group's
/// origin announced before its buckets.
pub(crate) trait Features {
    /// The occurrences up to the next origin come from `origin`.
    fn origin(&mut self, origin: Origin);
    fn bucket(&mut self, bucket: u32);
}

/// A closure takes the buckets alone.
impl<F: FnMut(u32)> Features for F {
    #[inline(always)]
    fn origin(&mut self, _: Origin) {}

    #[inline(always)]
    fn bucket(&mut self, bucket: u32) {
        self(bucket)
    }
}

/// Gives `found` every feature occurrence of the words of `tokens` (from
/// `support_text::tokenize`), word by word: the word, each phrase it
/// starts, then the character n-grams inside it, each group after its
/// origin. Inlined, so a caller compiled for more processor features
/// (`Model::analyze`) compiles it so too.
#[inline(always)]
pub(crate) fn extract(tokens: &[Token], settings: &FeatureSettings, found: &mut impl Features) {
    // Words and phrases hash into the lower half of the buckets, character
    // n-grams into the upper half, so the two blocks can be normalized apart.
    let shift = 64 - (u32::from(settings.hash_bits) - 1);
    let char_block = settings.char_block_start();
    let mut padded: Vec<u8> = Vec::with_capacity(64);
    let mut char_starts: Vec<usize> = Vec::with_capacity(64);
    for (index, word) in tokens.iter().map(|t| &t.norm).enumerate() {
        let first_word = index as u32;
        let origin = Origin {
            kind: FeatureKind::Word,
            first_word,
            words: 1,
        };
        found.origin(origin);
        found.bucket(bucket(Hasher::new(b'w').bytes(word.as_bytes()), shift));
        for n in 2..=usize::from(settings.word_ngrams) {
            if index + n > tokens.len() {
                break;
            }
            let mut hasher = Hasher::new(b'0' + n as u8);
            for w in &tokens[index..index + n] {
                hasher = hasher.bytes(w.norm.as_bytes()).byte(0);
            }
            found.origin(Origin {
                kind: FeatureKind::Phrase,
                first_word,
                words: n as u32,
            });
            found.bucket(bucket(hasher, shift));
        }
        if settings.char_max == 0 {
            continue;
        }
        padded.clear();
        padded.push(b' ');
        padded.extend_from_slice(word.as_bytes());
        padded.push(b' ');
        // Character n-grams count Unicode characters, not bytes; in an
        // ASCII word (most of them) each byte is one.
        let ascii = word.is_ascii();
        char_starts.clear();
        if !ascii {
            char_starts.extend((0..padded.len()).filter(|&i| !is_continuation(padded[i])));
            char_starts.push(padded.len());
        }
        let chars = if ascii {
            padded.len()
        } else {
            char_starts.len() - 1
        };
        found.origin(origin);
        let mut emit_gram =
            |gram: &[u8]| found.bucket(bucket(Hasher::new(b'c').bytes(gram), shift) | char_block);
        for n in usize::from(settings.char_min)..=usize::from(settings.char_max) {
            if chars <= n {
                // A word shorter than n counts once, whole (as scikit-learn's char_wb does).
                emit_gram(&padded);
                break;
            }
            if ascii {
                // The lengths models use, written out so that each gram's
                // hash is compiled for its length, without a loop.
                match n {
                    3 => padded.windows(3).for_each(&mut emit_gram),
                    4 => padded.windows(4).for_each(&mut emit_gram),
                    _ => padded.windows(n).for_each(&mut emit_gram),
                }
            } else {
                (0..=chars - n)
                    .map(|start| &padded[char_starts[start]..char_starts[start + n]])
                    .for_each(&mut emit_gram);
            }
        }
    }
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// FNV-1a, 64 bits: tiny, fast on short strings, and fixed forever (the
/// buckets of a saved model depend on it). A namespace byte keeps a word, a
/// bigram and a character n-gram with the same bytes apart.
#[derive(Clone, Copy)]
struct Hasher(u64);

impl Hasher {
    fn new(namespace: u8) -> Self {
        Hasher(0xcbf2_9ce4_8422_2325).byte(namespace)
    }

    fn byte(self, b: u8) -> Self {
        Hasher((self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
    }

    fn bytes(self, bytes: &[u8]) -> Self {
        bytes.iter().fold(self, |h, &b| h.byte(b))
    }
}

/// FNV's low bits mix poorly, so take the top bits of a Fibonacci multiply.
fn bucket(hasher: Hasher, shift: u32) -> u32 {
    (hasher.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as u32
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every bucket with the origin announced before it.
    #[derive(Default)]
    pub(crate) struct WithOrigins {
        pub found: Vec<(u32, Origin)>,
        origin: Option<Origin>,
    }

    impl Features for WithOrigins {
        fn origin(&mut self, origin: Origin) {
            self.origin = Some(origin);
        }

        fn bucket(&mut self, bucket: u32) {
            let origin = self.origin.expect("an origin comes before its buckets");
            self.found.push((bucket, origin));
        }
    }

    fn features(text: &str, settings: &FeatureSettings) -> Vec<(u32, Origin)> {
        let mut with_origins = WithOrigins::default();
        extract(&support_text::tokenize(text), settings, &mut with_origins);
        with_origins.found
    }

    /// The character n-grams, hashed one start at a time, are each gram's
    /// own hash, in length-then-position order, for any word length and
    /// any range of lengths (3-4, the embedded model's, too).
    #[test]
    fn char_ngrams_are_each_gram_hashed_whole_in_order() {
        for (char_min, char_max) in [(2, 5), (1, 1), (1, 8), (3, 3), (3, 4), (4, 7), (8, 8)] {
            let s = FeatureSettings {
                char_min,
                char_max,
                ..FeatureSettings::default()
            };
            char_ngrams_match_each_gram_hashed_whole(&s);
        }
    }

    fn char_ngrams_match_each_gram_hashed_whole(s: &FeatureSettings) {
        let shift = 64 - (u32::from(s.hash_bits) - 1);
        for text in [
            "a",
            "ab",
            "abc",
            "tarjeta",
            "¿Dónde está? 👍🏽 reembolsó",
            "x y zz 電子メール",
        ] {
            let tokens = support_text::tokenize(text);
            let mut expected = Vec::new();
            for word in tokens.iter().map(|t| format!(" {} ", t.norm)) {
                let chars: Vec<&str> = word
                    .char_indices()
                    .map(|(i, c)| &word[i..i + c.len_utf8()])
                    .collect();
                for n in usize::from(s.char_min)..=usize::from(s.char_max) {
                    if chars.len() <= n {
                        expected.push(bucket(Hasher::new(b'c').bytes(word.as_bytes()), shift));
                        break;
                    }
                    for gram in chars.windows(n) {
                        expected.push(bucket(
                            Hasher::new(b'c').bytes(gram.concat().as_bytes()),
                            shift,
                        ));
                    }
                }
            }
            let char_block = s.char_block_start();
            let got: Vec<u32> = features(text, s)
                .into_iter()
                .filter(|(b, _)| b & char_block != 0)
                .map(|(b, _)| b & !char_block)
                .collect();
            let expected: Vec<u32> = expected.into_iter().map(|b| b & !char_block).collect();
            assert_eq!(got, expected, "{text} with {s:?}");
        }
    }

    #[test]
    fn occurrences_never_exceed_the_room_reserved() {
        for (char_min, char_max, word_ngrams) in
            [(2, 5, 2), (1, 8, 3), (3, 3, 1), (1, 1, 2), (0, 0, 2)]
        {
            let s = FeatureSettings {
                char_min,
                char_max,
                word_ngrams,
                ..FeatureSettings::default()
            };
            for text in [
                "",
                "a",
                "ab cd",
                "¿Dónde está? 👍🏽 reembolsó",
                "x y zz 電子メール",
            ] {
                let tokens = support_text::tokenize(text);
                let found = features(text, &s).len();
                assert!(
                    found <= occurrences_at_most(&tokens, &s),
                    "{text} with {s:?}"
                );
            }
        }
    }

    #[test]
    fn folded_spellings_give_identical_features() {
        let s = FeatureSettings::default();
        assert_eq!(
            features("Facturación DUPLICADA", &s),
            features("facturacion duplicada", &s)
        );
    }

    #[test]
    fn counts_words_bigrams_and_char_ngrams() {
        let s = FeatureSettings::default();
        let f = features("my card", &s);
        let words = f
            .iter()
            .filter(|(_, o)| o.kind == FeatureKind::Word && o.words == 1)
            .count();
        let phrases = f
            .iter()
            .filter(|(_, o)| o.kind == FeatureKind::Phrase)
            .count();
        // "my" (+2 spaces = 4 chars): grams 2,3 → 3+2, 4 → whole once; plus the word itself.
        // "card" (6 chars): 5+4+3+2 grams; plus the word itself.
        assert_eq!(words, (1 + 3 + 2 + 1) + (1 + 5 + 4 + 3 + 2));
        assert_eq!(phrases, 1);
    }

    #[test]
    fn char_ngrams_count_characters_not_bytes() {
        let s = FeatureSettings {
            char_min: 3,
            char_max: 3,
            word_ngrams: 1,
            hash_bits: 16,
        };
        // "niño" folds to "nino": " nino " has 6 chars → 4 trigrams, plus the word.
        assert_eq!(features("niño", &s).len(), 5);
        // An emoji is one character: " 😡 " is 3 chars → 1 trigram, plus the word.
        assert_eq!(features("😡", &s).len(), 2);
    }

    #[test]
    fn buckets_stay_in_range_and_in_their_block() {
        let s = FeatureSettings {
            hash_bits: 10,
            ..FeatureSettings::default()
        };
        let f = features("¿Dónde está mi reembolso? Where is my refund?", &s);
        assert!(f.iter().all(|(b, _)| *b < 1024));
        // Words and bigrams hash into the lower half, character n-grams into the upper.
        let (words, grams): (Vec<&(u32, Origin)>, Vec<_>) =
            f.iter().partition(|(b, _)| *b < s.char_block_start());
        assert_eq!(words.len(), 8 + 7, "8 words and 7 bigrams");
        assert!(grams.len() > words.len());
    }

    #[test]
    fn hashing_never_changes() {
        // Saved models depend on these exact buckets: changing the hash
        // requires a new FORMAT_VERSION.
        let f = features("refund", &FeatureSettings::default());
        assert_eq!(f[0].0, 194_552);
        assert_eq!(f.last().unwrap().0, 508_549);
    }
}
