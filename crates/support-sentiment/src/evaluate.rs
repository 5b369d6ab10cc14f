//! `support-sentiment evaluate`: the analyzer's labels against a labelled
//! file, scored with the same metrics as every classifier of the suite.

use anyhow::{bail, Context as _};
use support_core::Ticket;
use support_model::metrics::{self, Report, Scored};
use support_model::Example;

use crate::trained::{SentimentModel, EMBEDDING_TOKENS};
use crate::{Analyzer, Label};

/// Scores the analyzer on examples labelled negative/neutral/positive (any case).
pub fn evaluate(analyzer: &Analyzer, examples: &[Example]) -> anyhow::Result<Report> {
    let truths = labels(examples)?;
    let tickets: Vec<Ticket<'_>> = examples
        .iter()
        .map(|e| Ticket::from_text(&e.text))
        .collect();
    if let Some(embedder) = analyzer.model().and_then(SentimentModel::embedder) {
        embedder
            .embed_tickets(&tickets, EMBEDDING_TOKENS)
            .context("embedding the examples")?;
    }
    let predictions: Vec<(Label, f64)> = tickets
        .iter()
        .map(|ticket| {
            let sentiment = analyzer.analyze(ticket);
            (sentiment.label, sentiment.confidence)
        })
        .collect();
    let scored: Vec<Scored<'_>> = truths
        .iter()
        .zip(&predictions)
        .map(|(truth, (label, confidence))| Scored {
            truth: truth.as_str(),
            predicted: label.as_str(),
            confidence: *confidence as f32,
        })
        .collect();
    Ok(metrics::evaluate(&scored, &[]))
}

/// The label of each example, or an error naming the first that is not
/// negative, neutral or positive.
pub(crate) fn labels(examples: &[Example]) -> anyhow::Result<Vec<Label>> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| match Label::parse(&e.label) {
            Some(label) => Ok(label),
            None => bail!(
                "example {}: label `{}` is not negative, neutral or positive",
                i + 1,
                e.label.trim()
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, label: &str) -> Example {
        Example {
            text: text.into(),
            label: label.into(),
        }
    }

    #[test]
    fn scores_the_analyzer_and_names_a_bad_label() {
        let analyzer = Analyzer::default();
        let examples = [
            example("Thank you so much, great service!", "positive"),
            example("This is terrible, nothing works", "Negative"),
            example("¿A qué hora abre la oficina?", "neutral"),
        ];
        let report = evaluate(&analyzer, &examples).unwrap();
        assert_eq!(report.count, 3);
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(report.per_class.len(), 3);
        let err = evaluate(&analyzer, &[example("x", "mixed")]).unwrap_err();
        assert!(
            err.to_string().contains("example 1: label `mixed`"),
            "{err}"
        );
    }
}
