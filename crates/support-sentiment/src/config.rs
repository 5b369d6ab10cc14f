//! The typed configuration read from `defaults/sentiment.yaml` (or `--config`).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use support_text::{tokenize, Language, TokenKind};

use crate::DEFAULT_CONFIG_JSON;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentConfig {
    /// Language used when a ticket gives none and its text has no evidence either way.
    pub fallback_language: Language,
    pub scoring: ScoringConfig,
    pub frustration: FrustrationConfig,
    pub trend: TrendConfig,
    /// Weight of each emoji or emoticon, keyed as the tokenizer reads it.
    #[serde(deserialize_with = "emoji_weights")]
    pub emoji: HashMap<String, f64>,
    pub languages: Languages,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

impl SentimentConfig {
    /// Refuses values the scoring cannot use (they would give NaN or
    /// out-of-range outputs), naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        fn check(key: &str, value: f64, ok: bool, expected: &str) -> anyhow::Result<()> {
            anyhow::ensure!(ok, "config key `{key}` is {value}; it must be {expected}");
            Ok(())
        }
        let band = self.scoring.neutral_band;
        check(
            "scoring.neutral_band",
            band,
            0.0 < band && band < 1.0,
            "between 0 and 1 (exclusive)",
        )?;
        let normalization = self.scoring.normalization;
        check(
            "scoring.normalization",
            normalization,
            normalization > 0.0,
            "above 0",
        )?;
        let dead_band = self.trend.dead_band;
        check("trend.dead_band", dead_band, dead_band >= 0.0, "0 or more")?;
        let w = &self.frustration.weights;
        for (name, weight) in [
            ("repeated_contact", w.repeated_contact),
            ("threat", w.threat),
            ("insult", w.insult),
            ("shouting", w.shouting),
            ("exclamations", w.exclamations),
        ] {
            let key = format!("frustration.weights.{name}");
            check(
                &key,
                weight,
                (0.0..=1.0).contains(&weight),
                "between 0 and 1",
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    /// `score = sum / sqrt(sum² + normalization)`: larger values need more evidence to approach ±1.
    pub normalization: f64,
    /// Scores with an absolute value below this are neutral.
    pub neutral_band: f64,
    /// How many tokens after a negator a polar word is still negated.
    pub negation_window: usize,
    /// Factor applied to a negated positive word ("not good").
    pub negated_positive: f64,
    /// Factor applied to a negated negative word ("not bad").
    pub negated_negative: f64,
    /// How many tokens after an intensifier or downtoner a polar word is still modified.
    pub modifier_window: usize,
    /// Factor for a polar word written in capitals.
    pub shouted_emphasis: f64,
    /// Added to the magnitude of a text's sum for each `!`, up to `max_exclamations`.
    pub exclamation_emphasis: f64,
    pub max_exclamations: usize,
    /// Factor for positive evidence in a text that asks something: "can you
    /// DM me? thanks" is politeness more than praise.
    pub question_positive: f64,
    /// Factor for negative evidence inside a question: "is my flight
    /// delayed?" is an inquiry more than a complaint.
    pub question_negative: f64,
    /// Value of a negator that negates no polar word: in support, "no refund
    /// yet", "still not there" are complaints even without a polar word.
    pub bare_negation: f64,
    /// Factor for positive evidence in a text that also complains: there,
    /// praise is mostly politeness or sarcasm ("great system you got there").
    pub mixed_positive: f64,
    /// Factors for the evidence before and after a contrast word ("nice crew, but...").
    pub contrast_before: f64,
    pub contrast_after: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationConfig {
    /// Contribution of each kind of cue; kinds combine as `1 - Π(1 - weight)`.
    pub weights: FrustrationWeights,
    /// Shouting needs this many words in capitals of at least `shouting_min_letters` letters.
    pub shouting_min_words: usize,
    pub shouting_min_letters: usize,
    /// A run of at least this many `!` (or `¡`) counts as an exclamation run.
    pub exclamation_run: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationWeights {
    pub repeated_contact: f64,
    pub threat: f64,
    pub insult: f64,
    pub shouting: f64,
    pub exclamations: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendConfig {
    /// Change in score over the user messages (fitted line) below which the trend is stable.
    pub dead_band: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Languages {
    pub es: Lexicon,
    pub en: Lexicon,
}

/// The words of one language. Phrases are folded like the text (case and
/// accents do not matter); a trailing `*` matches any word starting so.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    /// Positive phrases and their weight.
    #[serde(deserialize_with = "unique_weights")]
    pub positive: BTreeMap<String, f64>,
    /// Negative phrases and their weight (a magnitude: the list gives the sign).
    #[serde(deserialize_with = "unique_weights")]
    pub negative: BTreeMap<String, f64>,
    /// Words that say nothing alone but are negative when negated ("no funciona").
    #[serde(deserialize_with = "unique_weights")]
    pub negative_when_negated: BTreeMap<String, f64>,
    /// Phrases that contain polar words but are not polar ("buenos días").
    pub neutral: Vec<String>,
    pub negators: Vec<String>,
    /// Multipliers above 1 for the next polar word.
    #[serde(deserialize_with = "unique_weights")]
    pub intensifiers: BTreeMap<String, f64>,
    /// Multipliers below 1 for the next polar word.
    #[serde(deserialize_with = "unique_weights")]
    pub downtoners: BTreeMap<String, f64>,
    /// Words after which the rest of the text weighs more ("but", "pero").
    pub contrast: Vec<String>,
    pub frustration: FrustrationPhrases,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationPhrases {
    pub repeated_contact: Vec<String>,
    /// Threats to cancel, leave, complain to an authority or sue.
    pub threat: Vec<String>,
    /// Insults and profanity.
    pub insult: Vec<String>,
    /// Phrases that contain a cue but are not one ("thanks again").
    pub exceptions: Vec<String>,
}

/// Reads a `phrase: weight` map, refusing a phrase given twice (YAML would
/// silently keep the last one).
fn unique_weights<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, f64>, D::Error> {
    struct UniqueWeights;
    impl<'de> Visitor<'de> for UniqueWeights {
        type Value = BTreeMap<String, f64>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of phrase: weight")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((phrase, weight)) = map.next_entry::<String, f64>()? {
                match out.entry(phrase) {
                    Entry::Vacant(entry) => {
                        entry.insert(weight);
                    }
                    Entry::Occupied(entry) => {
                        let phrase = entry.key();
                        return Err(de::Error::custom(format!("`{phrase}` is listed twice")));
                    }
                }
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(UniqueWeights)
}

/// Reads the emoji weights keyed as the tokenizer reads them (so `❤️` and `❤`
/// are the same key), refusing a key that is not one emoji or emoticon.
fn emoji_weights<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HashMap<String, f64>, D::Error> {
    let written = unique_weights(deserializer)?;
    let mut out = HashMap::with_capacity(written.len());
    for (key, weight) in written {
        let tokens = tokenize(&key);
        match tokens.as_slice() {
            [token] if token.kind == TokenKind::Emoji => {
                if out.insert(token.norm.to_string(), weight).is_some() {
                    return Err(de::Error::custom(format!("`{key}` is listed twice")));
                }
            }
            _ => {
                return Err(de::Error::custom(format!(
                    "`{key}` is not a single emoji or emoticon"
                )))
            }
        }
    }
    Ok(out)
}
