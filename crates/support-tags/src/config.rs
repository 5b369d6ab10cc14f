//! The configuration of tagging; `defaults/tags.yaml` explains every field.

use std::collections::BTreeMap;

use serde::Deserialize;
use support_core::FieldName;
use support_text::Language;

use crate::DEFAULT_CONFIG_JSON;

/// The configuration; `defaults/tags.yaml` explains every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsConfig {
    /// Tags below this confidence are left out.
    pub min_confidence: Fraction,
    /// Language for `when.language` when neither ticket, sentiment nor text tells.
    pub fallback_language: Language,
    /// The shipped keyword rules.
    pub keywords: Vec<Rule>,
    /// The user's own rules (same shape); their tags have `source.kind: custom`.
    pub custom: Vec<Rule>,
    /// `sentiment.label` → tag.
    pub sentiment_labels: BTreeMap<String, String>,
    /// A tag when `sentiment.frustration` reaches a threshold.
    pub frustration: Option<FrustrationTag>,
    /// `priority.level` → tag.
    pub priority_levels: BTreeMap<String, String>,
    /// `customer.tier` → tag.
    pub tiers: BTreeMap<String, String>,
    /// Prefix of the tag naming the ticket's channel (`channel:whatsapp`); null: no channel tag.
    pub channel_prefix: Option<String>,
    /// Prefix of the tag naming the category (`category:billing`); null: no category tag.
    pub category_prefix: Option<String>,
}

impl Default for TagsConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// A keyword rule: its tag is added when one of its phrases occurs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The tag to add.
    pub name: String,
    /// Words or phrases (accent/case-insensitive, trailing `*` for a prefix).
    pub phrases: Vec<String>,
    /// Confidence of one match; more distinct matches raise it.
    pub confidence: Fraction,
    /// Phrases that cancel a match they overlap ("no es urgente" cancels "urgente").
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to look; empty means all the customer's text.
    #[serde(default)]
    pub fields: Vec<TextKind>,
    /// Conditions on the ticket, all of which must hold.
    #[serde(default)]
    pub when: Conditions,
}

/// The kinds of customer text a rule can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    Subject,
    /// The main text: `description`, or `body` which is its alias.
    #[serde(alias = "body")]
    Description,
    /// The customer's messages in the transcript.
    Messages,
}

impl TextKind {
    pub(crate) fn of(field: FieldName) -> TextKind {
        match field {
            FieldName::Subject => TextKind::Subject,
            FieldName::Description | FieldName::Body => TextKind::Description,
            FieldName::Message(_) => TextKind::Messages,
        }
    }
}

/// Conditions on the ticket; an empty list does not restrict.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub language: Vec<Language>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationTag {
    pub threshold: Fraction,
    pub tag: String,
}

/// A number in [0, 1], checked when the configuration is read so a bad value
/// is reported with its file, line and key.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Deserialize)]
#[serde(try_from = "f64")]
pub struct Fraction(f64);

impl Fraction {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Fraction {
    type Error = String;

    fn try_from(x: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&x) {
            Ok(Fraction(x))
        } else {
            Err(format!("{x} is not between 0 and 1"))
        }
    }
}
