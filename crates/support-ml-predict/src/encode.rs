//! Categorical values as numbers: one-hot columns for the linear models,
//! target encodings for the trees.

use std::collections::{BTreeMap, HashMap};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::schema::Inputs;

/// One-hot columns: per feature, its values seen at least `min_count` times
/// (sorted), then one `other` column shared by rarer values and values never
/// seen in training. Each record has exactly one active column per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneHot {
    pub vocabularies: Vec<Vec<String>>,
}

/// The active column of one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub index: usize,
    /// False when the value fell into the `other` column.
    pub known: bool,
}

impl OneHot {
    pub fn fit(rows: &[&Inputs], width: usize, min_count: usize) -> OneHot {
        let vocabularies = (0..width)
            .map(|feature| {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for row in rows {
                    *counts.entry(row.0[feature].as_str()).or_default() += 1;
                }
                counts
                    .into_iter()
                    .filter(|&(_, n)| n >= min_count.max(1))
                    .map(|(value, _)| value.to_string())
                    .collect()
            })
            .collect();
        OneHot { vocabularies }
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.vocabularies.iter().map(|v| v.len() + 1).sum()
    }

    /// The active column of each feature.
    pub fn columns(&self, inputs: &Inputs) -> Vec<Column> {
        let mut offset = 0;
        self.vocabularies
            .iter()
            .zip(&inputs.0)
            .map(|(vocabulary, value)| {
                let column = match vocabulary.binary_search(value) {
                    Ok(i) => Column {
                        index: offset + i,
                        known: true,
                    },
                    Err(_) => Column {
                        index: offset + vocabulary.len(),
                        known: false,
                    },
                };
                offset += vocabulary.len() + 1;
                column
            })
            .collect()
    }

    /// The dense design matrix of `rows`.
    pub fn matrix(&self, rows: &[&Inputs]) -> Array2<f64> {
        let mut x = Array2::zeros((rows.len(), self.width()));
        for (i, row) in rows.iter().enumerate() {
            for column in self.columns(row) {
                x[(i, column.index)] = 1.0;
            }
        }
        x
    }
}

/// Per feature, the smoothed mean of a target for each value seen in
/// training: `(sum + smoothing * prior) / (count + smoothing)`. A value never
/// seen gets the prior (the overall mean).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetEncoding {
    pub prior: f64,
    pub tables: Vec<BTreeMap<String, f64>>,
}

impl TargetEncoding {
    pub fn fit(rows: &[&Inputs], targets: &[f64], width: usize, smoothing: f64) -> Self {
        let prior = targets.iter().sum::<f64>() / targets.len().max(1) as f64;
        let tables = (0..width)
            .map(|feature| {
                let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
                for (row, &y) in rows.iter().zip(targets) {
                    let entry = sums.entry(row.0[feature].as_str()).or_default();
                    entry.0 += y;
                    entry.1 += 1.0;
                }
                sums.into_iter()
                    .map(|(value, (sum, count))| {
                        let encoded = (sum + smoothing * prior) / (count + smoothing);
                        (value.to_string(), encoded)
                    })
                    .collect()
            })
            .collect();
        TargetEncoding { prior, tables }
    }

    pub fn encode(&self, inputs: &Inputs) -> Vec<f64> {
        self.tables
            .iter()
            .zip(&inputs.0)
            .map(|(table, value)| table.get(value).copied().unwrap_or(self.prior))
            .collect()
    }

    /// Whether `value` of `feature` was seen in training.
    pub fn knows(&self, feature: usize, value: &str) -> bool {
        self.tables[feature].contains_key(value)
    }

    /// The encodings of the training rows themselves, each computed from the
    /// other folds only (row `i` is in fold `i % folds`), so that a tree
    /// cannot learn a row's own target through the encoding of its value.
    pub fn out_of_fold(
        rows: &[&Inputs],
        targets: &[f64],
        width: usize,
        smoothing: f64,
        folds: usize,
    ) -> Array2<f64> {
        let folds = folds.max(2);
        let mut x = Array2::zeros((rows.len(), width));
        for fold in 0..folds {
            let (held, kept): (Vec<usize>, Vec<usize>) =
                (0..rows.len()).partition(|i| i % folds == fold);
            let kept_rows: Vec<&Inputs> = kept.iter().map(|&i| rows[i]).collect();
            let kept_targets: Vec<f64> = kept.iter().map(|&i| targets[i]).collect();
            let encoding = TargetEncoding::fit(&kept_rows, &kept_targets, width, smoothing);
            for i in held {
                for (j, value) in encoding.encode(rows[i]).into_iter().enumerate() {
                    x[(i, j)] = value;
                }
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(values: &[&str]) -> Inputs {
        Inputs(values.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn rare_and_unseen_values_share_the_other_column() {
        let rows = [inputs(&["a"]), inputs(&["a"]), inputs(&["b"])];
        let refs: Vec<&Inputs> = rows.iter().collect();
        let onehot = OneHot::fit(&refs, 1, 2);
        assert_eq!(onehot.vocabularies, [vec!["a".to_string()]]);
        assert_eq!(onehot.width(), 2);
        let a = onehot.columns(&inputs(&["a"]))[0];
        let b = onehot.columns(&inputs(&["b"]))[0];
        let new = onehot.columns(&inputs(&["never seen"]))[0];
        assert!(a.known && !b.known && !new.known);
        assert_eq!(b.index, new.index);
        assert_ne!(a.index, b.index);
        let x = onehot.matrix(&refs);
        assert_eq!(x.sum(), 3.0);
    }

    #[test]
    fn target_encoding_smooths_towards_the_prior_and_holds_out_folds() {
        let rows = [
            inputs(&["a"]),
            inputs(&["a"]),
            inputs(&["b"]),
            inputs(&["b"]),
        ];
        let refs: Vec<&Inputs> = rows.iter().collect();
        let targets = [1.0, 1.0, 3.0, 3.0];
        let encoding = TargetEncoding::fit(&refs, &targets, 1, 2.0);
        assert_eq!(encoding.prior, 2.0);
        assert_eq!(encoding.encode(&inputs(&["a"])), [1.5]);
        assert_eq!(encoding.encode(&inputs(&["zzz"])), [2.0]);
        assert!(encoding.knows(0, "b") && !encoding.knows(0, "zzz"));
        // Row 0 is encoded from rows 1 and 3 only (fold 0 of 2 holds rows 0 and 2).
        let x = TargetEncoding::out_of_fold(&refs, &targets, 1, 2.0, 2);
        let prior_without = 2.0; // (1 + 3) / 2
        assert_eq!(x[(0, 0)], (1.0 + 2.0 * prior_without) / 3.0);
    }
}
