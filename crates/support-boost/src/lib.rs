//! Gradient-boosted regression trees over binned features.
//!
//! What scikit-learn's `HistGradientBoosting*` and LightGBM do, at the size a
//! support team's history has (tens of thousands of rows, a dozen features):
//! histogram split finding, native categorical splits, leaf-wise growth,
//! shrinkage, early stopping on a held-out part of the training rows, and
//! the losses support-ml-predict needs: the quantile (pinball) loss, whose
//! leaves are refitted to the quantile of their residuals, for resolution
//! times and their interval; and the log loss for a yes/no outcome.
//!
//! Training is deterministic: the validation rows are drawn with a seeded
//! generator, every tie is broken by position, and nothing iterates a hash
//! map, so the same rows, options and seed give the same trees, bit for bit.
//!
//! Written here because the pure-Rust crates fell short on the incident log
//! (a scratch check on 2026-12-03, not kept in the repository: perpetual
//! 2.3's Python package, the same Rust core, gave diverging quantile and
//! Huber fits and an SLA-breach AUC of 0.751-0.764); forust is superseded by
//! perpetual, and gbdt 0.1 has neither histograms nor categorical splits.
//! LightGBM and XGBoost bind C++ libraries built from source with CMake.

mod tree;

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

pub use tree::Tree;
use tree::{fill_split_values, Growth};

/// How a feature's bins relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Bins are unordered values (a category, a channel): a split sends any
    /// subset left.
    Categorical,
    /// Bins are ordered (quantiles of a number): a split sends a prefix left.
    Ordered,
}

/// The training rows, binned, one column per feature.
#[derive(Debug, Clone)]
pub struct Features {
    /// Per feature, each row's bin.
    pub columns: Vec<Vec<u16>>,
    /// Per feature, how many bins it has (every bin in its column is below).
    pub bins: Vec<u16>,
    pub kinds: Vec<Kind>,
}

/// What the trees minimize.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "loss")]
pub enum Loss {
    /// The pinball loss of the `alpha` quantile: the output estimates that
    /// quantile of the target (0.5: the median, which minimizes the absolute
    /// error).
    Quantile { alpha: f64 },
    /// Binary log loss: the output is the log-odds of a target of 1.
    LogLoss,
}

/// Training settings; the defaults are scikit-learn's `HistGradientBoosting*`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    pub learning_rate: f64,
    /// Trees at most.
    pub max_iterations: usize,
    pub max_leaves: usize,
    /// Training rows a leaf needs at least.
    pub min_leaf: usize,
    /// L2 penalty on leaf values (Newton steps of the log loss).
    pub l2: f64,
    /// Share of the rows held out to decide when to stop; 0 grows
    /// `max_iterations` trees.
    pub validation: f64,
    /// Stop after this many trees without a better validation loss.
    pub patience: usize,
    /// Draws the validation rows.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            learning_rate: 0.1,
            max_iterations: 100,
            max_leaves: 31,
            min_leaf: 20,
            l2: 0.0,
            validation: 0.1,
            patience: 10,
            seed: 42,
        }
    }
}

/// A trained ensemble: `base` plus the sum of the trees' outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    #[serde(flatten)]
    pub loss: Loss,
    pub base: f64,
    /// Features a row has.
    pub width: usize,
    /// Each feature's share of the splits' total gain.
    pub importance: Vec<f64>,
    /// The mean loss on the validation rows with the trees kept (`None`
    /// without validation rows).
    pub validation_loss: Option<f64>,
    pub trees: Vec<Tree>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoostError {
    #[error("no training rows")]
    Empty,
    #[error("feature {feature} has {found} rows, the target has {expected}")]
    Length {
        feature: usize,
        found: usize,
        expected: usize,
    },
    #[error("feature {feature} has a bin ({bin}) outside its {bins} bins")]
    Bin { feature: usize, bin: u16, bins: u16 },
    #[error("the target is not a finite number at row {0}")]
    Target(usize),
    #[error("a log-loss target must be 0 or 1 (row {0})")]
    Binary(usize),
    #[error("the quantile must be between 0 and 1, not {0}")]
    Alpha(f64),
    #[error("{0}")]
    Model(String),
}

/// Trains on `features` and `target`; `on_tree` is called after each tree.
pub fn fit(
    features: &Features,
    target: &[f64],
    loss: Loss,
    options: &Options,
    mut on_tree: impl FnMut(),
) -> Result<Booster, BoostError> {
    check_inputs(features, target, loss)?;
    let n = target.len();
    let (training, validation) = training_and_validation(n, options);
    let base = loss.initial(training.iter().map(|&i| target[i as usize]).collect());
    let width = features.kinds.len();
    let mut output = vec![base; n];
    let mut gradients = vec![0.0; n];
    let mut hessians = vec![1.0; n];
    let mut trees = Vec::new();
    let mut gains: Vec<Vec<f64>> = Vec::new();
    let mut best = (f64::INFINITY, 0usize);
    for iteration in 0..options.max_iterations {
        for &i in &training {
            let i = i as usize;
            (gradients[i], hessians[i]) = loss.derivatives(target[i], output[i]);
        }
        let grown = Growth {
            features,
            gradients: &gradients,
            hessians: &hessians,
            max_leaves: options.max_leaves.max(2),
            min_leaf: options.min_leaf.max(1),
            l2: options.l2,
        }
        .grow(training.clone());
        let mut tree = grown.tree;
        let mut rows_per_node = vec![0.0; tree.children.len()];
        for (leaf, rows) in &grown.leaves {
            let value = options.learning_rate
                * loss.leaf_value(rows, target, &output, &gradients, &hessians, options.l2);
            tree.value[*leaf] = value;
            rows_per_node[*leaf] = rows.len() as f64;
            for &row in rows {
                output[row as usize] += value;
            }
        }
        fill_split_values(&mut tree, &mut rows_per_node);
        for &i in &validation {
            let i = i as usize;
            output[i] += tree.output(|f| features.columns[f][i]);
        }
        trees.push(tree);
        gains.push(grown.gain);
        on_tree();
        if validation.is_empty() {
            continue;
        }
        let score = validation
            .iter()
            .map(|&i| loss.loss(target[i as usize], output[i as usize]))
            .sum::<f64>()
            / validation.len() as f64;
        if score < best.0 - 1e-7 {
            best = (score, iteration + 1);
        } else if iteration + 1 - best.1 >= options.patience.max(1) {
            break;
        }
    }
    let validation_loss = if validation.is_empty() {
        None
    } else {
        trees.truncate(best.1);
        gains.truncate(best.1);
        Some(best.0)
    };
    let mut importance = vec![0.0; width];
    for tree_gain in &gains {
        for (total, g) in importance.iter_mut().zip(tree_gain) {
            *total += g;
        }
    }
    let sum: f64 = importance.iter().sum();
    if sum > 0.0 {
        importance.iter_mut().for_each(|g| *g /= sum);
    }
    Ok(Booster {
        loss,
        base,
        width,
        importance,
        validation_loss,
        trees,
    })
}

fn check_inputs(features: &Features, target: &[f64], loss: Loss) -> Result<(), BoostError> {
    if target.is_empty() {
        return Err(BoostError::Empty);
    }
    for (feature, (column, &bins)) in features.columns.iter().zip(&features.bins).enumerate() {
        if column.len() != target.len() {
            return Err(BoostError::Length {
                feature,
                found: column.len(),
                expected: target.len(),
            });
        }
        if let Some(&bin) = column.iter().find(|&&b| b >= bins) {
            return Err(BoostError::Bin { feature, bin, bins });
        }
    }
    if features.columns.len() != features.kinds.len() || features.bins.len() != features.kinds.len()
    {
        return Err(BoostError::Model(
            "features, bins and kinds differ in number".into(),
        ));
    }
    if let Some(row) = target.iter().position(|y| !y.is_finite()) {
        return Err(BoostError::Target(row));
    }
    match loss {
        Loss::Quantile { alpha } if !(alpha > 0.0 && alpha < 1.0) => Err(BoostError::Alpha(alpha)),
        Loss::LogLoss => match target.iter().position(|&y| y != 0.0 && y != 1.0) {
            Some(row) => Err(BoostError::Binary(row)),
            None => Ok(()),
        },
        Loss::Quantile { .. } => Ok(()),
    }
}

/// The training and validation rows: a seeded shuffle, its first share held
/// out. No validation when it would leave either part too small to matter.
pub fn training_and_validation(n: usize, options: &Options) -> (Vec<u32>, Vec<u32>) {
    let mut rows: Vec<u32> = (0..n as u32).collect();
    let held = (n as f64 * options.validation.clamp(0.0, 0.5)).round() as usize;
    if held < 10 || n - held < 2 * options.min_leaf.max(1) {
        return (rows, Vec::new());
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        rows.swap(i, j);
    }
    let mut training = rows.split_off(held);
    let mut validation = rows;
    training.sort_unstable();
    validation.sort_unstable();
    (training, validation)
}

impl Loss {
    fn initial(self, targets: Vec<f64>) -> f64 {
        match self {
            Loss::Quantile { alpha } => quantile_of(targets, alpha),
            Loss::LogLoss => {
                let p = targets.iter().sum::<f64>() / targets.len() as f64;
                logit(p.clamp(1e-6, 1.0 - 1e-6))
            }
        }
    }

    /// Gradient and hessian of the loss at `output` for `target`.
    fn derivatives(self, target: f64, output: f64) -> (f64, f64) {
        match self {
            Loss::Quantile { alpha } => (if target > output { -alpha } else { 1.0 - alpha }, 1.0),
            Loss::LogLoss => {
                let p = sigmoid(output);
                (p - target, (p * (1.0 - p)).max(1e-12))
            }
        }
    }

    fn loss(self, target: f64, output: f64) -> f64 {
        match self {
            Loss::Quantile { alpha } => {
                let residual = target - output;
                residual * if residual >= 0.0 { alpha } else { alpha - 1.0 }
            }
            Loss::LogLoss => {
                let p = sigmoid(output).clamp(1e-15, 1.0 - 1e-15);
                -(target * p.ln() + (1.0 - target) * (1.0 - p).ln())
            }
        }
    }

    /// The step a leaf takes before shrinkage: the quantile of its rows'
    /// residuals (the gradient only chose the splits), or a Newton step.
    fn leaf_value(
        self,
        rows: &[u32],
        target: &[f64],
        output: &[f64],
        gradients: &[f64],
        hessians: &[f64],
        l2: f64,
    ) -> f64 {
        match self {
            Loss::Quantile { alpha } => quantile_of(
                rows.iter()
                    .map(|&i| target[i as usize] - output[i as usize])
                    .collect(),
                alpha,
            ),
            Loss::LogLoss => {
                let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &i| {
                    (g + gradients[i as usize], h + hessians[i as usize])
                });
                -g / (h + l2.max(1e-12))
            }
        }
    }
}

impl Booster {
    /// The raw output for a row given as each feature's bin: the quantile
    /// itself, or the log-odds.
    pub fn output(&self, row: &[u16]) -> f64 {
        let bin_of = |f: usize| row.get(f).copied().unwrap_or(u16::MAX);
        self.base + self.trees.iter().map(|t| t.output(bin_of)).sum::<f64>()
    }

    /// The output and each feature's part in it: along the row's path in
    /// every tree, the change a split made is laid on its feature, so
    /// `output == base + sum of the parts` (up to rounding) and a part says
    /// how far that feature moved this row from the average row.
    pub fn explain(&self, row: &[u16]) -> (f64, Vec<f64>) {
        let bin_of = |f: usize| row.get(f).copied().unwrap_or(u16::MAX);
        let mut parts = vec![0.0; self.width];
        let mut output = self.base;
        for tree in &self.trees {
            let leaf = tree.walk(bin_of, |feature, from, to| {
                parts[feature] += tree.value[to] - tree.value[from];
            });
            output += tree.value[leaf];
        }
        (output, parts)
    }

    /// P(1) for a log-loss model.
    pub fn probability(&self, row: &[u16]) -> f64 {
        sigmoid(self.output(row))
    }

    /// Checks what a model file could have broken, so that predicting never
    /// panics or loops.
    pub fn check(&self) -> Result<(), BoostError> {
        if !self.base.is_finite() || self.importance.len() != self.width {
            return Err(BoostError::Model(
                "the model's base or feature count is broken".into(),
            ));
        }
        for tree in &self.trees {
            tree.check(self.width).map_err(BoostError::Model)?;
        }
        Ok(())
    }
}

/// The `q` quantile of sorted values, interpolating linearly between ranks
/// (numpy's default); NaN for no values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let below = rank.floor() as usize;
            let above = (below + 1).min(n - 1);
            sorted[below] + (sorted[above] - sorted[below]) * (rank - below as f64)
        }
    }
}

/// The `q` quantile of unsorted values; NaN for none.
pub fn quantile_of(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile(&values, q)
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests;
