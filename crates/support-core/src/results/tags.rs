//! The `tags` result: tags with their confidence and evidence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `tags` key a ticket gets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tags {
    /// One entry per tag name, most confident first.
    pub tags: Vec<Tag>,
    /// Mean confidence of the tags; with no tag, 1 minus the confidence of the
    /// strongest tag left out (1.0 when no rule matched at all).
    pub confidence: f64,
    /// One line per tag (and per tag left out) naming its rule, words and field.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tag {
    /// The tag, e.g. `billing`, `frustrated`, `channel:whatsapp`.
    pub name: String,
    /// In [0, 1].
    pub confidence: f64,
    /// The strongest evidence for the tag.
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    pub kind: SourceKind,
    /// The rule: a keyword/custom rule's name, or the configuration key of a
    /// derived tag (e.g. `sentiment_labels.negative`, `frustration`, `tiers.vip`).
    pub rule: String,
    /// Words that matched (folded: lower case, no accents), merged over every
    /// rule that found this tag; empty for derived tags.
    pub words: Vec<String>,
    /// Where the evidence is: `subject`, `description`, `messages[2].content`,
    /// `customer.tier`, `sentiment.frustration`, ...
    pub field: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Keyword,
    Sentiment,
    Priority,
    Tier,
    Channel,
    Category,
    Custom,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Keyword => "keyword",
            SourceKind::Sentiment => "sentiment",
            SourceKind::Priority => "priority",
            SourceKind::Tier => "tier",
            SourceKind::Channel => "channel",
            SourceKind::Category => "category",
            SourceKind::Custom => "custom",
        }
    }
}

/// What later tools read of an earlier `tags` result (lenient, borrowed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EarlierTags<'a> {
    #[serde(default, borrow)]
    pub tags: Vec<EarlierTag<'a>>,
}

/// One tag of [`EarlierTags`].
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct EarlierTag<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    #[serde(default)]
    pub confidence: Option<f64>,
}

impl<'a> super::Reading<'a> for EarlierTags<'a> {
    type Of = Tags;

    fn of(result: &'a Tags) -> Self {
        EarlierTags {
            tags: result
                .tags
                .iter()
                .map(|tag| EarlierTag {
                    name: &tag.name,
                    confidence: Some(tag.confidence),
                })
                .collect(),
        }
    }
}
