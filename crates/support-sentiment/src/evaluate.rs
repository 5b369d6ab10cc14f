//! `evaluate --data FILE.csv`: classification metrics of a labelled CSV.
//!
//! Everything but [`evaluate_csv`] is generic over label strings and knows
//! nothing of sentiment, so other classifiers can report the same metrics.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde::Serialize;
use support_core::{round3, Ticket};

use crate::{Analyzer, Label};

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// How many examples have this gold label.
    pub support: u64,
}

/// What `evaluate` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub examples: u64,
    pub accuracy: f64,
    /// Unweighted mean of the labels' F1, so rare labels count as much as common ones.
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// `confusion[gold][predicted]`: how many examples of each gold label got each prediction.
    pub confusion: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Counts of (gold, predicted) pairs over a fixed set of labels.
#[derive(Debug, Clone)]
pub struct Confusion {
    labels: Vec<String>,
    /// `counts[gold][predicted]`, indexed like `labels`.
    counts: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new<S: AsRef<str>>(labels: impl IntoIterator<Item = S>) -> Self {
        let labels: Vec<String> = labels.into_iter().map(|l| l.as_ref().to_string()).collect();
        let counts = vec![vec![0; labels.len()]; labels.len()];
        Confusion { labels, counts }
    }

    fn index(&self, label: &str) -> anyhow::Result<usize> {
        match self.labels.iter().position(|l| l == label) {
            Some(i) => Ok(i),
            None => bail!("label '{label}' is not one of {}", self.labels.join(", ")),
        }
    }

    /// Counts one example; fails on a label outside the set.
    pub fn add(&mut self, gold: &str, predicted: &str) -> anyhow::Result<()> {
        let (g, p) = (self.index(gold)?, self.index(predicted)?);
        self.counts[g][p] += 1;
        Ok(())
    }

    /// Accuracy, per-label precision/recall/F1 (0 where undefined) and macro-F1.
    pub fn report(&self) -> Report {
        let examples: u64 = self.counts.iter().flatten().sum();
        let correct: u64 = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        let ratio = |num: u64, den: u64| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let mut per_class = BTreeMap::new();
        let mut f1_sum = 0.0;
        for (i, label) in self.labels.iter().enumerate() {
            let true_positives = self.counts[i][i];
            let support: u64 = self.counts[i].iter().sum();
            let predicted: u64 = self.counts.iter().map(|row| row[i]).sum();
            let precision = ratio(true_positives, predicted);
            let recall = ratio(true_positives, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            f1_sum += f1;
            per_class.insert(
                label.clone(),
                ClassMetrics {
                    precision: round3(precision),
                    recall: round3(recall),
                    f1: round3(f1),
                    support,
                },
            );
        }
        let confusion = self
            .labels
            .iter()
            .zip(&self.counts)
            .map(|(gold, row)| {
                (
                    gold.clone(),
                    self.labels
                        .iter()
                        .cloned()
                        .zip(row.iter().copied())
                        .collect(),
                )
            })
            .collect();
        Report {
            examples,
            accuracy: round3(ratio(correct, examples)),
            macro_f1: round3(if self.labels.is_empty() {
                0.0
            } else {
                f1_sum / self.labels.len() as f64
            }),
            per_class,
            confusion,
        }
    }
}

/// Classifies the `text_column` of every row of a CSV (with a header) and
/// compares with its `label_column` (trimmed, lower-cased).
pub fn evaluate_labelled_csv<P: AsRef<str>>(
    data: &Path,
    text_column: &str,
    label_column: &str,
    labels: &[&str],
    mut predict: impl FnMut(&str) -> P,
) -> anyhow::Result<Report> {
    let mut reader =
        csv::Reader::from_path(data).with_context(|| format!("cannot read {}", data.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", data.display()))?;
    let column = |name: &str| {
        headers.iter().position(|h| h == name).with_context(|| {
            format!(
                "{} has no column `{name}` (columns: {})",
                data.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let (text_at, label_at) = (column(text_column)?, column(label_column)?);
    let mut confusion = Confusion::new(labels);
    for record in reader.records() {
        let record = record.with_context(|| format!("cannot read {}", data.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let (Some(text), Some(gold)) = (record.get(text_at), record.get(label_at)) else {
            bail!(
                "{}:{line}: row has fewer columns than the header",
                data.display()
            );
        };
        let gold = gold.trim().to_lowercase();
        confusion
            .add(&gold, predict(text).as_ref())
            .with_context(|| format!("{}:{line}", data.display()))?;
    }
    Ok(confusion.report())
}

/// The sentiment report of a labelled CSV (labels negative/neutral/positive).
pub fn evaluate_csv(
    analyzer: &Analyzer,
    data: &Path,
    text: &str,
    label: &str,
) -> anyhow::Result<serde_json::Value> {
    let labels = Label::ALL.map(Label::as_str);
    let report = evaluate_labelled_csv(data, text, label, &labels, |text| {
        let mut ticket = Ticket::default();
        ticket.description = Some(text);
        analyzer.analyze(&ticket).label.as_str()
    })?;
    Ok(serde_json::to_value(report)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_example() {
        // gold a: predicted a, a, b; gold b: predicted b; gold c: predicted a.
        let mut c = Confusion::new(["a", "b", "c"]);
        for (gold, predicted) in [("a", "a"), ("a", "a"), ("a", "b"), ("b", "b"), ("c", "a")] {
            c.add(gold, predicted).unwrap();
        }
        let r = c.report();
        assert_eq!(r.examples, 5);
        assert_eq!(r.accuracy, 0.6);
        // a: P = 2/3, R = 2/3, F1 = 2/3; b: P = 1/2, R = 1, F1 = 2/3; c: never predicted, F1 = 0.
        assert_eq!(r.per_class["a"].f1, 0.667);
        assert_eq!(r.per_class["b"].precision, 0.5);
        assert_eq!(r.per_class["b"].f1, 0.667);
        assert_eq!(r.per_class["c"].f1, 0.0);
        assert_eq!(r.per_class["c"].support, 1);
        assert_eq!(r.macro_f1, 0.444);
        assert_eq!(r.confusion["c"]["a"], 1);
        assert_eq!(r.confusion["a"]["b"], 1);
    }

    /// A CSV in a fresh temporary directory, removed on drop.
    struct TempCsv(std::path::PathBuf);

    impl TempCsv {
        fn new(name: &str, contents: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("support-sentiment-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("data.csv");
            std::fs::write(&path, contents).unwrap();
            TempCsv(path)
        }
    }

    impl Drop for TempCsv {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    #[test]
    fn evaluates_a_csv_with_named_columns() {
        // Predictions are clear-cut; two gold labels are deliberately wrong.
        let csv = TempCsv::new(
            "eval",
            "id,tweet,sentiment\n\
             1,\"Excelente servicio, muchas gracias\",positive\n\
             2,\"El pedido llegó roto, pésimo\",Negative\n\
             3,¿A qué hora abre la oficina?,neutral\n\
             4,\"Thank you so much, great help\",negative\n\
             5,Where is gate 5?,positive\n",
        );
        let report = evaluate_csv(&Analyzer::default(), &csv.0, "tweet", "sentiment").unwrap();
        // Confusion (gold → predicted): positive → {positive, neutral}; negative → {negative, positive};
        // neutral → {neutral}. positive: P = 1/2, R = 1/2, F1 = 0.5; negative: P = 1, R = 1/2,
        // F1 = 2/3; neutral: P = 1/2, R = 1, F1 = 2/3. Macro-F1 = (0.5 + 2/3 + 2/3) / 3 = 0.611.
        assert_eq!(report["examples"], 5);
        assert_eq!(report["accuracy"], 0.6);
        assert_eq!(report["macro_f1"], 0.611);
        assert_eq!(report["per_class"]["negative"]["precision"], 1.0);
        assert_eq!(report["per_class"]["negative"]["recall"], 0.5);
        assert_eq!(report["per_class"]["neutral"]["f1"], 0.667);
        assert_eq!(report["per_class"]["positive"]["support"], 2);
        assert_eq!(report["confusion"]["negative"]["positive"], 1);
        assert_eq!(report["confusion"]["positive"]["neutral"], 1);
    }

    #[test]
    fn csv_errors_name_the_problem() {
        let csv = TempCsv::new("bad-label", "text,label\nhola,happy\n");
        let err = format!(
            "{:#}",
            evaluate_csv(&Analyzer::default(), &csv.0, "text", "label").unwrap_err()
        );
        assert!(
            err.contains("data.csv:2")
                && err.contains("'happy' is not one of negative, neutral, positive"),
            "{err}"
        );
        let err = evaluate_csv(&Analyzer::default(), &csv.0, "body", "label")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column `body` (columns: text, label)"),
            "{err}"
        );
    }

    #[test]
    fn unknown_label_is_refused() {
        let mut c = Confusion::new(["a", "b"]);
        let err = c.add("z", "a").unwrap_err().to_string();
        assert!(err.contains("'z' is not one of a, b"), "{err}");
    }
}
