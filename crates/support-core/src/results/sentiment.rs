//! The `sentiment` result: polarity, frustration, trend and language of the customer's text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use support_text::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    /// The label named `name` (trimmed, any case), as labelled data and models write it.
    pub fn parse(name: &str) -> Option<Label> {
        let name = name.trim();
        Label::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(name))
    }

    /// The label of a polarity `score`: neutral inside the band, else its sign.
    pub fn of(score: f64, neutral_band: f64) -> Label {
        if score >= neutral_band {
            Label::Positive
        } else if score <= -neutral_band {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Worsening,
    Stable,
    Improving,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Worsening => "worsening",
            Trend::Stable => "stable",
            Trend::Improving => "improving",
        }
    }
}

/// Where `language` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LanguageSource {
    /// The ticket's `language` field.
    Given,
    /// Detected from the text (the ticket gave none, or one other than es/en).
    Detected,
}

/// The score of one user message of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MessageScore {
    /// Position of the message in the ticket's `messages`.
    pub index: usize,
    /// Polarity in [-1, 1].
    pub score: f64,
    pub label: Label,
}

/// The `sentiment` key a ticket gets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Sentiment {
    pub label: Label,
    /// Polarity in [-1, 1] over all the customer's text.
    pub score: f64,
    /// Emotional urgency in [0, 1], separate from polarity: repeated contact,
    /// threats to cancel or leave, insults, shouting, runs of `!`.
    pub frustration: f64,
    /// Language whose lexicon was used.
    pub language: Language,
    /// The language the text was detected in when it is neither Spanish nor
    /// English (ISO 639-1, e.g. `pt`, `fr`, `ca`, `de`, `it`): `language` is
    /// then only the closer lexicon, and the scores are less sure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_language: Option<String>,
    pub language_source: LanguageSource,
    /// How sure the label is, in [0, 1]: the margin from the neutral band, and
    /// the amount and agreement of the evidence.
    pub confidence: f64,
    /// Direction of the user's messages (needs two or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    /// Score of each user message, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageScore>,
    /// The words that moved the score and the frustration, the trend and the language.
    pub reasons: Vec<String>,
}

/// What later tools read of an earlier `sentiment` result: each field
/// optional and borrowed, so a partial result (from an older version, or
/// written by another system) still gives what it has.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct EarlierSentiment<'a> {
    #[serde(default, borrow)]
    pub label: Option<&'a str>,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub frustration: Option<f64>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default, borrow)]
    pub language: Option<&'a str>,
    #[serde(default, borrow)]
    pub detected_language: Option<&'a str>,
    #[serde(default)]
    pub trend: Option<Trend>,
}

impl<'a> super::Reading<'a> for EarlierSentiment<'a> {
    type Of = Sentiment;

    fn of(result: &'a Sentiment) -> Self {
        EarlierSentiment {
            label: Some(result.label.as_str()),
            score: Some(result.score),
            frustration: Some(result.frustration),
            confidence: Some(result.confidence),
            language: Some(result.language.code()),
            detected_language: result.detected_language.as_deref(),
            trend: result.trend,
        }
    }
}

/// The sentiment figures priority and escalation weigh, and where they came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentimentReading {
    /// Polarity in [-1, 1].
    pub score: f64,
    /// Emotional urgency in [0, 1].
    pub frustration: f64,
    pub trend: Option<Trend>,
    /// Read from the ticket's `sentiment` key rather than computed for it.
    pub from_earlier_result: bool,
}

impl SentimentReading {
    /// The figures of an earlier result that has both a score and a frustration.
    pub fn earlier(earlier: &EarlierSentiment<'_>) -> Option<SentimentReading> {
        Some(SentimentReading {
            score: earlier.score?.clamp(-1.0, 1.0),
            frustration: earlier.frustration?.clamp(0.0, 1.0),
            trend: earlier.trend,
            from_earlier_result: true,
        })
    }

    /// The figures of a sentiment computed for the ticket.
    pub fn computed(sentiment: &Sentiment) -> SentimentReading {
        SentimentReading {
            score: sentiment.score,
            frustration: sentiment.frustration,
            trend: sentiment.trend,
            from_earlier_result: false,
        }
    }

    /// Where the figures came from, for reasons.
    pub fn source(&self) -> &'static str {
        if self.from_earlier_result {
            "from the earlier sentiment result"
        } else {
            "computed"
        }
    }
}
