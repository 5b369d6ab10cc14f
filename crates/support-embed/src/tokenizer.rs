//! multilingual-e5-small's SentencePiece Unigram tokenizer, built from the
//! vocabulary inside the weights file. The `tokenizers` crate reads the same
//! vocabulary from `tokenizer.json`, but builds a trie of its 250,002 pieces
//! at every start: 0.68 s here, where loading the whole model with this
//! tokenizer takes 0.10 s. Both give the same ids on 3,165 of 3,166 real
//! es/en texts (the other is a tie between two segmentations); the figures
//! come from `examples/tokenizer-check`, and a test checks the examples.

use std::collections::HashMap;
use support_text::WordMap;

use crate::e5s1::Vocabulary;
use crate::EmbedError;

/// SentencePiece's word-boundary marker, which replaces spaces.
const METASPACE: char = '\u{2581}';
const METASPACE_UTF8: &[u8] = "\u{2581}".as_bytes();

pub struct Tokenizer {
    pieces: WordMap<Box<[u8]>, u32>,
    scores: Vec<f32>,
    /// Characters the model's normalizer rewrites (NFKC-like folding).
    normalization: HashMap<char, String>,
    unknown: u32,
    unknown_score: f32,
    longest_piece: usize,
    /// No piece holds the word marker past its first character, so every
    /// segmentation breaks before each marker and each word can be
    /// segmented alone (true of this model's vocabulary).
    words_apart: bool,
    pub begin: u32,
    pub end: u32,
}

impl Tokenizer {
    pub fn from_vocabulary(v: &Vocabulary<'_>) -> Result<Self, EmbedError> {
        let corrupt = |what: &str| EmbedError::Corrupt(format!("its vocabulary {what}"));
        let u32s = |bytes: &[u8]| -> Vec<u32> {
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        let offsets = u32s(v.offsets);
        let scores: Vec<f32> = u32s(v.scores).into_iter().map(f32::from_bits).collect();
        let mut pieces = WordMap::default();
        pieces.reserve(scores.len());
        let mut longest_piece = 1;
        let mut words_apart = true;
        for (id, bounds) in offsets.windows(2).enumerate() {
            let piece = v
                .blob
                .get(bounds[0] as usize..bounds[1] as usize)
                .ok_or_else(|| corrupt("points past its pieces"))?;
            if id as u32 == v.unknown || piece.is_empty() {
                continue;
            }
            longest_piece = longest_piece.max(piece.len());
            words_apart &= !piece[1..]
                .windows(METASPACE_UTF8.len())
                .any(|w| w == METASPACE_UTF8);
            pieces.entry(piece.into()).or_insert(id as u32);
        }
        words_apart &= pieces.contains_key(METASPACE_UTF8);
        let lowest = scores.iter().copied().fold(f32::INFINITY, f32::min);
        Ok(Self {
            pieces,
            normalization: normalization_map(v.normalization, v.normalization_entries)
                .ok_or_else(|| corrupt("normalization map ends early"))?,
            // SentencePiece's penalty for a character no piece covers.
            unknown_score: lowest - 10.0,
            scores,
            unknown: v.unknown,
            longest_piece,
            words_apart,
            begin: v.begin,
            end: v.end,
        })
    }

    /// Token ids of `text` without `<s>` and `</s>`, at least the first
    /// `wanted` of them (all when the text has fewer): normalized, spaces
    /// collapsed and turned into the word marker, then the most probable
    /// segmentation into pieces (Viterbi), word by word, so the rest of a
    /// long text is never segmented.
    pub fn encode(&self, text: &str, wanted: usize) -> Vec<u32> {
        let mut normalized = String::with_capacity(text.len() + 3);
        let mut previous_space = false;
        for c in text.chars() {
            let replaced = self.normalization.get(&c);
            for c in replaced.map_or_else(|| Chars::One(Some(c)), |s| Chars::Many(s.chars())) {
                let space = c == ' ';
                if !(space && previous_space) {
                    normalized.push(c);
                }
                previous_space = space;
            }
        }
        let mut text = String::with_capacity(normalized.len() + 3);
        if !normalized.starts_with(' ') {
            text.push(METASPACE);
        }
        text.extend(
            normalized
                .chars()
                .map(|c| if c == ' ' { METASPACE } else { c }),
        );
        if !self.words_apart {
            return self.segment(&text);
        }
        // Every word starts with the marker (the text's first too), which
        // is a piece: no run of unknown characters spans two words.
        let mut ids = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() && ids.len() < wanted {
            let end = rest[METASPACE.len_utf8()..]
                .find(METASPACE)
                .map_or(rest.len(), |at| at + METASPACE.len_utf8());
            let (word, after) = rest.split_at(end);
            ids.extend(self.segment(word));
            rest = after;
        }
        ids
    }

    fn segment(&self, text: &str) -> Vec<u32> {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let chars = bounds.len() - 1;
        // best[e]: the best score of a segmentation of the first e chars,
        // reached by the piece `from[e].1` starting at char `from[e].0`.
        let mut best = vec![f32::NEG_INFINITY; chars + 1];
        let mut from = vec![(0usize, self.unknown); chars + 1];
        best[0] = 0.0;
        let bytes = text.as_bytes();
        for start in 0..chars {
            if best[start] == f32::NEG_INFINITY {
                continue;
            }
            for end in start + 1..=chars {
                let piece = &bytes[bounds[start]..bounds[end]];
                if piece.len() > self.longest_piece {
                    break;
                }
                if let Some(&id) = self.pieces.get(piece) {
                    let score = best[start] + self.scores[id as usize];
                    if score > best[end] {
                        best[end] = score;
                        from[end] = (start, id);
                    }
                }
            }
            let unknown = best[start] + self.unknown_score;
            if unknown > best[start + 1] {
                best[start + 1] = unknown;
                from[start + 1] = (start, self.unknown);
            }
        }
        let mut ids = Vec::new();
        let mut at = chars;
        while at > 0 {
            let (start, id) = from[at];
            // A run of unknown characters is one unknown token, as in
            // SentencePiece and Hugging Face's Unigram.
            if !(id == self.unknown && ids.last() == Some(&self.unknown)) {
                ids.push(id);
            }
            at = start;
        }
        ids.reverse();
        ids
    }
}

enum Chars<'a> {
    One(Option<char>),
    Many(std::str::Chars<'a>),
}

impl Iterator for Chars<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            Chars::One(c) => c.take(),
            Chars::Many(chars) => chars.next(),
        }
    }
}

fn normalization_map(mut bytes: &[u8], entries: usize) -> Option<HashMap<char, String>> {
    fn u32_at(bytes: &mut &[u8]) -> Option<u32> {
        let (head, rest) = bytes.split_first_chunk::<4>()?;
        *bytes = rest;
        Some(u32::from_le_bytes(*head))
    }
    let mut map = HashMap::with_capacity(entries);
    for _ in 0..entries {
        let from = u32_at(&mut bytes)?;
        let (&count, rest) = bytes.split_first()?;
        bytes = rest;
        let mut to = String::new();
        for _ in 0..count {
            to.extend(char::from_u32(u32_at(&mut bytes)?));
        }
        if let Some(from) = char::from_u32(from) {
            map.insert(from, to);
        }
    }
    Some(map)
}
