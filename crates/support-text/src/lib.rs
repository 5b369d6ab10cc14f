//! Text handling shared by the tools.
mod hash;
pub mod lang;
pub mod normalize;
pub mod phrases;

pub use hash::{HashedMap, KeyIsHash, WordHasher, WordMap};
pub use lang::Detection;
pub use lang::{Language, LanguageEvidence, OtherLanguage};
pub use normalize::TokenKind;
pub use normalize::{
    clauses, fold, folded_chars, joined_words, spaced_words, tokenize, Token, Tokenizer,
};
pub use phrases::{matched_text, PhraseMatch, PhraseSet};
