//! Text handling shared by the tools.
pub mod lang;
pub mod normalize;
pub mod phrases;

pub use lang::Detection;
pub use lang::{detect_language, Language, OtherLanguage};
pub use normalize::TokenKind;
pub use normalize::{fold, folded_chars, tokenize, Token};
pub use phrases::{matched_text, PhraseMatch, PhraseSet};
