//! Language detection from function words and orthography.
//!
//! The tools analyse Spanish and English, so the decision that matters is
//! between those two: a small closed vocabulary of function words makes it,
//! at the cost of a hash lookup per token, and works on the shortest tickets.
//! Function words of Portuguese, French, Catalan, German and Italian are
//! counted too, so a ticket in one of them is said to be in it ([`Detection::other`])
//! instead of passing silently for Spanish or English.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::hash::{word_hash, HashedMap, WordMap};
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
    /// Spanish or English: the closer of the two, whose lexicons the tools use.
    pub language: Language,
    pub confidence: f64,
    /// A language other than Spanish and English the text is written in,
    /// when its evidence beats both.
    pub other: Option<OtherLanguage>,
}

/// A language the tools have no lexicons for, by its ISO 639-1 code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OtherLanguage {
    pub code: &'static str,
    /// Its share of all the evidence, in (0, 1].
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

/// Languages without lexicons: code, function words (folded) frequent in it
/// and rare in the others, and letters only it (of these) writes.
const OTHERS: &[(&str, &[&str], &[char])] = &[
    (
        "pt",
        &[
            "nao", "voce", "obrigado", "obrigada", "meu", "minha", "uma", "com", "isso", "esse",
            "essa", "ela", "eles", "ola", "estou", "tenho", "gostaria", "sua", "ja", "muito",
            "tambem", "quando", "onde", "ainda", "aqui", "entao", "do", "da", "dos", "das", "na",
            "nas", "ao", "aos", "pelo", "pela", "foi", "sao", "sem", "conta", "minhas", "meus",
            "pode", "poderia", "atraves", "seja", "eu", "endereco", "ate", "recebi", "nenhum",
            "nenhuma", "agora", "hoje", "ontem", "amanha", "dinheiro", "comprei", "quero",
            "preciso",
        ],
        &['ã', 'õ'],
    ),
    (
        "fr",
        &[
            "je", "vous", "nous", "est", "et", "des", "du", "une", "pas", "mon", "ma", "pour",
            "avec", "dans", "qui", "ce", "cette", "bonjour", "merci", "depuis", "commande", "suis",
            "ai", "tres", "au", "aux", "votre", "vos", "il", "elle", "ne", "n'est", "j'ai",
            "c'est", "d'un", "d'une", "l'on", "sont", "avez", "pouvez",
        ],
        &['ê', 'â', 'î', 'ô', 'û', 'ë', 'ï', 'œ'],
    ),
    (
        "ca",
        &[
            "els",
            "amb",
            "puc",
            "meva",
            "vull",
            "tinc",
            "aquest",
            "aquesta",
            "molt",
            "gracies",
            "comanda",
            "nosaltres",
            "vosaltres",
            "ahir",
            "avui",
            "encara",
            "tambe",
            "doncs",
            "perque",
            "feu",
            "podeu",
            "sisplau",
            "bon",
            "meus",
            "seva",
        ],
        &[],
    ),
    (
        "de",
        &[
            "ich",
            "und",
            "der",
            "die",
            "das",
            "nicht",
            "ist",
            "ein",
            "eine",
            "mit",
            "fur",
            "mein",
            "meine",
            "sie",
            "wir",
            "haben",
            "bitte",
            "danke",
            "auf",
            "zu",
            "von",
            "den",
            "dem",
            "bei",
            "kann",
            "konnen",
            "wie",
            "hallo",
            "geehrte",
            "geehrter",
            "freundlichen",
            "grussen",
            "ihre",
            "ihnen",
            "uber",
            "noch",
            "sehr",
            "wurde",
            "keine",
        ],
        &['ß', 'ä', 'ö', 'ü'],
    ),
    (
        "it",
        &[
            "il",
            "di",
            "che",
            "non",
            "sono",
            "della",
            "mio",
            "mia",
            "grazie",
            "buongiorno",
            "ciao",
            "ho",
            "questo",
            "questa",
            "anche",
            "ancora",
            "gli",
            "piu",
            "perche",
            "essere",
            "vorrei",
            "posso",
            "ordine",
            "nel",
            "sul",
        ],
        &[],
    ),
];

/// Whose function word a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    Es,
    En,
    /// Index into [`OTHERS`].
    Other(usize),
}

/// The function words that belong to one language only, built once: this
/// runs for every token of every ticket, so a lookup, not a scan of the lists.
/// Spanish and English keep every word the other lacks; another language's
/// word counts only if no other list has it. Keyed by the words' hashes, which
/// every token carries: a lookup hashes nothing (no two of the words share a
/// hash, `function_words_have_hashes_of_their_own`).
fn function_words() -> &'static HashedMap<(&'static str, Evidence)> {
    static WORDS: OnceLock<HashedMap<(&'static str, Evidence)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        // Which lists hold each word, one bit a list (Spanish, English, then
        // OTHERS): one pass over the lists, where scanning them per word was
        // most of a start-up's detection cost.
        const ES: u16 = 1;
        const EN: u16 = 2;
        let other_bit = |i: usize| 4u16 << i;
        let mut lists: WordMap<&'static str, u16> = WordMap::default();
        let all = [(SPANISH, ES), (ENGLISH, EN)].into_iter().chain(
            OTHERS
                .iter()
                .enumerate()
                .map(|(i, (_, list, _))| (*list, other_bit(i))),
        );
        for (list, bit) in all {
            for &word in list {
                *lists.entry(word).or_default() |= bit;
            }
        }
        let mut words = HashedMap::default();
        for (word, held) in lists {
            let evidence = match held & (ES | EN) {
                ES => Some(Evidence::Es),
                EN => Some(Evidence::En),
                0 => (0..OTHERS.len())
                    .find(|&i| held == other_bit(i))
                    .map(Evidence::Other),
                _ => None,
            };
            words.extend(evidence.map(|evidence| (word_hash(word.as_bytes()), (word, evidence))));
        }
        words
    })
}

/// Whose function word `word` is, if any; `hash` is its [`word_hash`].
fn function_word(word: &str, hash: u64) -> Option<Evidence> {
    match function_words().get(&hash) {
        Some(&(function_word, evidence)) if function_word == word => Some(evidence),
        _ => None,
    }
}

/// Spanish orthography (`ñ`, `¿`, `¡`, accented vowels) and each other
/// language's own letters in `texts`, counted in one pass over each; at most
/// 4 of each, since a few accents are evidence and a long text's many are
/// not more of it.
fn letter_counts<'t>(texts: impl IntoIterator<Item = &'t str>) -> (f64, [f64; OTHERS.len()]) {
    const CAP: usize = 4;
    let mut spanish = 0;
    let mut others = [0usize; OTHERS.len()];
    // Most texts are all ASCII, which a word-at-a-time check tells at once.
    for c in texts
        .into_iter()
        .filter(|text| !text.is_ascii())
        .flat_map(str::chars)
        .filter(|c| !c.is_ascii())
    {
        if matches!(c, 'ñ' | 'Ñ' | '¿' | '¡' | 'á' | 'é' | 'í' | 'ó' | 'ú') {
            spanish = (spanish + 1).min(CAP);
        } else if let Some(i) = OTHERS
            .iter()
            .position(|(_, _, letters)| letters.contains(&c))
        {
            others[i] = (others[i] + 1).min(CAP);
        }
    }
    (spanish as f64, others.map(|n| n as f64))
}

/// The other language whose evidence beats Spanish's and English's, if any.
fn other_language(others: &[f64], es: f64, en: f64) -> Option<OtherLanguage> {
    let (best, &score) = others
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let total: f64 = es + en + others.iter().sum::<f64>();
    (score >= 2.0 && score > es.max(en)).then(|| OtherLanguage {
        code: OTHERS[best].0,
        confidence: (score + 1.0) / (total + 2.0),
    })
}

/// The evidence of a text's language: function words and letters counted
/// per language. Counted once per ticket; each tool then decides with its
/// own fallback ([`LanguageEvidence::detect`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LanguageEvidence {
    es: f64,
    en: f64,
    others: [f64; OTHERS.len()],
}

impl LanguageEvidence {
    /// The evidence in `tokens` (from [`crate::tokenize`]) and in the
    /// letters of `texts`, the texts they came from.
    pub fn of<'t>(tokens: &[Token], texts: impl IntoIterator<Item = &'t str>) -> Self {
        let mut evidence = LanguageEvidence::default();
        for token in tokens {
            match function_word(&token.norm, token.word_hash()) {
                Some(Evidence::Es) => evidence.es += 1.0,
                Some(Evidence::En) => evidence.en += 1.0,
                Some(Evidence::Other(i)) => evidence.others[i] += 1.0,
                None => {}
            }
        }
        let (spanish_letters, other_letters) = letter_counts(texts);
        evidence.es += 1.5 * spanish_letters;
        for (score, letters) in evidence.others.iter_mut().zip(other_letters) {
            *score += 1.5 * letters;
        }
        evidence
    }

    /// Decides between Spanish and English, and says when the text is in
    /// another language (see [`Detection::other`]). With no evidence for
    /// either Spanish or English, the language is `fallback` at confidence 0.5.
    pub fn detect(&self, fallback: Language) -> Detection {
        let (es, en) = (self.es, self.en);
        let other = other_language(&self.others, es, en);
        if es == en {
            return Detection {
                language: fallback,
                confidence: 0.5,
                other,
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
            other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tokenize;

    /// The lookup by hash finds a word only if no other word has its hash.
    #[test]
    fn function_words_have_hashes_of_their_own() {
        let mut word_of_hash = std::collections::HashMap::new();
        let lists = [SPANISH, ENGLISH]
            .into_iter()
            .chain(OTHERS.iter().map(|(_, list, _)| *list));
        for &word in lists.flatten() {
            let first = *word_of_hash
                .entry(word_hash(word.as_bytes()))
                .or_insert(word);
            assert_eq!(first, word, "two function words share a hash");
        }
    }

    #[test]
    fn a_function_word_counts_for_the_one_language_that_owns_it() {
        let owner = |word: &str| function_word(word, word_hash(word.as_bytes()));
        assert_eq!(owner("de"), Some(Evidence::Es));
        assert_eq!(owner("mas"), Some(Evidence::Es));
        assert_eq!(owner("the"), Some(Evidence::En));
        // In English's list and Portuguese's: Spanish and English win over the others.
        assert_eq!(owner("do"), Some(Evidence::En));
        // In Spanish's list and English's: evidence for neither.
        assert_eq!(owner("me"), None);
        let other = |code: &str| {
            OTHERS
                .iter()
                .position(|(c, _, _)| *c == code)
                .map(Evidence::Other)
        };
        assert_eq!(owner("nao"), other("pt"));
        assert_eq!(owner("ma"), other("fr"));
        // In French's list and Italian's: evidence for neither.
        assert_eq!(owner("il"), None);
    }

    fn detect(text: &str) -> Detection {
        LanguageEvidence::of(&tokenize(text), [text]).detect(Language::En)
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
    fn other_languages_are_named_not_passed_off_as_spanish_or_english() {
        for (text, code) in [
            (
                "Olá, não consigo acessar minha conta desde ontem, já tentei tudo",
                "pt",
            ),
            (
                "Eu gostaria de saber se o meu pedido já foi enviado para o endereço",
                "pt",
            ),
            (
                "Bonjour, je n'arrive pas à accéder à mon compte depuis hier, merci",
                "fr",
            ),
            (
                "Bon dia, no puc accedir al meu compte des d'ahir, gràcies",
                "ca",
            ),
            (
                "Sehr geehrte Damen und Herren, ich kann mich nicht in mein Konto einloggen",
                "de",
            ),
            (
                "Buongiorno, non riesco ad accedere al mio account, grazie",
                "it",
            ),
        ] {
            let d = detect(text);
            assert_eq!(d.other.map(|o| o.code), Some(code), "{text}: {d:?}");
        }
        for text in [
            "Hola, no puedo acceder a mi cuenta desde ayer, ya lo intenté todo",
            "¿Dónde está mi pedido? Lo pagué hace una semana",
            "Hi, I can't log in to my account since yesterday",
            "The invoice is wrong, please fix it",
        ] {
            assert_eq!(detect(text).other, None, "{text}");
        }
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Language::parse("es-MX"), Some(Language::Es));
        assert_eq!(Language::parse("EN"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }
}
