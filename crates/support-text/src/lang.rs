//! Spanish/English language detection from function words and orthography.
//!
//! Two languages only, so a small closed vocabulary decides better on short
//! tickets than a general detector, and in nanoseconds.

use std::collections::HashMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::normalize::Token;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Es,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Es => "es",
            Language::En => "en",
        }
    }

    /// Reads a language code such as `es`, `es-MX`, `EN`, `spanish`.
    pub fn parse(code: &str) -> Option<Language> {
        let code = code.trim().to_ascii_lowercase();
        let base = code.split(['-', '_']).next().unwrap_or("");
        match base {
            "es" | "spa" | "spanish" | "espanol" | "español" => Some(Language::Es),
            "en" | "eng" | "english" => Some(Language::En),
            _ => None,
        }
    }
}

/// The detected language and how sure the detector is, in [0.5, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub language: Language,
    pub confidence: f64,
}

// Function words frequent in one language and rare in the other (folded).
const SPANISH: &[&str] = &[
    "de", "la", "que", "el", "en", "y", "los", "se", "del", "las", "un", "por", "con", "una", "su",
    "para", "es", "al", "lo", "como", "mas", "pero", "sus", "le", "ya", "este", "si", "porque",
    "esta", "entre", "cuando", "muy", "sin", "sobre", "tambien", "me", "hasta", "hay", "donde",
    "desde", "todo", "nos", "todos", "les", "ni", "otro", "eso", "esto", "mi", "mis", "tu", "te",
    "yo", "nada", "hola", "gracias", "puedo", "tengo", "necesito", "quiero", "estoy", "pedido",
    "cuenta", "factura", "ayuda", "favor", "funciona", "vez", "dias", "hace", "aun", "todavia",
    "ahora", "pago", "cobro", "servicio", "buenos", "buenas", "saludos", "usted", "ustedes",
    "nadie", "siempre", "nunca",
];
const ENGLISH: &[&str] = &[
    "the", "and", "to", "of", "in", "is", "it", "you", "that", "i", "for", "on", "was", "with",
    "my", "this", "have", "be", "are", "not", "but", "at", "can", "your", "do", "me", "we", "they",
    "what", "from", "or", "an", "will", "would", "there", "been", "has", "had", "just", "get",
    "please", "thanks", "thank", "hi", "hello", "order", "account", "help", "still", "why", "how",
    "when", "did", "does", "don't", "can't", "i'm", "it's", "again", "time", "days", "need",
    "want", "our", "us", "any", "all", "no", "now", "again", "working", "doesn't", "won't",
    "isn't",
];

/// The function words that belong to one language only, built once: this
/// runs for every token of every ticket, so a lookup, not a scan of both lists.
fn function_words() -> &'static HashMap<&'static str, Language> {
    static WORDS: OnceLock<HashMap<&'static str, Language>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = HashMap::new();
        for (list, other, language) in [
            (SPANISH, ENGLISH, Language::Es),
            (ENGLISH, SPANISH, Language::En),
        ] {
            words.extend(
                list.iter()
                    .filter(|w| !other.contains(w))
                    .map(|&w| (w, language)),
            );
        }
        words
    })
}

/// Decides between Spanish and English. With no evidence at all, returns
/// `fallback` at confidence 0.5.
pub fn detect_language(tokens: &[Token], raw: &str, fallback: Language) -> Detection {
    let mut es = 0.0f64;
    let mut en = 0.0f64;
    let words = function_words();
    for token in tokens {
        match words.get(token.norm.as_str()) {
            Some(Language::Es) => es += 1.0,
            Some(Language::En) => en += 1.0,
            None => {}
        }
    }
    // Orthography only Spanish uses.
    es += 1.5
        * raw
            .chars()
            .filter(|c| matches!(c, 'ñ' | 'Ñ' | '¿' | '¡' | 'á' | 'é' | 'í' | 'ó' | 'ú'))
            .count()
            .min(4) as f64;
    if es == en {
        return Detection {
            language: fallback,
            confidence: 0.5,
        };
    }
    let (language, winner) = if es > en {
        (Language::Es, es)
    } else {
        (Language::En, en)
    };
    // Laplace-smoothed share of the evidence.
    let confidence = (winner + 1.0) / (es + en + 2.0);
    Detection {
        language,
        confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tokenize;

    fn detect(text: &str) -> Detection {
        detect_language(&tokenize(text), text, Language::En)
    }

    #[test]
    fn detects_spanish_even_without_accents() {
        assert_eq!(
            detect("no puedo entrar a mi cuenta desde ayer").language,
            Language::Es
        );
        assert_eq!(detect("¿Dónde está mi pedido?").language, Language::Es);
    }

    #[test]
    fn detects_english() {
        let d = detect("I still can't log in to my account, please help");
        assert_eq!(d.language, Language::En);
        assert!(d.confidence > 0.8);
    }

    #[test]
    fn no_evidence_falls_back() {
        let d = detect("12345 ok");
        assert_eq!(d.language, Language::En);
        assert_eq!(d.confidence, 0.5);
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Language::parse("es-MX"), Some(Language::Es));
        assert_eq!(Language::parse("EN"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }
}
