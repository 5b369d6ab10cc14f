//! Evaluation of labelled predictions from any classifier: accuracy, macro
//! F1, per-class precision/recall/F1, confusions, and the confidence
//! threshold that reaches a target precision with the coverage it keeps.
//! Definitions follow scikit-learn (`classification_report`; a class never
//! predicted has precision 0; macro F1 averages over every label seen in
//! truths or predictions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One prediction to score: the true label, the predicted one, and the
/// classifier's confidence in its prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored<'a> {
    pub truth: &'a str,
    pub predicted: &'a str,
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of items whose true label is this one.
    pub support: usize,
    /// Number of items predicted as this label.
    pub predicted: usize,
}

/// Items of label `truth` predicted as `predicted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub truth: String,
    pub predicted: String,
    pub count: usize,
}

/// What accepting only predictions with `confidence >= threshold` gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The precision that was asked for.
    pub target_precision: f64,
    pub threshold: f32,
    /// Accuracy of the accepted predictions.
    pub precision: f64,
    /// Share of all items accepted.
    pub coverage: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub count: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Every label seen, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// Off-diagonal confusion counts, most frequent first.
    pub confusions: Vec<Confusion>,
    /// One entry per requested target precision that some threshold reaches.
    pub operating_points: Vec<OperatingPoint>,
}

impl Report {
    /// The report as a plain-text table for people.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "examples  {}", self.count);
        let _ = writeln!(out, "accuracy  {:.4}", self.accuracy);
        let _ = writeln!(out, "macro F1  {:.4}\n", self.macro_f1);
        let width = self
            .per_class
            .iter()
            .map(|c| c.label.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            out,
            "{:<width$}  precision  recall     f1  support",
            "class"
        );
        for c in &self.per_class {
            let _ = writeln!(
                out,
                "{:<width$}  {:>9.3}  {:>6.3}  {:>5.3}  {:>7}",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
        if !self.confusions.is_empty() {
            let _ = writeln!(out, "\nmost confused (truth -> predicted)");
            for c in self.confusions.iter().take(10) {
                let _ = writeln!(out, "  {:>4}  {} -> {}", c.count, c.truth, c.predicted);
            }
        }
        for p in &self.operating_points {
            let _ = writeln!(
                out,
                "\nthreshold {:.3} reaches precision {:.3} (target {:.2}) on {:.1}% of items",
                p.threshold,
                p.precision,
                p.target_precision,
                p.coverage * 100.0
            );
        }
        out
    }
}

/// Scores `items`, adding an operating point for each of `target_precisions`
/// that can be reached.
pub fn evaluate(items: &[Scored<'_>], target_precisions: &[f64]) -> Report {
    #[derive(Default)]
    struct Counts {
        support: usize,
        predicted: usize,
        correct: usize,
    }
    let mut classes: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut confusions: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for item in items {
        classes.entry(item.truth).or_default().support += 1;
        classes.entry(item.predicted).or_default().predicted += 1;
        if item.truth == item.predicted {
            classes.get_mut(item.truth).expect("inserted above").correct += 1;
        } else {
            *confusions.entry((item.truth, item.predicted)).or_default() += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_class: Vec<ClassMetrics> = classes
        .iter()
        .map(|(label, c)| {
            let precision = ratio(c.correct, c.predicted);
            let recall = ratio(c.correct, c.support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support: c.support,
                predicted: c.predicted,
            }
        })
        .collect();
    let correct: usize = classes.values().map(|c| c.correct).sum();
    let mut confusions: Vec<Confusion> = confusions
        .into_iter()
        .map(|((truth, predicted), count)| Confusion {
            truth: truth.into(),
            predicted: predicted.into(),
            count,
        })
        .collect();
    // Stable sort: equal counts stay in label order.
    confusions.sort_by_key(|c| std::cmp::Reverse(c.count));
    Report {
        count: items.len(),
        accuracy: ratio(correct, items.len()),
        macro_f1: if per_class.is_empty() {
            0.0
        } else {
            per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len() as f64
        },
        per_class,
        confusions,
        operating_points: target_precisions
            .iter()
            .filter_map(|&t| threshold_for_precision(items, t))
            .collect(),
    }
}

/// The lowest confidence threshold whose accepted predictions (those with
/// `confidence >= threshold`) reach `target_precision`, i.e. the one that
/// keeps the most items; `None` if no threshold reaches it.
pub fn threshold_for_precision(
    items: &[Scored<'_>],
    target_precision: f64,
) -> Option<OperatingPoint> {
    let mut by_confidence: Vec<&Scored<'_>> = items.iter().collect();
    by_confidence.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut best = None;
    let mut correct = 0usize;
    for (index, item) in by_confidence.iter().enumerate() {
        correct += usize::from(item.truth == item.predicted);
        // A threshold accepts every item of equal confidence, so only score
        // after the last of a run of equal confidences.
        let run_continues = by_confidence
            .get(index + 1)
            .is_some_and(|next| next.confidence == item.confidence);
        if run_continues {
            continue;
        }
        let accepted = index + 1;
        let precision = correct as f64 / accepted as f64;
        if precision >= target_precision {
            best = Some(OperatingPoint {
                target_precision,
                threshold: item.confidence,
                precision,
                coverage: accepted as f64 / items.len() as f64,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(truth: &'a str, predicted: &'a str, confidence: f32) -> Scored<'a> {
        Scored {
            truth,
            predicted,
            confidence,
        }
    }

    #[test]
    fn matches_hand_computed_metrics() {
        // truth:     a a a b b c
        // predicted: a a b b c c
        let items = [
            item("a", "a", 0.9),
            item("a", "a", 0.8),
            item("a", "b", 0.4),
            item("b", "b", 0.7),
            item("b", "c", 0.3),
            item("c", "c", 0.6),
        ];
        let report = evaluate(&items, &[]);
        assert_eq!(report.count, 6);
        assert!((report.accuracy - 4.0 / 6.0).abs() < 1e-12);
        // a: P 2/2, R 2/3, F1 0.8; b: P 1/2, R 1/2, F1 0.5; c: P 1/2, R 1/1, F1 2/3.
        let f1: Vec<f64> = report.per_class.iter().map(|c| c.f1).collect();
        let expected = [0.8, 0.5, 2.0 / 3.0];
        for (got, want) in f1.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{f1:?}");
        }
        assert!((report.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        let a = &report.per_class[0];
        assert_eq!((a.label.as_str(), a.support, a.predicted), ("a", 3, 2));
        assert!((a.precision - 1.0).abs() < 1e-12 && (a.recall - 2.0 / 3.0).abs() < 1e-12);
        let pairs: Vec<(&str, &str, usize)> = report
            .confusions
            .iter()
            .map(|c| (c.truth.as_str(), c.predicted.as_str(), c.count))
            .collect();
        assert_eq!(pairs, [("a", "b", 1), ("b", "c", 1)]);
    }

    #[test]
    fn never_predicted_class_has_zero_precision() {
        let report = evaluate(&[item("a", "b", 0.5), item("b", "b", 0.5)], &[]);
        assert_eq!(report.per_class[0].precision, 0.0);
        assert_eq!(report.per_class[0].f1, 0.0);
        assert!((report.macro_f1 - (0.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn finds_lowest_threshold_reaching_precision() {
        // Sorted by confidence: ✓0.9 ✓0.8 ✗0.7 ✓0.6 ✓0.5 ✗0.2
        let items = [
            item("x", "x", 0.5),
            item("x", "y", 0.7),
            item("x", "x", 0.9),
            item("y", "x", 0.2),
            item("y", "y", 0.8),
            item("y", "y", 0.6),
        ];
        // Prefix precisions: 1, 1, 2/3, 3/4, 4/5, 4/6.
        let p = threshold_for_precision(&items, 0.8).unwrap();
        assert_eq!(p.threshold, 0.5);
        assert!((p.precision - 0.8).abs() < 1e-12 && (p.coverage - 5.0 / 6.0).abs() < 1e-12);
        let p = threshold_for_precision(&items, 0.95).unwrap();
        assert_eq!(p.threshold, 0.8);
        assert!((p.coverage - 2.0 / 6.0).abs() < 1e-12);
        assert!(threshold_for_precision(&[item("x", "y", 0.9)], 0.5).is_none());
    }

    #[test]
    fn equal_confidences_are_accepted_together() {
        // At 0.9 both items are accepted: precision 1/2, never 1.
        let items = [item("x", "x", 0.9), item("x", "y", 0.9)];
        assert!(threshold_for_precision(&items, 0.75).is_none());
        let report = evaluate(&items, &[0.5, 0.99]);
        assert_eq!(report.operating_points.len(), 1);
        assert_eq!(report.operating_points[0].coverage, 1.0);
    }

    #[test]
    fn report_round_trips_through_json() {
        let report = evaluate(&[item("a", "a", 0.9), item("b", "a", 0.4)], &[0.9]);
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }
}
