//! Training: hashed TF-IDF features, then multinomial logistic regression
//! with L2 regularization (the objective of scikit-learn's
//! `LogisticRegression(C)`), minimized with L-BFGS.
//!
//! Every step is deterministic: labels and features are sorted, and the
//! parallel parts (per-text scores, per-feature gradients) write disjoint
//! outputs whose sums are always taken in the same order, so the same data
//! gives the same model bytes whatever the thread count.

use std::collections::VecDeque;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use support_text::{tokenize, Token};

use crate::error::TrainError;
use crate::features::{extract, FeatureSettings};
use crate::model::{count_sorted, softmax, weigh, DenseBlock, Model};
use crate::neighbours::{Neighbours, VoteSettings};
use crate::rows::RowIndex;

/// A labelled text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
}

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub features: FeatureSettings,
    /// Inverse L2 regularization strength, as scikit-learn's `C`: larger fits the training data more closely.
    pub c: f32,
    /// Features seen in fewer training texts than this are dropped (smaller model).
    pub min_df: u32,
    /// Upper bound on L-BFGS iterations (each costs two passes over the data);
    /// training usually stops earlier, once the loss stops improving.
    pub max_iterations: u32,
    /// Multiplies each text's dense vector (an L2-normalized sentence
    /// embedding), when one is given: larger lets it weigh more against the
    /// word features under the same regularization.
    #[serde(default = "default_dense_scale")]
    pub dense_scale: f32,
    /// Keep the training texts' dense vectors in the model, so that the
    /// nearest vote beside the weights (see [`Neighbours`]); only with
    /// dense vectors.
    #[serde(default)]
    pub neighbours: Option<VoteSettings>,
}

fn default_dense_scale() -> f32 {
    1.0
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureSettings::default(),
            c: 10.0,
            min_df: 1,
            max_iterations: 100,
            dense_scale: default_dense_scale(),
            neighbours: None,
        }
    }
}

/// Training data as sparse TF-IDF rows, both by text (CSR) and by feature (CSC).
struct Matrix {
    classes: usize,
    /// Row (in bucket order) of each training feature.
    order: Vec<u32>,
    /// Class of each text.
    targets: Vec<u32>,
    text_start: Vec<usize>,
    text_features: Vec<u32>,
    text_values: Vec<f32>,
    feature_start: Vec<usize>,
    feature_texts: Vec<u32>,
    feature_values: Vec<f32>,
}

impl Matrix {
    fn texts(&self) -> usize {
        self.targets.len()
    }

    fn features(&self) -> usize {
        self.feature_start.len() - 1
    }

    fn text(&self, i: usize) -> (&[u32], &[f32]) {
        let span = self.text_start[i]..self.text_start[i + 1];
        (&self.text_features[span.clone()], &self.text_values[span])
    }

    fn feature(&self, f: usize) -> (&[u32], &[f32]) {
        let span = self.feature_start[f]..self.feature_start[f + 1];
        (
            &self.feature_texts[span.clone()],
            &self.feature_values[span],
        )
    }
}

/// Trains a model (with int8-quantized weights, exactly as it will be saved).
/// Labels are sorted, so their order never depends on the order of the
/// examples.
pub fn train(examples: &[Example], options: &TrainOptions) -> Result<Model, TrainError> {
    train_on_features(examples, &|text| tokenize(text), None, options, &|_| {})
}

/// [`train`] with each text's tokens made by `tokens_of` instead of
/// [`tokenize`], optionally a dense vector per example (a sentence
/// embedding, the same length for all) learnt beside the words. A tool
/// adds its own cue tokens (sentiment adds its lexicon's verdicts), and
/// must make the same tokens and vectors when it predicts with
/// [`Model::analyze_with`]. `on_iteration` is called after each optimizer
/// iteration (at most `options.max_iterations`), for a progress bar.
pub fn train_on_features(
    examples: &[Example],
    tokens_of: &(dyn Fn(&str) -> Vec<Token> + Sync),
    dense: Option<&[Vec<f32>]>,
    options: &TrainOptions,
    on_iteration: &dyn Fn(u32),
) -> Result<Model, TrainError> {
    options
        .features
        .validate()
        .map_err(TrainError::InvalidOptions)?;
    if !(options.c.is_finite() && options.c > 0.0) {
        return Err(TrainError::InvalidOptions(format!(
            "c must be positive, got {}",
            options.c
        )));
    }
    if examples.is_empty() {
        return Err(TrainError::NoExamples);
    }
    if !(options.dense_scale.is_finite() && options.dense_scale > 0.0) {
        return Err(TrainError::InvalidOptions(format!(
            "dense_scale must be positive, got {}",
            options.dense_scale
        )));
    }
    if let Some(vote) = &options.neighbours {
        vote.validate().map_err(TrainError::InvalidOptions)?;
    }
    if let Some(vectors) = dense {
        let dims = vectors.first().map_or(0, Vec::len);
        if vectors.len() != examples.len()
            || dims == 0
            || vectors
                .iter()
                .any(|v| v.len() != dims || !v.iter().all(|x| x.is_finite()))
        {
            return Err(TrainError::InvalidOptions(format!(
                "one finite vector of the same length per example is needed: {} vectors for {} examples",
                vectors.len(),
                examples.len()
            )));
        }
    }
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(TrainError::SingleLabel(labels.remove(0)));
    }
    if labels.iter().any(|l| l.is_empty()) {
        return Err(TrainError::EmptyLabel);
    }

    let bucket_counts: Vec<Vec<(u32, u32)>> = examples
        .par_iter()
        .map(|e| {
            let mut buckets = Vec::new();
            extract(&tokens_of(&e.text), &options.features, &mut |b| {
                buckets.push(b)
            });
            count_sorted(&buckets).0
        })
        .collect();
    let (buckets, idf) = vocabulary(
        &bucket_counts,
        options.features.bucket_count(),
        options.min_df,
    );
    let rows = RowIndex::new(&buckets, options.features.bucket_count())
        .expect("vocabulary buckets are increasing and in range");
    let targets: Vec<u32> = examples
        .iter()
        .map(|e| {
            labels
                .binary_search(&e.label)
                .expect("label collected above") as u32
        })
        .collect();
    let neighbours = dense
        .zip(options.neighbours)
        .map(|(vectors, vote)| Neighbours::new(vote, vectors, targets.clone()));
    let first_char_row =
        buckets.partition_point(|&b| b < options.features.char_block_start()) as u32;
    let matrix = build_matrix(
        &bucket_counts,
        &rows,
        &idf,
        first_char_row,
        targets,
        labels.len(),
        dense.map(|vectors| (vectors, options.dense_scale)),
    );

    let (mut weights, bias) = minimize(&matrix, options.c, options.max_iterations, on_iteration);
    let k = labels.len();
    // The dense features come after every word feature.
    let dense = dense.map(|vectors| DenseBlock {
        dims: vectors[0].len(),
        scale: options.dense_scale,
        weights: weights.split_off(matrix.order.len() * k),
    });
    // Back from training order (frequent first) to model rows (bucket order).
    let model_weights = matrix.in_feature_order(&weights);
    let (scales, quantized) = quantize(&model_weights, k);
    Ok(Model::from_parts(
        options.features,
        labels,
        buckets,
        idf,
        scales,
        quantized,
        bias,
    )
    .and_then(|model| model.with_dense(dense))
    .and_then(|model| model.with_neighbours(neighbours))
    .expect("trainer builds consistent models"))
}

/// Kept buckets (document frequency ≥ `min_df`, increasing) and their smooth
/// idf, `ln((1 + n) / (1 + df)) + 1`, as scikit-learn computes it.
fn vocabulary(texts: &[Vec<(u32, u32)>], bucket_count: usize, min_df: u32) -> (Vec<u32>, Vec<f32>) {
    let mut df = vec![0u32; bucket_count];
    for counts in texts {
        for &(b, _) in counts {
            df[b as usize] += 1;
        }
    }
    let n = texts.len() as f64;
    let mut buckets = Vec::new();
    let mut idf = Vec::new();
    for (b, &d) in df.iter().enumerate() {
        if d > 0 && d >= min_df {
            buckets.push(b as u32);
            idf.push((((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0) as f32);
        }
    }
    (buckets, idf)
}

fn build_matrix(
    bucket_counts: &[Vec<(u32, u32)>],
    row_index: &RowIndex,
    idf: &[f32],
    first_char_row: u32,
    targets: Vec<u32>,
    classes: usize,
    dense: Option<(&[Vec<f32>], f32)>,
) -> Matrix {
    let mut text_start = vec![0];
    let mut text_features = Vec::new();
    let mut text_values = Vec::new();
    // Each text's vector, if any, follows its words as features numbered
    // after every word feature; the renumbering below leaves them in place.
    let words = idf.len();
    let dims = dense.map_or(0, |(vectors, _)| vectors[0].len());
    for (i, counts) in bucket_counts.iter().enumerate() {
        // Buckets are increasing and rows follow bucket order, so rows stay sorted.
        let rows: Vec<(u32, u32)> = counts
            .iter()
            .filter_map(|&(b, n)| row_index.row(b).map(|row| (row, n)))
            .collect();
        let v = weigh(&rows, idf, first_char_row);
        text_features.extend(v.rows);
        text_values.extend(v.values);
        if let Some((vectors, scale)) = dense {
            text_features.extend((0..dims).map(|d| (words + d) as u32));
            text_values.extend(vectors[i].iter().map(|v| v * scale));
        }
        text_start.push(text_features.len());
    }
    Matrix::from_rows(
        text_start,
        text_features,
        text_values,
        (words, first_char_row),
        dims,
        targets,
        classes,
    )
}

impl Matrix {
    /// The matrix of rows given by text (CSR): `sorted` features, the first
    /// `sorted.1` of them in a first block, then `unsorted` ones numbered
    /// after them (a dense vector) that keep their place.
    fn from_rows(
        text_start: Vec<usize>,
        mut text_features: Vec<u32>,
        text_values: Vec<f32>,
        sorted: (usize, u32),
        unsorted: usize,
        targets: Vec<u32>,
        classes: usize,
    ) -> Matrix {
        let (words, first_block_end) = sorted;
        // Train with features numbered by decreasing frequency (within each
        // block): the few rows most texts use then sit together in cache,
        // which halves the time of a pass. (For prediction the same order
        // gained only 6%, less than the larger file it would need, so models
        // keep bucket order.)
        let mut frequency = vec![0u32; words];
        for &row in text_features.iter().filter(|&&row| (row as usize) < words) {
            frequency[row as usize] += 1;
        }
        let mut order: Vec<u32> = (0..words as u32).collect();
        order.sort_by_key(|&row| {
            (
                row >= first_block_end,
                std::cmp::Reverse(frequency[row as usize]),
            )
        });
        let mut position = vec![0u32; words];
        for (f, &row) in order.iter().enumerate() {
            position[row as usize] = f as u32;
        }
        for row in text_features.iter_mut() {
            if let Some(&f) = position.get(*row as usize) {
                *row = f;
            }
        }
        let features = words + unsorted;
        let texts = text_start.len() - 1;
        // Transpose; texts are visited in order, so each feature's texts are sorted.
        let mut feature_start = vec![0usize; features + 1];
        for &f in &text_features {
            feature_start[f as usize + 1] += 1;
        }
        for f in 0..features {
            feature_start[f + 1] += feature_start[f];
        }
        let mut next = feature_start.clone();
        let mut feature_texts = vec![0u32; text_features.len()];
        let mut feature_values = vec![0f32; text_features.len()];
        for i in 0..texts {
            for at in text_start[i]..text_start[i + 1] {
                let f = text_features[at] as usize;
                feature_texts[next[f]] = i as u32;
                feature_values[next[f]] = text_values[at];
                next[f] += 1;
            }
        }
        Matrix {
            classes,
            order,
            targets,
            text_start,
            text_features,
            text_values,
            feature_start,
            feature_texts,
            feature_values,
        }
    }

    /// Weights from training order (frequent first) back to feature order.
    fn in_feature_order(&self, weights: &[f32]) -> Vec<f32> {
        let k = self.classes;
        let mut ordered = vec![0f32; self.order.len() * k];
        for (f, &row) in self.order.iter().enumerate() {
            let row = row as usize;
            ordered[row * k..(row + 1) * k].copy_from_slice(&weights[f * k..(f + 1) * k]);
        }
        ordered
    }
}

/// Multinomial logistic regression on sparse rows of `(feature, value)`
/// (features below `features`, each row's increasing), with the objective
/// and optimizer of [`train`]: L2 penalty `C` as scikit-learn's, L-BFGS for
/// at most `max_iterations`. Deterministic. Returns the weights
/// (`features × classes`, feature-major) and the biases (`classes`).
pub fn fit_multinomial(
    rows: &[Vec<(u32, f32)>],
    features: usize,
    targets: &[u32],
    classes: usize,
    c: f32,
    max_iterations: u32,
) -> (Vec<f32>, Vec<f32>) {
    let mut text_start = Vec::with_capacity(rows.len() + 1);
    text_start.push(0);
    let mut text_features = Vec::new();
    let mut text_values = Vec::new();
    for row in rows {
        text_features.extend(row.iter().map(|&(f, _)| f));
        text_values.extend(row.iter().map(|&(_, x)| x));
        text_start.push(text_features.len());
    }
    let matrix = Matrix::from_rows(
        text_start,
        text_features,
        text_values,
        (features, features as u32),
        0,
        targets.to_vec(),
        classes,
    );
    let (weights, bias) = minimize(&matrix, c, max_iterations, &|_| {});
    (matrix.in_feature_order(&weights), bias)
}

/// Texts per parallel task: fixed, so results never depend on the thread count.
const CHUNK: usize = 256;

/// The objective `mean cross-entropy + λ/2 ‖W‖²` with `λ = 1 / (C n)`
/// (scikit-learn's `C Σ loss + ½‖W‖²` divided by `C n`; the bias is not
/// penalized). Parameters are `[W (features × classes), bias (classes)]`.
struct Objective<'a> {
    matrix: &'a Matrix,
    lambda: f32,
}

impl Objective<'_> {
    fn dimension(&self) -> usize {
        (self.matrix.features() + 1) * self.matrix.classes
    }

    /// Loss at `params`, and the residuals `p - y` of every text (text-major).
    fn loss(&self, params: &[f32]) -> (f64, Vec<f32>) {
        let m = self.matrix;
        let k = m.classes;
        let (weights, bias) = params.split_at(m.features() * k);
        let mut residuals = vec![0f32; m.texts() * k];
        let chunk_losses: Vec<f64> = residuals
            .par_chunks_mut(CHUNK * k)
            .enumerate()
            .map(|(chunk, out)| {
                let mut loss = 0f64;
                for (j, r) in out.chunks_mut(k).enumerate() {
                    let i = chunk * CHUNK + j;
                    r.copy_from_slice(bias);
                    let (features, values) = m.text(i);
                    for (&f, &x) in features.iter().zip(values) {
                        let w = &weights[f as usize * k..(f as usize + 1) * k];
                        r.iter_mut().zip(w).for_each(|(s, &w)| *s += x * w);
                    }
                    softmax(r);
                    let target = m.targets[i] as usize;
                    loss -= f64::from(r[target].max(1e-30)).ln();
                    r[target] -= 1.0;
                }
                loss
            })
            .collect();
        let data_loss = chunk_losses.iter().sum::<f64>() / m.texts() as f64;
        let penalty = dot(weights, weights);
        (
            data_loss + 0.5 * f64::from(self.lambda) * penalty,
            residuals,
        )
    }

    fn gradient(&self, params: &[f32], residuals: &[f32]) -> Vec<f32> {
        let m = self.matrix;
        let k = m.classes;
        let n = m.texts() as f32;
        let mut gradient = vec![0f32; params.len()];
        let (g_weights, g_bias) = gradient.split_at_mut(m.features() * k);
        g_weights
            .par_chunks_mut(CHUNK * k)
            .enumerate()
            .for_each(|(chunk, out)| {
                for (j, g) in out.chunks_mut(k).enumerate() {
                    let f = chunk * CHUNK + j;
                    let (texts, values) = m.feature(f);
                    for (&i, &x) in texts.iter().zip(values) {
                        let r = &residuals[i as usize * k..(i as usize + 1) * k];
                        g.iter_mut().zip(r).for_each(|(g, &r)| *g += x * r);
                    }
                    let w = &params[f * k..(f + 1) * k];
                    g.iter_mut()
                        .zip(w)
                        .for_each(|(g, &w)| *g = *g / n + self.lambda * w);
                }
            });
        for r in residuals.chunks(k) {
            g_bias.iter_mut().zip(r).for_each(|(g, &r)| *g += r);
        }
        g_bias.iter_mut().for_each(|g| *g /= n);
        gradient
    }
}

/// Elements per parallel task in vector operations: fixed, so sums are
/// always taken in the same order.
const BLOCK: usize = 1 << 15;

/// `a · b`, accumulated in f32 lanes within a block and in f64 across blocks.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let blocks: Vec<f64> = a
        .par_chunks(BLOCK)
        .zip(b.par_chunks(BLOCK))
        .map(|(a, b)| {
            let mut lanes = [0f32; 8];
            let (a_lanes, b_lanes) = (a.chunks_exact(8), b.chunks_exact(8));
            let tail: f32 = a_lanes
                .remainder()
                .iter()
                .zip(b_lanes.remainder())
                .map(|(x, y)| x * y)
                .sum();
            for (x, y) in a_lanes.zip(b_lanes) {
                for lane in 0..8 {
                    lanes[lane] += x[lane] * y[lane];
                }
            }
            lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail)
        })
        .collect();
    blocks.iter().sum()
}

/// `out[i] = a[i] + alpha * b[i]`.
fn add_scaled(out: &mut [f32], a: &[f32], alpha: f32, b: &[f32]) {
    out.par_chunks_mut(BLOCK)
        .zip(a.par_chunks(BLOCK))
        .zip(b.par_chunks(BLOCK))
        .for_each(|((out, a), b)| {
            out.iter_mut()
                .zip(a)
                .zip(b)
                .for_each(|((o, &a), &b)| *o = a + alpha * b)
        });
}

/// `out[i] = a[i] - b[i]`.
fn subtract(out: &mut [f32], a: &[f32], b: &[f32]) {
    add_scaled(out, a, -1.0, b);
}

/// A remembered L-BFGS step: parameter change `s`, gradient change `y`, and `s · y`.
struct Step {
    s: Vec<f32>,
    y: Vec<f32>,
    sy: f64,
}

/// Steps of curvature L-BFGS remembers. 7 or 10 took as many iterations on
/// Banking77, and each remembered step costs four passes over all weights.
const HISTORY: usize = 5;
/// Training stops when the loss fell by less than `TOLERANCE` (relative) per
/// iteration over the last `WINDOW` iterations; a single iteration can stall
/// while progress goes on. On Banking77 this stops near 55 iterations, when
/// dev accuracy no longer moves.
const TOLERANCE: f64 = 1e-4;
const WINDOW: usize = 5;

/// L-BFGS with a backtracking (Armijo) line search. Returns the weights and the bias.
fn minimize(
    matrix: &Matrix,
    c: f32,
    max_iterations: u32,
    on_iteration: &dyn Fn(u32),
) -> (Vec<f32>, Vec<f32>) {
    let objective = Objective {
        matrix,
        lambda: 1.0 / (c * matrix.texts() as f32),
    };
    let dim = objective.dimension();
    let mut params = vec![0f32; dim];
    let (mut loss, residuals) = objective.loss(&params);
    let mut gradient = objective.gradient(&params, &residuals);
    let mut losses = vec![loss];
    let mut history: VecDeque<Step> = VecDeque::with_capacity(HISTORY);
    let mut direction = vec![0f32; dim];
    let mut candidate = vec![0f32; dim];
    for iteration in 0..max_iterations {
        on_iteration(iteration + 1);
        search_direction(&gradient, &history, &mut direction);
        let slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            break;
        }
        // The first direction is the raw gradient: start with a unit-length step.
        let mut step = if iteration == 0 {
            1.0 / dot(&gradient, &gradient).sqrt()
        } else {
            1.0
        };
        let accepted = loop {
            add_scaled(&mut candidate, &params, step as f32, &direction);
            let (new_loss, residuals) = objective.loss(&candidate);
            if new_loss <= loss + 1e-4 * step * slope {
                break Some((new_loss, residuals));
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        let Some((new_loss, residuals)) = accepted else {
            break;
        };
        let new_gradient = objective.gradient(&candidate, &residuals);
        let mut remembered = if history.len() == HISTORY {
            history.pop_front().expect("history is full")
        } else {
            Step {
                s: vec![0f32; dim],
                y: vec![0f32; dim],
                sy: 0.0,
            }
        };
        subtract(&mut remembered.s, &candidate, &params);
        subtract(&mut remembered.y, &new_gradient, &gradient);
        remembered.sy = dot(&remembered.s, &remembered.y);
        // Curvature must be positive for the update to stay a descent method.
        if remembered.sy > 1e-12 {
            history.push_back(remembered);
        }
        std::mem::swap(&mut params, &mut candidate);
        gradient = new_gradient;
        loss = new_loss;
        losses.push(loss);
        let converged = losses.len() > WINDOW
            && losses[losses.len() - 1 - WINDOW] - loss <= WINDOW as f64 * TOLERANCE * loss;
        if converged {
            break;
        }
    }
    let bias = params.split_off(matrix.features() * matrix.classes);
    (params, bias)
}

/// The L-BFGS search direction `-H g` (two-loop recursion), written to `out`.
fn search_direction(gradient: &[f32], history: &VecDeque<Step>, out: &mut [f32]) {
    out.par_chunks_mut(BLOCK)
        .zip(gradient.par_chunks(BLOCK))
        .for_each(|(q, g)| q.iter_mut().zip(g).for_each(|(q, &g)| *q = -g));
    let mut alphas = Vec::with_capacity(history.len());
    for step in history.iter().rev() {
        let alpha = dot(&step.s, out) / step.sy;
        axpy(out, -alpha as f32, &step.y);
        alphas.push(alpha);
    }
    if let Some(newest) = history.back() {
        let gamma = (newest.sy / dot(&newest.y, &newest.y)) as f32;
        out.par_chunks_mut(BLOCK)
            .for_each(|q| q.iter_mut().for_each(|q| *q *= gamma));
    }
    for (step, alpha) in history.iter().zip(alphas.iter().rev()) {
        let beta = dot(&step.y, out) / step.sy;
        axpy(out, (alpha - beta) as f32, &step.s);
    }
}

/// `out[i] += alpha * x[i]`.
fn axpy(out: &mut [f32], alpha: f32, x: &[f32]) {
    out.par_chunks_mut(BLOCK)
        .zip(x.par_chunks(BLOCK))
        .for_each(|(out, x)| out.iter_mut().zip(x).for_each(|(o, &x)| *o += alpha * x));
}

/// Per-row int8 quantization: each feature's weights are stored as
/// `scale × q` with `q` in -127..=127, which keeps the largest weights of
/// every feature exact to 0.4% and makes the file 4× smaller than f32.
fn quantize(weights: &[f32], classes: usize) -> (Vec<f32>, Vec<i8>) {
    let mut scales = Vec::with_capacity(weights.len() / classes);
    let mut quantized = Vec::with_capacity(weights.len());
    for row in weights.chunks(classes) {
        let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = max / 127.0;
        scales.push(scale);
        quantized.extend(row.iter().map(|&w| {
            if scale > 0.0 {
                (w / scale).round() as i8
            } else {
                0
            }
        }));
    }
    (scales, quantized)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn examples(pairs: &[(&str, &str)]) -> Vec<Example> {
        pairs
            .iter()
            .map(|&(text, label)| Example {
                text: text.into(),
                label: label.into(),
            })
            .collect()
    }

    /// Three intents in Spanish and English, a few phrasings each.
    pub(crate) fn bilingual_examples() -> Vec<Example> {
        examples(&[
            ("I want a refund for my order", "refund"),
            ("please give me my money back", "refund"),
            ("refund the payment, the product was broken", "refund"),
            ("quiero un reembolso de mi pedido", "refund"),
            ("devuélvanme el dinero por favor", "refund"),
            ("solicito la devolución del dinero del pago", "refund"),
            ("I cannot log in to my account", "access"),
            ("forgot my password, reset it please", "access"),
            ("the login page rejects my password", "access"),
            ("no puedo iniciar sesión en mi cuenta", "access"),
            ("olvidé mi contraseña, ayúdenme a restablecerla", "access"),
            ("la página de acceso rechaza mi contraseña", "access"),
            ("where is my package? it has not arrived", "delivery"),
            ("the delivery is late, track my shipment", "delivery"),
            ("my parcel never arrived", "delivery"),
            ("¿dónde está mi paquete? no ha llegado", "delivery"),
            (
                "el envío llega tarde, quiero rastrear el pedido",
                "delivery",
            ),
            ("mi paquete nunca llegó", "delivery"),
        ])
    }

    pub(crate) fn bilingual_model() -> Model {
        train(&bilingual_examples(), &TrainOptions::default()).unwrap()
    }

    /// [`bilingual_model`] with a 3-number vector per text (its length, its
    /// vowels, its spaces, scaled): a model with dense weights.
    pub(crate) fn bilingual_dense_model() -> Model {
        bilingual_dense_model_with(&TrainOptions::default())
    }

    /// [`bilingual_dense_model`] keeping its texts' vectors to vote.
    pub(crate) fn bilingual_neighbours_model() -> Model {
        bilingual_dense_model_with(&TrainOptions {
            neighbours: Some(VoteSettings {
                neighbours: 3,
                temperature: 0.05,
                weight: 0.3,
            }),
            ..TrainOptions::default()
        })
    }

    fn bilingual_dense_model_with(options: &TrainOptions) -> Model {
        let examples = bilingual_examples();
        let vectors: Vec<Vec<f32>> = examples
            .iter()
            .map(|e| {
                let count = |f: fn(char) -> bool| e.text.chars().filter(|&c| f(c)).count() as f32;
                vec![
                    e.text.len() as f32 / 50.0,
                    count(|c| "aeiou".contains(c)) / 20.0,
                    count(|c| c == ' ') / 10.0,
                ]
            })
            .collect();
        train_on_features(
            &examples,
            &|t| tokenize(t),
            Some(&vectors),
            options,
            &|_| {},
        )
        .unwrap()
    }

    #[test]
    fn learns_a_separable_dataset_perfectly_in_both_languages() {
        let data = bilingual_examples();
        let model = bilingual_model();
        for example in &data {
            assert_eq!(
                model.predict(&example.text).best().label,
                example.label,
                "{}",
                example.text
            );
        }
        // Unseen phrasings, with accents and case changed: folding and
        // character n-grams carry the decision.
        for (text, label) in [
            ("REEMBOLSO por favor", "refund"),
            ("I need my refund", "refund"),
            ("no puedo entrar, contrasena olvidada", "access"),
            ("password not working", "access"),
            ("el paquete no llego", "delivery"),
            ("package has not arrived yet", "delivery"),
        ] {
            assert_eq!(model.predict(text).best().label, label, "{text}");
        }
    }

    #[test]
    fn same_data_gives_identical_bytes_whatever_the_thread_count() {
        let data = bilingual_examples();
        let options = TrainOptions::default();
        let first = train(&data, &options).unwrap().to_bytes();
        let second = train(&data, &options).unwrap().to_bytes();
        assert_eq!(first, second);
        let single_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let third = single_thread.install(|| train(&data, &options).unwrap().to_bytes());
        assert_eq!(first, third);
    }

    #[test]
    fn label_order_does_not_depend_on_example_order() {
        let mut data = bilingual_examples();
        let forward = train(&data, &TrainOptions::default()).unwrap();
        data.reverse();
        let reversed = train(&data, &TrainOptions::default()).unwrap();
        assert_eq!(forward.labels(), ["access", "delivery", "refund"]);
        assert_eq!(forward.labels(), reversed.labels());
    }

    #[test]
    fn predictions_rank_exactly_the_model_labels() {
        let model = bilingual_model();
        for text in ["", "zzz qqq", "😡😡", "refund", "¿¿¿", "a b c d e f g"] {
            let prediction = model.predict(text);
            let mut labels: Vec<&str> = prediction.ranked.iter().map(|r| r.label).collect();
            labels.sort();
            assert_eq!(labels, ["access", "delivery", "refund"], "{text:?}");
            let total: f32 = prediction.ranked.iter().map(|r| r.probability).sum();
            assert!((total - 1.0).abs() < 1e-5);
            assert!(prediction
                .ranked
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability));
        }
    }

    #[test]
    fn explains_with_words_of_the_text() {
        let model = bilingual_model();
        let reasons = model
            .explain("Quiero el REEMBOLSO del pago", "refund", 3)
            .unwrap();
        assert!(!reasons.is_empty() && reasons.len() <= 3);
        assert!(
            reasons.iter().any(|r| r.feature == "reembolso"),
            "{reasons:?}"
        );
        assert!(reasons.windows(2).all(|w| w[0].weight >= w[1].weight));
        assert!(reasons.iter().all(|r| r.weight > 0.0));
        let reasons = model
            .explain("my package has not arrived", "delivery", 5)
            .unwrap();
        assert!(
            reasons.iter().any(|r| r.feature.contains("arrived")),
            "{reasons:?}"
        );
        assert!(model.explain("anything", "billing", 3).is_none());
    }

    #[test]
    fn rejects_unusable_training_data() {
        assert_eq!(
            train(&[], &TrainOptions::default()),
            Err(TrainError::NoExamples)
        );
        let one_label = examples(&[("a", "x"), ("b", "x")]);
        assert_eq!(
            train(&one_label, &TrainOptions::default()),
            Err(TrainError::SingleLabel("x".into()))
        );
        let empty_label = examples(&[("a", "x"), ("b", "")]);
        assert_eq!(
            train(&empty_label, &TrainOptions::default()),
            Err(TrainError::EmptyLabel)
        );
        let bad_c = TrainOptions {
            c: 0.0,
            ..TrainOptions::default()
        };
        assert!(matches!(
            train(&bilingual_examples(), &bad_c),
            Err(TrainError::InvalidOptions(_))
        ));
    }

    #[test]
    fn min_df_drops_rare_features() {
        let data = bilingual_examples();
        let all = train(&data, &TrainOptions::default()).unwrap();
        let pruned = train(
            &data,
            &TrainOptions {
                min_df: 2,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert!(pruned.feature_count() < all.feature_count());
        assert!(pruned.to_bytes().len() < all.to_bytes().len());
    }

    /// Texts that say nothing apart (the same words) with vectors that do:
    /// the model learns from the vectors, keeps them through a save, and
    /// without a vector falls back to the words alone.
    #[test]
    fn dense_vectors_are_learnt_beside_the_words_and_saved() {
        let examples = examples(&[
            ("the same words", "a"),
            ("the same words", "a"),
            ("the same words", "b"),
            ("the same words", "b"),
        ]);
        let vectors = vec![
            vec![1.0, 0.0],
            vec![0.9, 0.1],
            vec![0.0, 1.0],
            vec![0.1, 0.9],
        ];
        let options = TrainOptions::default();
        let model = train_on_features(
            &examples,
            &|t| tokenize(t),
            Some(&vectors),
            &options,
            &|_| {},
        )
        .unwrap();
        assert_eq!(model.dense_dims(), 2);
        let tokens = tokenize("the same words");
        let label_of = |model: &Model, v: Option<&[f32]>| {
            let analysis = model.analyze_with(&tokens, v);
            let best = analysis.predict().best();
            (best.label.to_string(), best.probability)
        };
        let a = label_of(&model, Some(&[0.95, 0.05]));
        let b = label_of(&model, Some(&[0.05, 0.95]));
        assert_eq!((a.0.as_str(), b.0.as_str()), ("a", "b"));
        assert!(a.1 > 0.8 && b.1 > 0.8, "{a:?} {b:?}");
        let (_, even) = label_of(&model, None);
        assert!((even - 0.5).abs() < 0.05, "{even}");

        let bytes = model.to_bytes();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
        let loaded = Model::from_bytes(&bytes).unwrap();
        assert_eq!(loaded, model);
        assert_eq!(label_of(&loaded, Some(&[0.05, 0.95])), b);
        // A model without vectors keeps the first format, byte for byte.
        let sparse = train(&examples, &options).unwrap().to_bytes();
        assert_eq!(u32::from_le_bytes(sparse[8..12].try_into().unwrap()), 1);

        let err = train_on_features(
            &examples,
            &|t| tokenize(t),
            Some(&vectors[..3]),
            &options,
            &|_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("3 vectors for 4 examples"), "{err}");
    }
}
