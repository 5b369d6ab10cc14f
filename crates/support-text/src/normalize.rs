//! Folding and tokenization: lower case, accents removed, so "Facturación",
//! "facturacion" and "FACTURACION" all read the same.

use compact_str::CompactString;

use crate::phrases::WordKeys;

/// Lower-cases and strips diacritics (`Está` → `esta`, `ñ` → `n`, `’` → `'`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char_into(c, &mut out);
    }
    out
}

/// The characters of [`fold`]`(text)`, one at a time: comparing folded
/// texts this way builds no copy of either.
pub fn folded_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    // As `fold_char_into`: an ASCII character is only lower-cased.
    text.chars().flat_map(|c| {
        let ascii = c.is_ascii();
        c.to_lowercase()
            .map(move |lower| if ascii { lower } else { strip_diacritic(lower) })
    })
}

fn fold_char_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for lower in c.to_lowercase() {
        out.push(strip_diacritic(lower));
    }
}

/// A lower-case character without its accent.
fn strip_diacritic(lower: char) -> char {
    match lower {
        'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        '’' | '‘' | '´' | '`' => '\'',
        other => other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    /// A pictographic emoji or a text emoticon such as `:(`.
    Emoji,
}

/// One word or emoji of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Folded form: lower case, no accents (emoji as written). Kept inline
    /// up to 24 bytes, so tokenizing allocates nothing for nearly every word.
    pub norm: CompactString,
    pub kind: TokenKind,
    /// Written in capitals (two letters or more), e.g. "NEVER".
    pub shouted: bool,
    /// The keys every phrase matcher looks the word up by, hashed once
    /// here rather than once per matcher (a ticket meets six).
    pub(crate) keys: WordKeys,
}

impl Token {
    /// The token of the folded word (or emoji) `norm`, with its phrase keys:
    /// matchers read those keys, so a token's `norm` is not changed after.
    pub fn new(norm: &str, kind: TokenKind, shouted: bool) -> Token {
        Token {
            norm: CompactString::new(norm),
            keys: WordKeys::of(norm),
            kind,
            shouted,
        }
    }

    /// A hash of `norm`, equal for equal words: a cheap first comparison
    /// for code grouping a text's equal words.
    pub fn word_hash(&self) -> u64 {
        self.keys.exact
    }
}

const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":(", ":-(", ":D", ":-D", ";)", ";-)", ":/", ":-/", ":'(", ":P", ":p", "<3", ":|",
    "XD", "xD", "D:",
];
/// Bytes in the longest of `EMOTICONS`: longer chunks skip the comparisons.
const LONGEST_EMOTICON: usize = 3;

/// Splits text into words and emoji. URLs and @mentions are dropped; a
/// hashtag counts as its word.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(text.len() / 6);
    Tokenizer::new().tokenize_into(text, &mut tokens);
    tokens
}

/// The folded words of `tokens` with a space between each two, as pieces:
/// how reasons quote a run of words and how the model names a phrase.
/// Collected, appended or compared byte by byte, with no copy of their own.
pub fn spaced_words(tokens: &[Token]) -> impl Iterator<Item = &str> + '_ {
    tokens
        .iter()
        .enumerate()
        .flat_map(|(i, token)| [if i == 0 { "" } else { " " }, token.norm.as_str()])
}

/// [`spaced_words`] as one string, allocated once.
pub fn joined_words(tokens: &[Token]) -> String {
    let mut text = String::with_capacity(tokens.iter().map(|t| t.norm.len() + 1).sum());
    text.extend(spaced_words(tokens));
    text
}

/// [`tokenize`] for texts read in parts (a ticket clause by clause): one
/// list takes the tokens of every part, and one word buffer serves them all.
pub struct Tokenizer {
    word: String,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer::new()
    }
}

impl Tokenizer {
    pub fn new() -> Self {
        Tokenizer {
            word: String::with_capacity(32),
        }
    }

    /// Appends the tokens of `text` to `tokens`.
    pub fn tokenize_into(&mut self, text: &str, tokens: &mut Vec<Token>) {
        if !text.is_ascii() {
            for chunk in text.split_whitespace() {
                self.chunk_into(chunk, chunk.is_ascii(), tokens);
            }
            return;
        }
        // Most texts are ASCII: their chunks are found byte by byte, without
        // decoding characters.
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if is_ascii_space(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !is_ascii_space(bytes[i]) {
                i += 1;
            }
            self.chunk_into(&text[start..i], true, tokens);
        }
    }

    /// The tokens of one chunk of text between white space.
    fn chunk_into(&mut self, chunk: &str, ascii: bool, tokens: &mut Vec<Token>) {
        let skipped = match chunk.as_bytes()[0] {
            b'@' => true,
            b'h' => chunk.starts_with("http://") || chunk.starts_with("https://"),
            b'w' => chunk.starts_with("www."),
            _ => false,
        };
        if skipped {
            return;
        }
        let trimmed = chunk.trim_matches(|c: char| c == ',' || c == '.' || c == '!' || c == '?');
        if trimmed.len() <= LONGEST_EMOTICON && EMOTICONS.contains(&trimmed) {
            tokens.push(Token::new(trimmed, TokenKind::Emoji, false));
            return;
        }
        if ascii {
            split_ascii_chunk(chunk, &mut self.word, tokens);
        } else {
            split_chunk(chunk, &mut self.word, tokens);
        }
    }
}

/// White space as [`char::is_whitespace`] reads it in ASCII: with the
/// vertical tab, which [`u8::is_ascii_whitespace`] leaves out.
fn is_ascii_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t'..=b'\r')
}

/// What each ASCII byte is to a word, looked up once per byte.
const ASCII_CLASS: [u8; 256] = {
    let mut class = [0; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() {
            class[b] |= STARTS_WORD | IN_WORD;
        }
        if byte == b'\'' {
            class[b] |= IN_WORD;
        }
        if byte.is_ascii_alphabetic() {
            class[b] |= LETTER;
        }
        if byte.is_ascii_uppercase() {
            class[b] |= UPPER;
        }
        b += 1;
    }
    class
};
const STARTS_WORD: u8 = 1;
const IN_WORD: u8 = 2;
const LETTER: u8 = 4;
const UPPER: u8 = 8;

/// [`split_chunk`] for a chunk of ASCII bytes (most of them): a word is a
/// letter or digit followed by letters, digits and apostrophes, less its
/// trailing apostrophes, and is copied only to lower-case it.
fn split_ascii_chunk(chunk: &str, word: &mut String, tokens: &mut Vec<Token>) {
    let bytes = chunk.as_bytes();
    let class = |i: usize| bytes.get(i).map_or(0, |&b| ASCII_CLASS[usize::from(b)]);
    let mut i = 0;
    while i < bytes.len() {
        if class(i) & STARTS_WORD == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let (mut letters, mut upper) = (0usize, 0usize);
        loop {
            let kind = class(i);
            if kind & IN_WORD == 0 {
                break;
            }
            letters += usize::from(kind & LETTER != 0);
            upper += usize::from(kind & UPPER != 0);
            i += 1;
        }
        // The run starts with a letter or digit, so trimming stops there.
        let written = chunk[start..i].trim_end_matches('\'');
        let shouted = letters >= 2 && upper == letters;
        let norm = if upper == 0 {
            written
        } else {
            word.clear();
            word.push_str(written);
            word.make_ascii_lowercase();
            word.as_str()
        };
        tokens.push(Token::new(norm, TokenKind::Word, shouted));
    }
    // `split_chunk` starts from an empty word.
    word.clear();
}

fn split_chunk(chunk: &str, word: &mut String, tokens: &mut Vec<Token>) {
    let mut letters = 0usize;
    let mut upper = 0usize;
    let flush =
        |word: &mut String, letters: &mut usize, upper: &mut usize, tokens: &mut Vec<Token>| {
            let w = word.trim_matches('\'');
            if !w.is_empty() {
                let shouted = *letters >= 2 && *upper == *letters;
                tokens.push(Token::new(w, TokenKind::Word, shouted));
            }
            word.clear();
            *letters = 0;
            *upper = 0;
        };
    for c in chunk.chars() {
        // Most text is ASCII: the same rules without Unicode tables.
        if c.is_ascii() {
            let b = c as u8;
            if b.is_ascii_alphanumeric() || (b == b'\'' && !word.is_empty()) {
                if b.is_ascii_alphabetic() {
                    letters += 1;
                    upper += usize::from(b.is_ascii_uppercase());
                }
                word.push(char::from(b.to_ascii_lowercase()));
            } else {
                flush(word, &mut letters, &mut upper, tokens);
            }
            continue;
        }
        if c.is_alphanumeric() || (is_apostrophe(c) && !word.is_empty()) {
            if c.is_alphabetic() {
                letters += 1;
                upper += usize::from(c.is_uppercase());
            }
            fold_char_into(c, word);
        } else {
            flush(word, &mut letters, &mut upper, tokens);
            if is_emoji(c) {
                tokens.push(Token::new(
                    c.encode_utf8(&mut [0; 4]),
                    TokenKind::Emoji,
                    false,
                ));
            }
        }
    }
    flush(word, &mut letters, &mut upper, tokens);
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x1F000..=0x1F2FF)
}

/// Splits text after sentence punctuation followed by a space (so URLs,
/// decimals and emoticons such as `;)` stay whole) and at line breaks.
pub fn clauses(text: &str) -> impl Iterator<Item = &str> {
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

    fn norms(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.norm.into()).collect()
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Facturación ÑANDÚ Está"), "facturacion nandu esta");
        let text = "Facturación ÑANDÚ Está İ ’x’ `y` 😡";
        assert_eq!(folded_chars(text).collect::<String>(), fold(text));
    }

    #[test]
    fn tokenizes_words_emoji_and_drops_noise() {
        assert_eq!(
            norms("@iberia ¡NO funciona! 😡 #ayuda https://t.co/x don't :("),
            ["no", "funciona", "😡", "ayuda", "don't", ":("]
        );
    }

    #[test]
    fn emoticons_fit_the_length_check() {
        assert!(EMOTICONS.iter().all(|e| e.len() <= LONGEST_EMOTICON));
    }

    #[test]
    fn ascii_and_unicode_text_split_alike() {
        assert_eq!(
            norms("Don’t STOP, l'été ‘99’ café-au-lait 3x4 NIÑO’s"),
            ["don't", "stop", "l'ete", "99", "cafe", "au", "lait", "3x4", "nino's"]
        );
        let shouted: Vec<bool> = tokenize("ÉSTE NO ok").iter().map(|t| t.shouted).collect();
        assert_eq!(shouted, [true, true, false]);
    }

    /// The byte-by-byte split of ASCII text finds the chunks `split_whitespace` does.
    #[test]
    fn ascii_white_space_is_unicode_white_space() {
        for byte in 0..128u8 {
            assert_eq!(
                is_ascii_space(byte),
                char::from(byte).is_whitespace(),
                "{byte:#x}"
            );
        }
        let text = "a\x0Bb\x0Cc\rd\te\nf  g";
        assert_eq!(norms(text), text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(
            norms("@ana http://x https://y www.z hola wwwx"),
            ["hola", "wwwx"]
        );
    }

    /// One tokenizer over a text's parts gives each part's own tokens, in
    /// order: its word buffer carries nothing from one part to the next.
    #[test]
    fn one_tokenizer_over_parts_tokenizes_each_part_alone() {
        let parts = ["Hola, NIÑO", "’s café", "don'", "t 😡", "", "https://x ok"];
        let mut tokenizer = Tokenizer::new();
        let mut together = Vec::new();
        for part in parts {
            tokenizer.tokenize_into(part, &mut together);
        }
        let alone: Vec<Token> = parts.iter().flat_map(|part| tokenize(part)).collect();
        assert_eq!(together, alone);
        assert_eq!(together.len(), 8);
    }

    /// Every ASCII chunk up to five bytes long over letters of both cases,
    /// a digit, apostrophes and punctuation splits the same on both paths.
    #[test]
    fn ascii_chunks_split_as_on_the_general_path() {
        let alphabet = b"aZ9'.-";
        let mut chunk = Vec::new();
        for length in 1..=5u32 {
            for mut n in 0..alphabet.len().pow(length) {
                chunk.clear();
                for _ in 0..length {
                    chunk.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let chunk = std::str::from_utf8(&chunk).unwrap();
                let (mut fast, mut general) = (Vec::new(), Vec::new());
                let mut word = String::new();
                split_ascii_chunk(chunk, &mut word, &mut fast);
                assert!(word.is_empty(), "{chunk:?} left a word behind");
                split_chunk(chunk, &mut word, &mut general);
                assert_eq!(fast, general, "{chunk:?}");
            }
        }
        let mut tokens = Vec::new();
        split_ascii_chunk("DON'T'' x9Y", &mut String::new(), &mut tokens);
        let split: Vec<(&str, bool)> = tokens
            .iter()
            .map(|t| (t.norm.as_str(), t.shouted))
            .collect();
        assert_eq!(split, [("don't", true), ("x9y", false)]);
    }

    #[test]
    fn words_are_joined_by_single_spaces() {
        let tokens = tokenize("No  funciona, ¡NADA! 😡");
        assert_eq!(joined_words(&tokens), "no funciona nada 😡");
        assert_eq!(
            spaced_words(&tokens).collect::<String>(),
            joined_words(&tokens)
        );
        assert_eq!(joined_words(&tokens[..1]), "no");
        assert_eq!(joined_words(&[]), "");
    }

    #[test]
    fn marks_shouting() {
        let t = tokenize("This is NEVER OK a I");
        let shouted: Vec<bool> = t.iter().map(|t| t.shouted).collect();
        assert_eq!(shouted, [false, false, true, true, false, false]);
    }
}
