//! `support-categorize evaluate`: accuracy, macro-F1, per-class figures, the
//! most confused pairs and the review threshold for a target precision.

use std::fmt::Write as _;

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
pub fn evaluate(categorizer: &Categorizer, examples: &[Example], target_precision: f64) -> Evaluation {
    let level = if examples.iter().all(|e| categorizer.model().labels().contains(&e.label)) {
        Level::Label
    } else {
        Level::Category
    };
    let predictions: Vec<(String, f32)> = examples
        .iter()
        .map(|example| {
            let category = categorizer.categorize(&Ticket::from_text(&example.text));
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
    Evaluation {
        model: categorizer.model_name.clone(),
        level,
        report: metrics::evaluate(&scored, &[target_precision]),
    }
}

/// The evaluation as a table for people.
pub fn table(evaluation: &Evaluation) -> String {
    let r = &evaluation.report;
    let mut out = String::new();
    let _ = writeln!(out, "model     {}", evaluation.model);
    let _ = writeln!(out, "examples  {}", r.count);
    let _ = writeln!(out, "accuracy  {:.4}", r.accuracy);
    let _ = writeln!(out, "macro F1   {:.4}\n", r.macro_f1);
    let width = r.per_class.iter().map(|c| c.label.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(out, "{:<width$}  precision  recall     f1  support", "class");
    for c in &r.per_class {
        let _ = writeln!(out, "{:<width$}  {:>9.3}  {:>6.3}  {:>5.3}  {:>7}", c.label, c.precision, c.recall, c.f1, c.support);
    }
    if !r.confusions.is_empty() {
        let _ = writeln!(out, "\nmost confused (truth -> predicted)");
        for c in r.confusions.iter().take(10) {
            let _ = writeln!(out, "  {:>4}  {} -> {}", c.count, c.truth, c.predicted);
        }
    }
    for p in &r.operating_points {
        let _ = writeln!(
            out,
            "\nthreshold {:.3} reaches precision {:.3} (target {:.2}) on {:.1}% of tickets",
            p.threshold,
            p.precision,
            p.target_precision,
            p.coverage * 100.0
        );
    }
    out
}
