//! A trained classifier: feature settings, labels, per-feature idf and
//! int8-quantized weights, and prediction with explanations.

use rayon::prelude::*;
use serde::Serialize;

use crate::features::{extract, FeatureKind, FeatureSettings, Origin};
use crate::metrics::{evaluate, Report, Scored};
use crate::train::Example;

/// Marks a bucket that no training text produced: it carries no weight.
pub(crate) const NO_ROW: u32 = u32::MAX;

/// A multi-class linear classifier over hashed TF-IDF features.
///
/// Only buckets seen in training have a row; each row holds its idf, a
/// scale, and one int8 weight per class (weight = scale × int8). Predictions
/// are computed from exactly these quantized numbers, so a model scores the
/// same right after training and after a save/load round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) settings: FeatureSettings,
    pub(crate) labels: Vec<String>,
    /// Bucket of each row, strictly increasing.
    pub(crate) buckets: Vec<u32>,
    /// Row of each bucket, or `NO_ROW`; derived from `buckets`.
    pub(crate) row_of_bucket: Vec<u32>,
    /// First row of a character n-gram; derived from `buckets`.
    pub(crate) first_char_row: u32,
    pub(crate) idf: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    /// `rows × classes`, row-major.
    pub(crate) weights: Vec<i8>,
    pub(crate) bias: Vec<f32>,
}

/// One label of a prediction with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ranked<'m> {
    pub label: &'m str,
    pub probability: f32,
}

/// The full distribution over the model's labels, most probable first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction<'m> {
    pub ranked: Vec<Ranked<'m>>,
}

impl<'m> Prediction<'m> {
    /// The most probable label.
    pub fn best(&self) -> Ranked<'m> {
        self.ranked[0]
    }
}

/// A word or phrase of the text and how much it pushed towards a label
/// (its contribution to that label's score; larger means stronger).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Folded text of the word or phrase, e.g. `reembolso` or `not received`.
    pub feature: String,
    pub kind: FeatureKind,
    pub weight: f32,
}

/// The features of one text: model rows with their TF-IDF values.
pub(crate) struct Vectorized {
    pub rows: Vec<u32>,
    pub values: Vec<f32>,
}

/// Sublinear term frequency times idf, L2-normalized separately for word
/// features (rows before `first_char_row`) and character n-grams, so the
/// many character n-grams do not drown the words (as in scikit-learn's union
/// of a word and a char vectorizer). `counts` holds (row, occurrences)
/// sorted by row; shared by training and prediction so both see the same
/// numbers.
pub(crate) fn weigh(counts: &[(u32, u32)], idf: &[f32], first_char_row: u32) -> Vectorized {
    let mut values: Vec<f32> = counts
        .iter()
        .map(|&(row, n)| (1.0 + (n as f32).ln()) * idf[row as usize])
        .collect();
    let split = counts.partition_point(|&(row, _)| row < first_char_row);
    let (words, chars) = values.split_at_mut(split);
    for block in [words, chars] {
        let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            block.iter_mut().for_each(|v| *v /= norm);
        }
    }
    Vectorized {
        rows: counts.iter().map(|&(row, _)| row).collect(),
        values,
    }
}

/// Sorts ids and counts repeats: `[5, 2, 5]` → `[(2, 1), (5, 2)]`.
pub(crate) fn count_sorted(mut ids: Vec<u32>) -> Vec<(u32, u32)> {
    ids.sort_unstable();
    let mut counts: Vec<(u32, u32)> = Vec::with_capacity(ids.len());
    for id in ids {
        match counts.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => counts.push((id, 1)),
        }
    }
    counts
}

/// Numerically stable softmax in place.
pub(crate) fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    scores.iter_mut().for_each(|s| *s /= sum);
}

impl Model {
    /// Builds a model from its parts, checking they fit together.
    pub(crate) fn from_parts(
        settings: FeatureSettings,
        labels: Vec<String>,
        buckets: Vec<u32>,
        idf: Vec<f32>,
        scales: Vec<f32>,
        weights: Vec<i8>,
        bias: Vec<f32>,
    ) -> Result<Model, String> {
        settings.validate()?;
        if labels.len() < 2 {
            return Err(format!(
                "a model needs at least 2 labels, found {}",
                labels.len()
            ));
        }
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != labels.len() || labels.iter().any(|l| l.is_empty()) {
            return Err("labels must be distinct and non-empty".into());
        }
        let rows = buckets.len();
        if idf.len() != rows
            || scales.len() != rows
            || weights.len() != rows * labels.len()
            || bias.len() != labels.len()
        {
            return Err("table sizes do not match the number of features and labels".into());
        }
        if idf
            .iter()
            .chain(&scales)
            .chain(&bias)
            .any(|v| !v.is_finite())
        {
            return Err("non-finite number in the model".into());
        }
        let mut row_of_bucket = vec![NO_ROW; settings.bucket_count()];
        let mut previous = None;
        for (row, &bucket) in buckets.iter().enumerate() {
            if previous.is_some_and(|p| p >= bucket) || bucket as usize >= row_of_bucket.len() {
                return Err("feature buckets out of order or out of range".into());
            }
            previous = Some(bucket);
            row_of_bucket[bucket as usize] = row as u32;
        }
        // Word buckets are the lower half, so word rows come first.
        let first_char_row = buckets.partition_point(|&b| b < settings.char_block_start()) as u32;
        Ok(Model {
            settings,
            labels,
            buckets,
            row_of_bucket,
            first_char_row,
            idf,
            scales,
            weights,
            bias,
        })
    }

    /// The labels this model can predict, in its internal order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// How texts are turned into features.
    pub fn settings(&self) -> &FeatureSettings {
        &self.settings
    }

    /// Number of feature rows (hashed n-grams with a weight).
    pub fn feature_count(&self) -> usize {
        self.buckets.len()
    }

    fn classes(&self) -> usize {
        self.labels.len()
    }

    /// Features of `text` known to the model, with their origins (one entry
    /// per occurrence, parallel to `rows`) and the text's folded words.
    fn occurrences(&self, text: &str) -> (Vec<u32>, Vec<Origin>, Vec<String>) {
        let mut rows = Vec::new();
        let mut origins = Vec::new();
        let words = extract(text, &self.settings, |bucket, origin| {
            let row = self.row_of_bucket[bucket as usize];
            if row != NO_ROW {
                rows.push(row);
                origins.push(origin);
            }
        });
        (rows, origins, words)
    }

    fn vectorize(&self, text: &str) -> Vectorized {
        let mut rows = Vec::new();
        extract(text, &self.settings, |bucket, _| {
            let row = self.row_of_bucket[bucket as usize];
            if row != NO_ROW {
                rows.push(row);
            }
        });
        weigh(&count_sorted(rows), &self.idf, self.first_char_row)
    }

    /// Class probabilities in label order (internal order of `labels()`).
    fn probabilities(&self, text: &str) -> Vec<f32> {
        let features = self.vectorize(text);
        let classes = self.classes();
        let mut scores = self.bias.clone();
        for (&row, &value) in features.rows.iter().zip(&features.values) {
            let row = row as usize;
            let factor = value * self.scales[row];
            let weights = &self.weights[row * classes..(row + 1) * classes];
            for (score, &w) in scores.iter_mut().zip(weights) {
                *score += factor * f32::from(w);
            }
        }
        softmax(&mut scores);
        scores
    }

    /// Ranks every label of the model by probability (ties keep label order).
    /// Only the model's labels can come out; a text with no known feature
    /// gets the prior learned in the bias.
    pub fn predict(&self, text: &str) -> Prediction<'_> {
        let probabilities = self.probabilities(text);
        let mut ranked: Vec<Ranked<'_>> = self
            .labels
            .iter()
            .zip(probabilities)
            .map(|(label, probability)| Ranked { label, probability })
            .collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        Prediction { ranked }
    }

    /// The words and phrases of `text` that pushed most towards `label`,
    /// strongest first, at most `limit`, only those with a positive weight.
    /// A word's weight includes the character n-grams inside it. Returns
    /// `None` if `label` is not one of the model's labels.
    pub fn explain(&self, text: &str, label: &str, limit: usize) -> Option<Vec<Reason>> {
        let class = self.labels.iter().position(|l| l == label)?;
        let (rows, origins, words) = self.occurrences(text);
        let counts = count_sorted(rows.clone());
        let features = weigh(&counts, &self.idf, self.first_char_row);
        let classes = self.classes();
        let mut reasons: Vec<Reason> = Vec::new();
        for (row, origin) in rows.iter().zip(&origins) {
            let at = counts
                .binary_search_by_key(row, |&(r, _)| r)
                .expect("row was counted");
            let (row, occurrences) = counts[at];
            let row = row as usize;
            // A feature occurring several times shares its weight among its occurrences.
            let weight = features.values[at]
                * self.scales[row]
                * f32::from(self.weights[row * classes + class])
                / occurrences as f32;
            let first = origin.first_word as usize;
            let feature = words[first..first + origin.words as usize].join(" ");
            match reasons
                .iter_mut()
                .find(|r| r.kind == origin.kind && r.feature == feature)
            {
                Some(reason) => reason.weight += weight,
                None => reasons.push(Reason {
                    feature,
                    kind: origin.kind,
                    weight,
                }),
            }
        }
        reasons.retain(|r| r.weight > 0.0);
        reasons.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        reasons.truncate(limit);
        Some(reasons)
    }

    /// Predicts every example (in parallel) and scores the predictions
    /// against their labels; see [`crate::metrics::evaluate`].
    pub fn evaluate(&self, examples: &[Example], target_precisions: &[f64]) -> Report {
        let best: Vec<Ranked<'_>> = examples
            .par_iter()
            .map(|e| self.predict(&e.text).best())
            .collect();
        let items: Vec<Scored<'_>> = examples
            .iter()
            .zip(&best)
            .map(|(e, p)| Scored {
                truth: &e.label,
                predicted: p.label,
                confidence: p.probability,
            })
            .collect();
        evaluate(&items, target_precisions)
    }
}
