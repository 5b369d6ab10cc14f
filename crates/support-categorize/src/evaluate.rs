//! `support-categorize evaluate`: accuracy, macro-F1, per-class figures, the
//! most confused pairs and the review threshold for a target precision.

use anyhow::Context as _;
use serde::Serialize;
use support_core::Ticket;
use support_model::metrics::{self, Report, Scored};
use support_model::Example;

use crate::Categorizer;

/// Whether gold labels are the model's own labels (intents) or category names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Label,
    Category,
}

#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub level: Level,
    #[serde(flatten)]
    pub report: Report,
}

/// Categorizes every example's text as a ticket description and scores it.
pub fn evaluate(
    categorizer: &Categorizer,
    examples: &[Example],
    target_precision: f64,
) -> anyhow::Result<Evaluation> {
    let level = if examples
        .iter()
        .all(|e| categorizer.model().labels().contains(&e.label))
    {
        Level::Label
    } else {
        Level::Category
    };
    let tickets: Vec<Ticket<'_>> = examples
        .iter()
        .map(|e| Ticket::from_text(&e.text))
        .collect();
    if let Some((embedder, max_tokens)) = categorizer.embedder() {
        embedder
            .embed_tickets(&tickets, max_tokens)
            .context("embedding the examples")?;
    }
    let predictions: Vec<(String, f32)> = tickets
        .iter()
        .map(|ticket| {
            let category = categorizer.categorize(ticket);
            let predicted = match level {
                Level::Label => category.subcategory.unwrap_or(category.name),
                Level::Category => category.name,
            };
            (predicted, category.confidence as f32)
        })
        .collect();
    let scored: Vec<Scored<'_>> = examples
        .iter()
        .zip(&predictions)
        .map(|(example, (predicted, confidence))| Scored {
            truth: &example.label,
            predicted,
            confidence: *confidence,
        })
        .collect();
    Ok(Evaluation {
        model: categorizer.model_name.clone(),
        level,
        report: metrics::evaluate(&scored, &[target_precision]),
    })
}

/// The evaluation as a table for people.
pub fn table(evaluation: &Evaluation) -> String {
    format!(
        "model     {}\n{}",
        evaluation.model,
        evaluation.report.table()
    )
}
