//! The `category` result: category, intent, alternatives and whether a person should review.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `category` key a ticket gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Category {
    /// The category, e.g. `refund`.
    pub name: String,
    /// The model's label inside the category (the intent), e.g. `get_refund`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    /// Probability of the category in [0, 1].
    pub confidence: f64,
    /// The next most likely categories.
    pub alternatives: Vec<Alternative>,
    /// The confidence is under the review threshold: a person should check.
    pub needs_review: bool,
    /// What decided: `model`, `remote`, `rules` (a forcing rule), or `model+rules` / `remote+rules`.
    pub source: String,
    /// Which model answered: the embedded one, a `--model` file, or the remote service.
    pub model: String,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alternative {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    pub confidence: f64,
}

/// What later tools read of an earlier `category` result (lenient, borrowed).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct EarlierCategory<'a> {
    #[serde(default, borrow)]
    pub name: Option<&'a str>,
    #[serde(default)]
    pub confidence: Option<f64>,
}

impl<'a> super::Reading<'a> for EarlierCategory<'a> {
    type Of = Category;

    fn of(result: &'a Category) -> Self {
        EarlierCategory {
            name: Some(&result.name),
            confidence: Some(result.confidence),
        }
    }
}
