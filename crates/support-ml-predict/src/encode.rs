//! Categorical values as numbers: one-hot columns for the linear models,
//! and the same vocabularies as bins for the boosted trees.

use std::collections::BTreeMap;

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
        self.columns_of(&self.bins(inputs))
    }

    /// The active column of each feature, from its bin (one search of the
    /// vocabularies serves the trees and the linear models).
    pub fn columns_of(&self, bins: &[u16]) -> Vec<Column> {
        let mut offset = 0;
        self.vocabularies
            .iter()
            .zip(bins)
            .map(|(vocabulary, &bin)| {
                let column = Column {
                    index: offset + bin as usize,
                    known: (bin as usize) < vocabulary.len(),
                };
                offset += vocabulary.len() + 1;
                column
            })
            .collect()
    }

    /// Each feature's bin for the trees: its value's place in the
    /// vocabulary, or the `other` bin after the vocabulary. A vocabulary
    /// holds fewer than `u16::MAX` values (training refuses more, and so
    /// does a model file), so the bin is exact.
    pub fn bins(&self, inputs: &Inputs) -> Vec<u16> {
        self.vocabularies
            .iter()
            .zip(&inputs.0)
            .map(|(vocabulary, value)| {
                let bin = vocabulary.binary_search(value).unwrap_or(vocabulary.len());
                u16::try_from(bin).unwrap_or(u16::MAX)
            })
            .collect()
    }

    /// The rows as the trees' training features, every one categorical.
    pub fn features(&self, rows: &[&Inputs]) -> support_boost::Features {
        let binned: Vec<Vec<u16>> = rows.iter().map(|row| self.bins(row)).collect();
        support_boost::Features {
            columns: (0..self.vocabularies.len())
                .map(|f| binned.iter().map(|row| row[f]).collect())
                .collect(),
            bins: self
                .vocabularies
                .iter()
                .map(|v| u16::try_from(v.len() + 1).unwrap_or(u16::MAX))
                .collect(),
            kinds: vec![support_boost::Kind::Categorical; self.vocabularies.len()],
        }
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
        assert_eq!(onehot.bins(&inputs(&["a"])), [0]);
        assert_eq!(onehot.bins(&inputs(&["never seen"])), [1]);
        let features = onehot.features(&refs);
        assert_eq!(
            (features.columns, features.bins),
            (vec![vec![0, 0, 1]], vec![2])
        );
    }
}
