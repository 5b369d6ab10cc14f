//! Linear models over one-hot columns: multinomial logistic regression for
//! group and agent (support-model's sparse L-BFGS: each row has one active
//! column per feature), ridge regression for satisfaction (linfa). Stored as plain weights, because every
//! record has one active column per feature and a prediction is a sum.

use linfa::prelude::*;
use linfa_linear::{Link, TweedieRegressor};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

use crate::config::ClassifierSettings;
use crate::encode::Column;
use crate::stats::{quantile, round_to};
use crate::TrainError;

/// Weights are stored with this many decimals.
const DIGITS: i32 = 4;

fn rounded(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    values.into_iter().map(|w| round_to(w, DIGITS)).collect()
}

/// P(class) = softmax over classes of intercept + active weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Multinomial {
    pub classes: Vec<String>,
    /// Training tickets per class.
    pub counts: Vec<usize>,
    pub intercepts: Vec<f64>,
    /// Per class, a weight per one-hot column.
    pub weights: Vec<Vec<f64>>,
    /// `weights` column by column (every class's weight of column 0, then of
    /// column 1, ...), made on first use.
    #[serde(skip)]
    by_column: OnceLock<Vec<f64>>,
}

impl Multinomial {
    /// Fits on the rows with a label whose class has at least `min_examples`
    /// rows; `None` when fewer than two classes qualify.
    pub fn fit(
        active: &[Vec<Column>],
        width: usize,
        labels: &[Option<&str>],
        settings: &ClassifierSettings,
    ) -> Result<Option<Self>, TrainError> {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for label in labels.iter().flatten() {
            *counts.entry(label).or_default() += 1;
        }
        counts.retain(|_, n| *n >= settings.min_examples.max(1));
        if counts.len() < 2 {
            return Ok(None);
        }
        let classes: Vec<&str> = counts.keys().copied().collect();
        let (rows, targets): (Vec<Vec<(u32, f32)>>, Vec<u32>) = labels
            .iter()
            .zip(active)
            .filter_map(|(label, columns)| {
                let class = classes.binary_search(&(*label)?).ok()?;
                let row = columns.iter().map(|c| (c.index as u32, 1.0)).collect();
                Some((row, class as u32))
            })
            .unzip();
        // alpha weighs the penalty against the summed loss: scikit-learn's C = 1 / alpha.
        let (weights, bias) = support_model::fit_multinomial(
            &rows,
            width,
            &targets,
            classes.len(),
            (1.0 / settings.alpha) as f32,
            settings.max_iterations,
        );
        let k = classes.len();
        Ok(Some(Multinomial {
            classes: classes.iter().map(|c| c.to_string()).collect(),
            counts: counts.values().copied().collect(),
            intercepts: rounded(bias.iter().map(|&b| f64::from(b))),
            weights: (0..k)
                .map(|class| rounded(weights.iter().skip(class).step_by(k).map(|&w| f64::from(w))))
                .collect(),
            by_column: OnceLock::new(),
        }))
    }

    pub fn probabilities(&self, columns: &[Column]) -> Vec<f64> {
        // Column by column over a class-contiguous copy of the weights: one
        // short run of loads per active column, not one far load per class
        // and column. The sums run in the same order as over `weights`.
        let by_column = self.by_column.get_or_init(|| {
            let width = self.weights.first().map_or(0, Vec::len);
            (0..width)
                .flat_map(|column| self.weights.iter().map(move |w| w[column]))
                .collect()
        });
        let classes = self.intercepts.len();
        let mut sums = vec![0.0; classes];
        for column in columns {
            let weights = &by_column[column.index * classes..][..classes];
            for (sum, w) in sums.iter_mut().zip(weights) {
                *sum += w;
            }
        }
        let scores: Vec<f64> = self
            .intercepts
            .iter()
            .zip(&sums)
            .map(|(b, s)| b + s)
            .collect();
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
        let total: f64 = exps.iter().sum();
        exps.into_iter().map(|e| e / total).collect()
    }

    /// Each feature's contribution to class `k`'s score.
    pub fn effects(&self, k: usize, columns: &[Column]) -> Vec<f64> {
        columns.iter().map(|c| self.weights[k][c.index]).collect()
    }

    /// The `k` most probable class indices, most probable first (ties by
    /// index). Only those are sorted: a ticket needs three of 138 agents.
    pub fn top(probabilities: &[f64], k: usize) -> Vec<usize> {
        let before = |a: usize, b: usize| {
            probabilities[b]
                .total_cmp(&probabilities[a])
                .then(a.cmp(&b))
                .is_lt()
        };
        // One pass keeping the best k in order: most classes are compared
        // once, with the last of the k.
        let mut best: Vec<usize> = Vec::with_capacity(k + 1);
        for class in 0..probabilities.len() {
            if best.len() == k && best.last().is_none_or(|&last| !before(class, last)) {
                continue;
            }
            let at = best.partition_point(|&kept| before(kept, class));
            best.insert(at, class);
            best.truncate(k);
        }
        best
    }
}

/// Rating = intercept + active weights, clamped to 1-5, with the interval
/// and confidence read from the training residuals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ridge {
    pub intercept: f64,
    pub weights: Vec<f64>,
    /// Training mean: the naive baseline.
    pub mean: f64,
    /// Residual quantiles bounding the interval.
    pub residuals: [f64; 2],
    /// Share of training ratings within one point of the prediction.
    pub within_one: f64,
}

impl Ridge {
    pub fn fit(
        x: &Array2<f64>,
        y: &[f64],
        alpha: f64,
        interval: [f64; 2],
    ) -> Result<Self, TrainError> {
        let targets = Array1::from_vec(y.to_vec());
        let fitted = TweedieRegressor::params()
            .power(0.0)
            .link(Link::Identity)
            .alpha(alpha)
            .fit(&DatasetBase::new(x.view(), targets.view()))
            .map_err(|e| TrainError::Fit(format!("ridge regression: {e}")))?;
        let mut ridge = Ridge {
            intercept: round_to(fitted.intercept, DIGITS),
            weights: rounded(fitted.coef.iter().copied()),
            mean: round_to(y.iter().sum::<f64>() / y.len().max(1) as f64, DIGITS),
            residuals: [0.0, 0.0],
            within_one: 0.0,
        };
        let fitted_values = x.dot(&Array1::from_vec(ridge.weights.clone())) + ridge.intercept;
        let mut residuals: Vec<f64> = y
            .iter()
            .zip(&fitted_values)
            .map(|(y, f)| y - f.clamp(1.0, 5.0))
            .collect();
        residuals.sort_by(f64::total_cmp);
        ridge.residuals = [
            round_to(quantile(&residuals, interval[0]), DIGITS),
            round_to(quantile(&residuals, interval[1]), DIGITS),
        ];
        let near = residuals.iter().filter(|r| r.abs() <= 1.0).count();
        ridge.within_one = round_to(near as f64 / residuals.len().max(1) as f64, 3);
        Ok(ridge)
    }

    pub fn predict(&self, columns: &[Column]) -> f64 {
        (self.intercept + self.effects(columns).iter().sum::<f64>()).clamp(1.0, 5.0)
    }

    /// Each feature's contribution in rating points.
    pub fn effects(&self, columns: &[Column]) -> Vec<f64> {
        columns.iter().map(|c| self.weights[c.index]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two one-hot features of two values each: columns 0-1 and 2-3.
    fn design(rows: &[(usize, usize)]) -> Array2<f64> {
        let mut x = Array2::zeros((rows.len(), 4));
        for (i, &(a, b)) in rows.iter().enumerate() {
            x[(i, a)] = 1.0;
            x[(i, 2 + b)] = 1.0;
        }
        x
    }

    fn active(rows: &[(usize, usize)]) -> Vec<Vec<Column>> {
        rows.iter().map(|&(a, b)| cols(a, b)).collect()
    }

    fn cols(a: usize, b: usize) -> Vec<Column> {
        vec![
            Column {
                index: a,
                known: true,
            },
            Column {
                index: 2 + b,
                known: true,
            },
        ]
    }

    #[test]
    fn multinomial_ranks_the_class_of_the_value() {
        let rows: Vec<(usize, usize)> = (0..120).map(|i| (i % 2, (i / 3) % 2)).collect();
        let labels: Vec<Option<&str>> = rows
            .iter()
            .enumerate()
            .map(|(i, &(a, _))| match (a, i % 7) {
                (_, 0) => Some("rare"),
                (0, _) => Some("billing"),
                _ => Some("tech"),
            })
            .collect();
        let settings = ClassifierSettings {
            alpha: 0.1,
            max_iterations: 100,
            min_examples: 20,
        };
        let model = Multinomial::fit(&active(&rows), 4, &labels, &settings)
            .unwrap()
            .unwrap();
        assert_eq!(
            model.classes,
            ["billing", "tech"],
            "`rare` has too few examples"
        );
        let p = model.probabilities(&cols(1, 0));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(model.classes[Multinomial::top(&p, 1)[0]], "tech");
        let one_class = vec![Some("only"); rows.len()];
        assert!(Multinomial::fit(&active(&rows), 4, &one_class, &settings)
            .unwrap()
            .is_none());
    }

    #[test]
    fn ridge_predicts_ratings_within_range() {
        let rows: Vec<(usize, usize)> = (0..100).map(|i| (i % 2, (i / 2) % 2)).collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|&(a, b)| if a == 1 { 4.5 } else { 2.0 } + 0.2 * b as f64)
            .collect();
        let model = Ridge::fit(&design(&rows), &y, 0.01, [0.1, 0.9]).unwrap();
        let happy = model.predict(&cols(1, 1));
        let unhappy = model.predict(&cols(0, 0));
        assert!(happy > 4.0 && unhappy < 2.6, "{happy} {unhappy}");
        assert!((1.0..=5.0).contains(&happy));
        assert!(model.within_one > 0.9);
        assert!(model.residuals[0] <= model.residuals[1]);
    }

    /// Summed column by column, each class's score is the one its own
    /// weights give, to the last bit.
    #[test]
    fn probabilities_are_the_softmax_of_each_class_s_own_sum() {
        let weights: Vec<Vec<f64>> = (0..5)
            .map(|class| {
                (0..7)
                    .map(|column| ((class * 7 + column) as f64 * 0.37).sin())
                    .collect()
            })
            .collect();
        let model = Multinomial {
            classes: (0..5).map(|c| format!("c{c}")).collect(),
            counts: vec![1; 5],
            intercepts: vec![0.1, -0.2, 0.3, 0.0, 0.05],
            weights,
            by_column: OnceLock::new(),
        };
        let columns = cols(1, 0);
        let scores: Vec<f64> = (0..5)
            .map(|k| {
                model.intercepts[k]
                    + columns
                        .iter()
                        .map(|c| model.weights[k][c.index])
                        .sum::<f64>()
            })
            .collect();
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
        let expected: Vec<f64> = scores.iter().map(|s| (s - top).exp() / total).collect();
        assert_eq!(model.probabilities(&columns), expected);
    }

    /// The top `k` are the first `k` of the whole order, ties by index,
    /// whatever the probabilities (many equal ones included).
    #[test]
    fn the_top_classes_are_the_head_of_the_full_ranking() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..2000 {
            let n = 1 + round % 40;
            let p: Vec<f64> = (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Few distinct values: ties are common.
                    (state % 5) as f64 / 4.0
                })
                .collect();
            let mut full: Vec<usize> = (0..n).collect();
            full.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
            for k in [1, 3, n, n + 2] {
                assert_eq!(Multinomial::top(&p, k), full[..k.min(n)], "{p:?} k={k}");
            }
        }
    }
}
